package cassandra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

// directSpec is what a direct conversation's claim records, so that a claim
// whose creator died before writing the conversation can be finished by the
// next caller.
type directSpec struct {
	Conversation storage.Conversation
	Members      []storage.Member
}

// CreateConversation implements storage.Store.
//
// A direct conversation is claimed first (INSERT ... IF NOT EXISTS on
// direct_conversations, one Paxos transaction), then written. The claim
// carries the whole conversation and the write timestamp, so whoever finds
// a claim without its conversation row (the creator died in between, or is
// still writing) writes the same cells again and returns it: concurrent
// creators of one pair all get one conversation, and a crash cannot leave a
// pair that can never be created.
func (s *Store) CreateConversation(ctx context.Context, c storage.Conversation, members []storage.Member) (storage.Conversation, bool, error) {
	c.CreatedAt, c.LastActivityAt, c.LastSeq = cql.Timestamp(c.CreatedAt), cql.Timestamp(c.LastActivityAt), 0
	members = append([]storage.Member(nil), members...)
	for i := range members {
		members[i].ConversationID = c.ID
		members[i].JoinedAt = cql.Timestamp(members[i].JoinedAt)
	}
	writeTS := time.Now().UnixMicro()
	if c.DirectKey == "" {
		if err := s.writeConversation(ctx, c, members, writeTS); err != nil {
			return c, false, err
		}
		return c, true, nil
	}
	row := map[string]any{}
	err := s.query(ctx, "SELECT conversation_id, spec, write_ts FROM direct_conversations WHERE direct_key = ?", c.DirectKey).MapScan(row)
	if err == nil {
		conv, err := s.finishDirect(ctx, row)
		return conv, false, err
	}
	if !errors.Is(err, gocql.ErrNotFound) {
		return c, false, wrap(err, "read direct conversation %s", c.DirectKey)
	}
	spec, err := json.Marshal(directSpec{Conversation: c, Members: members})
	if err != nil {
		return c, false, err
	}
	row = map[string]any{}
	applied, err := s.lwt(ctx, "INSERT INTO direct_conversations (direct_key, conversation_id, spec, write_ts) VALUES (?, ?, ?, ?) IF NOT EXISTS",
		c.DirectKey, c.ID, string(spec), writeTS).MapScanCAS(row)
	if err != nil {
		return c, false, wrap(err, "claim direct conversation %s", c.DirectKey)
	}
	if !applied {
		conv, err := s.finishDirect(ctx, row)
		return conv, false, err
	}
	if err := s.writeConversation(ctx, c, members, writeTS); err != nil {
		return c, false, err
	}
	return c, true, nil
}

// finishDirect returns the conversation of an existing direct claim,
// writing it first if its creator has not (yet).
func (s *Store) finishDirect(ctx context.Context, claim map[string]any) (storage.Conversation, error) {
	id, _ := claim["conversation_id"].(string)
	got, err := s.Conversations(ctx, []string{id})
	if err != nil {
		return storage.Conversation{}, err
	}
	if c, ok := got[id]; ok {
		return c, nil
	}
	var spec directSpec
	text, _ := claim["spec"].(string)
	if err := json.Unmarshal([]byte(text), &spec); err != nil {
		return storage.Conversation{}, fmt.Errorf("cassandra: direct conversation %s: bad claim: %w", id, err)
	}
	writeTS, _ := claim["write_ts"].(int64)
	if err := s.writeConversation(ctx, spec.Conversation, spec.Members, writeTS); err != nil {
		return storage.Conversation{}, err
	}
	return spec.Conversation, nil
}

// memberChunk bounds the rows of one batch (Cassandra refuses batches over
// 50 KiB by default).
const memberChunk = 100

// writeConversation writes a new conversation: members and their
// user_conversations rows first, then the sequencer (from then on messages
// can be appended), then the conversations row, which makes it visible to
// Conversations. All with one write timestamp, so it can be rerun.
func (s *Store) writeConversation(ctx context.Context, c storage.Conversation, members []storage.Member, writeTS int64) error {
	var chunks [][]storage.Member
	for i := 0; i < len(members); i += memberChunk {
		chunks = append(chunks, members[i:min(i+memberChunk, len(members))])
	}
	err := cql.Parallel(ctx, len(chunks)+len(members), func(ctx context.Context, i int) error {
		if i < len(chunks) {
			var stmts []stmt
			for _, m := range chunks[i] {
				stmts = append(stmts, stmt{`INSERT INTO members (conversation_id, user_id, active, role, joined_at, joined_seq)
					VALUES (?, ?, true, ?, ?, ?) USING TIMESTAMP ?`, []any{c.ID, m.UserID, string(m.Role), m.JoinedAt, m.JoinedSeq, writeTS}})
				stmts = append(stmts, cursorStmts(c.ID, m.UserID, m.ReadSeq, m.DeliveredSeq)...)
			}
			if i == 0 {
				// The count starts here; from now on only conditional
				// batches move it (membercount.go).
				stmts = append(stmts, stmt{"UPDATE members USING TIMESTAMP ? SET member_count = ? WHERE conversation_id = ?",
					[]any{writeTS, storage.DistinctMembers(members), c.ID}})
			}
			// One partition: the unlogged batch is one atomic mutation.
			return s.batch(ctx, gocql.UnloggedBatch, true, stmts...).Exec()
		}
		m := members[i-len(chunks)]
		return s.query(ctx, "INSERT INTO user_conversations (user_id, conversation_id) VALUES (?, ?) USING TIMESTAMP ?", m.UserID, c.ID, writeTS).Exec()
	})
	if err != nil {
		return wrap(err, "create conversation %s: write members", c.ID)
	}
	// The initial last_seq is written at timestamp 0, so rerunning this can
	// never overwrite a seq a Paxos transaction has since claimed.
	if err := s.query(ctx, "INSERT INTO message_sequencer (conversation_id, last_seq) VALUES (?, 0) USING TIMESTAMP 0", c.ID).Exec(); err != nil {
		return wrap(err, "create conversation %s: sequencer", c.ID)
	}
	stmts := []stmt{{`INSERT INTO conversations (id, kind, title, created_by, created_at, direct_key) VALUES (?, ?, ?, ?, ?, ?) USING TIMESTAMP ?`,
		[]any{c.ID, string(c.Kind), c.Title, c.CreatedBy, c.CreatedAt, c.DirectKey, writeTS}}}
	if !c.LastActivityAt.IsZero() {
		stmts = append(stmts, stmt{"UPDATE conversations USING TIMESTAMP ? SET last_activity_at = ? WHERE id = ?",
			[]any{c.LastActivityAt.UnixMicro(), c.LastActivityAt, c.ID}})
	}
	if err := s.batch(ctx, gocql.UnloggedBatch, true, stmts...).Exec(); err != nil {
		return wrap(err, "create conversation %s", c.ID)
	}
	return nil
}

// cursorStmts writes cursor max registers (only values above zero).
func cursorStmts(conversationID, userID string, readSeq, deliveredSeq int64) []stmt {
	var out []stmt
	if readSeq > 0 {
		out = append(out, stmt{"UPDATE members USING TIMESTAMP ? SET read_seq = ? WHERE conversation_id = ? AND user_id = ?",
			[]any{readSeq, readSeq, conversationID, userID}})
	}
	if deliveredSeq > 0 {
		out = append(out, stmt{"UPDATE members USING TIMESTAMP ? SET delivered_seq = ? WHERE conversation_id = ? AND user_id = ?",
			[]any{deliveredSeq, deliveredSeq, conversationID, userID}})
	}
	return out
}

// Conversations implements storage.Store.
func (s *Store) Conversations(ctx context.Context, ids []string) (map[string]storage.Conversation, error) {
	return lookupEach(ctx, ids, s.conversation)
}

// conversation reads one conversation. A row without a kind holds only
// registers written by a send racing a creation that has not finished: it
// does not exist yet.
func (s *Store) conversation(ctx context.Context, id string) (storage.Conversation, error) {
	var c storage.Conversation
	var kind string
	var createdAt, lastActivity time.Time
	err := s.query(ctx, `SELECT kind, title, created_by, created_at, direct_key, last_seq, last_activity_at FROM conversations WHERE id = ?`, id).
		Scan(&kind, &c.Title, &c.CreatedBy, &createdAt, &c.DirectKey, &c.LastSeq, &lastActivity)
	if errors.Is(err, gocql.ErrNotFound) || err == nil && kind == "" {
		return c, fmt.Errorf("cassandra: conversation %s: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return c, wrap(err, "read conversation %s", id)
	}
	c.ID, c.Kind = id, storage.ConversationKind(kind)
	c.CreatedAt, c.LastActivityAt = utc(createdAt), utc(lastActivity)
	s.heads.hint(id, c.LastSeq)
	return c, nil
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// RenameConversation implements storage.Store.
func (s *Store) RenameConversation(ctx context.Context, conversationID, title string, at time.Time) error {
	if _, err := s.conversation(ctx, conversationID); err != nil {
		return err
	}
	if err := s.query(ctx, "UPDATE conversations SET title = ? WHERE id = ?", title, conversationID).Exec(); err != nil {
		return wrap(err, "rename conversation %s", conversationID)
	}
	return wrap(s.bumpConversation(ctx, conversationID, 0, at), "rename conversation %s", conversationID)
}

// bumpConversation raises a conversation's LastSeq (when seq > 0) and
// LastActivityAt registers: each is written with its own value as the
// write timestamp, so the largest value wins.
func (s *Store) bumpConversation(ctx context.Context, conversationID string, seq int64, at time.Time) error {
	var stmts []stmt
	if seq > 0 {
		stmts = append(stmts, stmt{"UPDATE conversations USING TIMESTAMP ? SET last_seq = ? WHERE id = ?", []any{seq, seq, conversationID}})
	}
	if !at.IsZero() {
		at = cql.Timestamp(at)
		stmts = append(stmts, stmt{"UPDATE conversations USING TIMESTAMP ? SET last_activity_at = ? WHERE id = ?", []any{at.UnixMicro(), at, conversationID}})
	}
	if len(stmts) == 0 {
		return nil
	}
	// One partition: an unlogged batch is one mutation, applied atomically.
	return s.batch(ctx, gocql.UnloggedBatch, true, stmts...).Exec()
}
