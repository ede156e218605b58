package cassandra

import (
	"context"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

// PinMessage implements storage.Store. It reads the conversation's pins
// and their version (a static column), and adds the pin in a conditional
// batch that also bumps the version only if nobody changed it since: a
// compare-and-set on the whole partition, so concurrent pinners from any
// process never pass the limit, and nothing is counted that could drift.
// A lost race reads again (at most pinAttempts times).
func (s *Store) PinMessage(ctx context.Context, p storage.Pin, limit int) (bool, error) {
	p.PinnedAt = cql.Timestamp(p.PinnedAt)
	for range pinAttempts {
		pins, version, err := s.pinsAndVersion(ctx, p.ConversationID)
		if err != nil {
			return false, err
		}
		for _, q := range pins {
			if q.Seq == p.Seq {
				return false, nil
			}
		}
		if len(pins) >= limit {
			return false, storage.ErrPinLimit
		}
		cond := "IF version = ?"
		args := []any{version + 1, p.ConversationID, version}
		if version == 0 {
			cond, args = "IF version = null", args[:2]
		}
		b := s.batch(ctx, gocql.LoggedBatch, false,
			stmt{"UPDATE pins SET version = ? WHERE conversation_id = ? " + cond, args},
			stmt{"INSERT INTO pins (conversation_id, seq, pinned_by, pinned_at) VALUES (?, ?, ?, ?)", []any{p.ConversationID, p.Seq, p.PinnedBy, p.PinnedAt}},
		)
		applied, iter, err := b.MapExecCAS(map[string]any{})
		if iter != nil {
			_ = iter.Close()
		}
		if err != nil {
			return false, wrap(err, "pin %s", storage.MessageID(p.ConversationID, p.Seq))
		}
		if applied {
			return true, nil
		}
	}
	return false, wrap(storage.ErrUnavailable, "pin %s: too much contention", storage.MessageID(p.ConversationID, p.Seq))
}

// pinAttempts bounds PinMessage's compare-and-set retries.
const pinAttempts = 20

// pinsAndVersion reads a conversation's pins and the partition's version
// (0 when it was never pinned).
func (s *Store) pinsAndVersion(ctx context.Context, conversationID string) ([]storage.Pin, int64, error) {
	iter := s.query(ctx, "SELECT seq, pinned_by, pinned_at, version FROM pins WHERE conversation_id = ?", conversationID).Iter()
	var (
		pins    []storage.Pin
		version int64
		seq     *int64
		p       = storage.Pin{ConversationID: conversationID}
	)
	for iter.Scan(&seq, &p.PinnedBy, &p.PinnedAt, &version) {
		if seq == nil { // only the static version is left
			continue
		}
		p.Seq, p.PinnedAt = *seq, p.PinnedAt.UTC()
		pins = append(pins, p)
	}
	if err := iter.Close(); err != nil {
		return nil, 0, wrap(err, "pins of %s", conversationID)
	}
	storage.SortPins(pins)
	return pins, version, nil
}

// UnpinMessage implements storage.Store.
func (s *Store) UnpinMessage(ctx context.Context, conversationID string, seq int64) (bool, error) {
	applied, err := s.lwt(ctx, "DELETE FROM pins WHERE conversation_id = ? AND seq = ? IF EXISTS",
		conversationID, seq).MapScanCAS(map[string]any{})
	if err != nil {
		return false, wrap(err, "unpin %s", storage.MessageID(conversationID, seq))
	}
	return applied, nil
}

// Pins implements storage.Store: one small partition.
func (s *Store) Pins(ctx context.Context, conversationID string) ([]storage.Pin, error) {
	pins, _, err := s.pinsAndVersion(ctx, conversationID)
	return pins, err
}

// AddEdit implements storage.Store.
func (s *Store) AddEdit(ctx context.Context, e storage.Edit) error {
	err := s.query(ctx, "INSERT INTO message_edits (conversation_id, seq, replaced_at, body, written_at) VALUES (?, ?, ?, ?, ?)",
		e.ConversationID, e.Seq, cql.Timestamp(e.ReplacedAt), e.Body, cql.Timestamp(e.WrittenAt)).Exec()
	return wrap(err, "record edit of %s", storage.MessageID(e.ConversationID, e.Seq))
}

// Edits implements storage.Store: one partition, newest first.
func (s *Store) Edits(ctx context.Context, conversationID string, seq int64, before time.Time, limit int) ([]storage.Edit, error) {
	if limit <= 0 {
		return nil, nil
	}
	q := "SELECT replaced_at, body, written_at FROM message_edits WHERE conversation_id = ? AND seq = ? LIMIT ?"
	args := []any{conversationID, seq, limit}
	if !before.IsZero() {
		q = "SELECT replaced_at, body, written_at FROM message_edits WHERE conversation_id = ? AND seq = ? AND replaced_at < ? LIMIT ?"
		args = []any{conversationID, seq, cql.Timestamp(before), limit}
	}
	iter := s.query(ctx, q, args...).Iter()
	var (
		edits []storage.Edit
		e     = storage.Edit{ConversationID: conversationID, Seq: seq}
	)
	for iter.Scan(&e.ReplacedAt, &e.Body, &e.WrittenAt) {
		e.ReplacedAt, e.WrittenAt = e.ReplacedAt.UTC(), e.WrittenAt.UTC()
		edits = append(edits, e)
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "edits of %s", storage.MessageID(conversationID, seq))
	}
	return edits, nil
}

// DropEdits implements storage.Store: one partition delete.
func (s *Store) DropEdits(ctx context.Context, conversationID string, seq int64) error {
	err := s.query(ctx, "DELETE FROM message_edits WHERE conversation_id = ? AND seq = ?", conversationID, seq).Exec()
	return wrap(err, "drop edits of %s", storage.MessageID(conversationID, seq))
}

// PutForward implements storage.Store: INSERT ... IF NOT EXISTS keeps the
// first record of a key.
func (s *Store) PutForward(ctx context.Context, f storage.Forward) error {
	k := f.Key
	_, err := s.lwt(ctx, `INSERT INTO forwards (conversation_id, sender_id, client_message_id, source_message_id, source_sender_id, forwarded_at)
		VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
		k.ConversationID, k.SenderID, k.ClientMessageID, f.SourceMessageID, f.SourceSenderID, cql.Timestamp(f.ForwardedAt)).MapScanCAS(map[string]any{})
	return wrap(err, "record forward into %s", k.ConversationID)
}

// Forwards implements storage.Store: one single-row partition per key, read
// in parallel.
func (s *Store) Forwards(ctx context.Context, keys []storage.ForwardKey) (map[storage.ForwardKey]storage.Forward, error) {
	found := make([]*storage.Forward, len(keys))
	err := cql.Parallel(ctx, len(keys), func(ctx context.Context, i int) error {
		k := keys[i]
		f := storage.Forward{Key: k}
		iter := s.query(ctx, `SELECT source_message_id, source_sender_id, forwarded_at FROM forwards
			WHERE conversation_id = ? AND sender_id = ? AND client_message_id = ?`, k.ConversationID, k.SenderID, k.ClientMessageID).Iter()
		if iter.Scan(&f.SourceMessageID, &f.SourceSenderID, &f.ForwardedAt) {
			f.ForwardedAt = f.ForwardedAt.UTC()
			found[i] = &f
		}
		return wrap(iter.Close(), "forward into %s", k.ConversationID)
	})
	if err != nil {
		return nil, err
	}
	out := make(map[storage.ForwardKey]storage.Forward, len(keys))
	for _, f := range found {
		if f != nil {
			out[f.Key] = *f
		}
	}
	return out, nil
}
