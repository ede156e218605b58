package cassandra

import (
	"context"
	"time"

	"messenger/cql"
)

// streamedChunk bounds the ids of one IN query of Streamed.
const streamedChunk = 100

// MarkStreamed implements storage.Store with an IF NOT EXISTS insert: one
// marker sees applied. An unknown outcome (timeout) is resolved by reading
// the row: it is there, so the mark is set, and reported as not new.
func (s *Store) MarkStreamed(ctx context.Context, conversationID string) (bool, error) {
	applied, err := s.lwt(ctx, "INSERT INTO streamed_conversations (conversation_id, marked_at) VALUES (?, ?) IF NOT EXISTS",
		conversationID, cql.Timestamp(time.Now())).MapScanCAS(map[string]any{})
	if err != nil {
		got, rerr := s.Streamed(ctx, []string{conversationID})
		if rerr == nil && got[conversationID] {
			return false, nil
		}
		return false, wrap(err, "mark %s streamed", conversationID)
	}
	return applied, nil
}

// Streamed implements storage.Store.
func (s *Store) Streamed(ctx context.Context, ids []string) (map[string]bool, error) {
	out := make(map[string]bool)
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), streamedChunk)]
		ids = ids[len(chunk):]
		iter := s.query(ctx, "SELECT conversation_id FROM streamed_conversations WHERE conversation_id IN ?", chunk).Iter()
		var id string
		for iter.Scan(&id) {
			out[id] = true
		}
		if err := iter.Close(); err != nil {
			return nil, wrap(err, "streamed conversations")
		}
	}
	return out, nil
}

// SetStreamedMember implements storage.Store.
func (s *Store) SetStreamedMember(ctx context.Context, userID, conversationID string, member bool) error {
	q := "DELETE FROM user_streamed_conversations WHERE user_id = ? AND conversation_id = ?"
	if member {
		q = "INSERT INTO user_streamed_conversations (user_id, conversation_id) VALUES (?, ?)"
	}
	return wrap(s.query(ctx, q, userID, conversationID).Exec(), "streamed index of %s", userID)
}

// StreamedOf implements storage.Store.
func (s *Store) StreamedOf(ctx context.Context, userID string) ([]string, error) {
	iter := s.query(ctx, "SELECT conversation_id FROM user_streamed_conversations WHERE user_id = ?", userID).Iter()
	var (
		ids []string
		id  string
	)
	for iter.Scan(&id) {
		ids = append(ids, id)
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "streamed conversations of %s", userID)
	}
	return ids, nil
}
