package cassandra

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/storage"
)

// The sequencer tip as stored: the last batch encoded in a static column,
// and reading it back.

// batchEntry is one message of the sequencer's last_batch column.
type batchEntry struct {
	Seq      int64  `json:"q"`
	SenderID string `json:"s"`
	ClientID string `json:"c,omitempty"`
	Body     string `json:"b"`
	SentAt   int64  `json:"t"` // µs since the epoch
	Refs     string `json:"r,omitempty"`
}

func encodeBatch(msgs []storage.Message) string {
	out := make([]batchEntry, len(msgs))
	for i, m := range msgs {
		out[i] = batchEntry{Seq: m.Seq, SenderID: m.SenderID, ClientID: m.ClientMessageID, Body: m.Body, SentAt: m.SentAt.UnixMicro(), Refs: encodeRefs(m.MessageRefs)}
	}
	// No HTML escaping: "<" as \u003c would make the transaction six
	// times the body it carries.
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(out)
	return strings.TrimSuffix(b.String(), "\n")
}

func decodeBatch(conversationID, s string) []storage.Message {
	var in []batchEntry
	if s == "" || json.Unmarshal([]byte(s), &in) != nil {
		return nil
	}
	out := make([]storage.Message, len(in))
	for i, e := range in {
		out[i] = storage.Message{
			ID: storage.MessageID(conversationID, e.Seq), ConversationID: conversationID, Seq: e.Seq,
			SenderID: e.SenderID, ClientMessageID: e.ClientID, Body: e.Body, SentAt: time.UnixMicro(e.SentAt).UTC(),
			MessageRefs: decodeRefs(e.Refs),
		}
	}
	return out
}

// tipFromRow reads the sequencer's static columns. A last_batch that does
// not end at last_seq was left by a process that predates it (migration
// 017) and claimed one message since: the single-message columns hold it.
func tipFromRow(conversationID string, r map[string]any) tip {
	var t tip
	t.last, _ = r["last_seq"].(int64)
	t.writeTS, _ = r["last_write_ts"].(int64)
	t.attempt, _ = r["last_attempt"].(gocql.UUID)
	t.forever, _ = r["idem_forever"].(bool)
	batch, _ := r["last_batch"].(string)
	if msgs := decodeBatch(conversationID, batch); len(msgs) > 0 && msgs[len(msgs)-1].Seq == t.last && msgs[0].Seq+int64(len(msgs))-1 == t.last {
		t.msgs = msgs
		return t
	}
	if t.last == 0 {
		return t
	}
	m := storage.Message{ID: storage.MessageID(conversationID, t.last), ConversationID: conversationID, Seq: t.last}
	m.SenderID, _ = r["last_sender_id"].(string)
	m.ClientMessageID, _ = r["last_client_message_id"].(string)
	m.Body, _ = r["last_body"].(string)
	if at, ok := r["last_sent_at"].(time.Time); ok && !at.IsZero() {
		m.SentAt = at.UTC()
	}
	refs, _ := r["last_refs"].(string)
	m.MessageRefs = decodeRefs(refs)
	t.msgs = []storage.Message{m}
	return t
}

// readTip reads a conversation's sequencer tip, or ErrNotFound when the
// conversation does not exist.
func (s *Store) readTip(ctx context.Context, conversationID string) (tip, error) {
	row := map[string]any{}
	err := s.query(ctx, `SELECT last_seq, last_batch, last_sender_id, last_client_message_id, last_body, last_sent_at, last_write_ts, last_attempt, last_refs, idem_forever
		FROM message_sequencer WHERE conversation_id = ? LIMIT 1`, conversationID).MapScan(row)
	if isNotFound(err) {
		return tip{}, fmt.Errorf("cassandra: conversation %s: %w", conversationID, storage.ErrNotFound)
	}
	if err != nil {
		return tip{}, wrap(err, "read sequencer of %s", conversationID)
	}
	return tipFromRow(conversationID, row), nil
}
