package cassandra

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

// head is one claimed message and the write timestamp of all its cells.
type head struct {
	msg     storage.Message
	writeTS int64
}

// persistTip writes every message of a claimed batch where readers find
// it: messages rows, message_ids rows, thread, mention and unread-exception
// entries, the conversation's row in the fan-out outbox's active set (at
// most one per conversation, process and minute, see outbox.go), and then,
// once all of those are written, the conversation's LastSeq and
// LastActivityAt registers. Rows that share a partition go in one
// single-partition unlogged batch (one mutation), so a batch of k messages
// in one bucket from one sender is two writes plus the entries and the
// registers, not 2k+1. Every write reuses the claim's timestamp, so running
// it twice, from anywhere, writes the same cells.
//
// The registers come last because LastSeq is the tip's durable mark:
// LastSeq >= t.last means every row of the batch is written (tipDurable),
// so a process that finds another's tip reads one register instead of
// rewriting the batch, and the outbox sweep (which lists seqs up to
// LastSeq) never lists a message whose row is not written yet.
func (s *Store) persistTip(ctx context.Context, conversationID string, t tip) error {
	var (
		keys    []string
		groups  = map[string][]stmt{}
		singles []*gocql.Query
		newest  time.Time
	)
	add := func(key string, st stmt) {
		if _, ok := groups[key]; !ok {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], st)
	}
	for _, m := range t.msgs {
		h := head{msg: m, writeTS: t.writeTS}
		add("m\x00"+strconv.FormatInt(bucketOf(m.Seq), 10), stmt{`INSERT INTO messages (conversation_id, bucket, seq, sender_id, client_message_id, body, sent_at, refs)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?`,
			[]any{m.ConversationID, bucketOf(m.Seq), m.Seq, m.SenderID, m.ClientMessageID, m.Body, m.SentAt, encodeRefs(m.MessageRefs), t.writeTS}})
		if m.ClientMessageID != "" && !t.forever {
			add("i\x00"+m.SenderID, stmt{`INSERT INTO message_ids (conversation_id, sender_id, client_message_id, seq) VALUES (?, ?, ?, ?) USING TIMESTAMP ?`,
				[]any{m.ConversationID, m.SenderID, m.ClientMessageID, m.Seq, t.writeTS}})
		}
		singles = append(singles, s.refWrites(ctx, h)...)
		if m.SentAt.After(newest) {
			newest = m.SentAt
		}
	}
	minute := minuteOf(time.Now())
	active := s.outbox.needsActive(conversationID, minute, t.first())
	if active {
		add("a", stmt{"INSERT INTO fanout_active (minute, shard, conversation_id, first_seq) VALUES (?, ?, ?, ?)",
			[]any{minute, activeShard(conversationID), conversationID, t.first()}})
	}
	err := cql.Parallel(ctx, len(keys)+len(singles), func(ctx context.Context, i int) error {
		if i >= len(keys) {
			return singles[i-len(keys)].WithContext(ctx).Exec()
		}
		st := groups[keys[i]]
		if len(st) == 1 {
			return s.query(ctx, st[0].cql, st[0].args...).Exec()
		}
		// One partition: an unlogged batch is one mutation.
		return s.batch(ctx, gocql.UnloggedBatch, true, st...).Exec()
	})
	if err == nil {
		if active {
			s.outbox.activeWritten(conversationID, minute, t.first())
		}
		err = s.bumpConversation(ctx, conversationID, t.last, newest)
	}
	s.writes.Add(int64(len(keys) + len(singles) + 1))
	return wrap(err, "write messages %d-%d of %s", t.first(), t.last, conversationID)
}

// tipDurable tells whether a tip another process claimed is already
// written: its LastSeq register, written after every row of the batch,
// has reached the tip's last seq.
func (s *Store) tipDurable(ctx context.Context, conversationID string, t tip) (bool, error) {
	var last int64
	err := s.query(ctx, "SELECT last_seq FROM conversations WHERE id = ?", conversationID).Scan(&last)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, wrap(err, "read LastSeq of %s", conversationID)
	}
	return last >= t.last, nil
}

// settleEarlier finds, through message_ids, the pending sends whose sender
// already sent a message with that client id (one read per sender), settles
// them with that message, and returns the others.
func (s *Store) settleEarlier(ctx context.Context, conversationID string, pending []*send, t *tip) ([]*send, error) {
	bySender := map[string][]string{}
	var senders []string
	for _, r := range pending {
		if r.m.ClientMessageID == "" {
			continue
		}
		if _, ok := bySender[r.m.SenderID]; !ok {
			senders = append(senders, r.m.SenderID)
		}
		bySender[r.m.SenderID] = append(bySender[r.m.SenderID], r.m.ClientMessageID)
	}
	if len(senders) == 0 || t.forever {
		// (Forever: the claim's own transaction finds every earlier send.)
		return pending, nil
	}
	var mu sync.Mutex
	found := map[string]int64{} // idempotency key -> seq
	err := cql.Parallel(ctx, len(senders), func(ctx context.Context, i int) error {
		sender := senders[i]
		iter := s.query(ctx, "SELECT client_message_id, seq FROM message_ids WHERE conversation_id = ? AND sender_id = ? AND client_message_id IN ?",
			conversationID, sender, bySender[sender]).Iter()
		var id string
		var seq int64
		for iter.Scan(&id, &seq) {
			mu.Lock()
			found[sender+"\x00"+id] = seq
			mu.Unlock()
		}
		return iter.Close()
	})
	if err != nil {
		return nil, wrap(err, "append message to %s: look up client ids", conversationID)
	}
	var rest []*send
	for _, r := range pending {
		seq, ok := found[r.idemKey]
		if !ok || r.m.ClientMessageID == "" {
			rest = append(rest, r)
			continue
		}
		got, err := s.existingMessage(ctx, conversationID, seq, t)
		if err != nil {
			return nil, err
		}
		r.settle(got, false, nil)
	}
	return rest, nil
}

// settleInTip settles the pending sends whose message is in the tip,
// claimed by an earlier call (its sequencer row may have expired), and
// returns the others.
func (s *Store) settleInTip(ctx context.Context, conversationID string, pending []*send, t *tip) ([]*send, error) {
	var rest []*send
	for _, r := range pending {
		seq := int64(0)
		for _, m := range t.msgs {
			if r.m.ClientMessageID != "" && m.SenderID == r.m.SenderID && m.ClientMessageID == r.m.ClientMessageID {
				seq = m.Seq
			}
		}
		if seq == 0 {
			rest = append(rest, r)
			continue
		}
		got, err := s.existingMessage(ctx, conversationID, seq, t)
		if err != nil {
			return nil, err
		}
		r.settle(got, false, nil)
	}
	return rest, nil
}

// existingMessage returns the message an earlier send got. If its row is
// missing, it can only be in the newest claimed batch, whose content is in
// the sequencer tip: write the batch from there (t, when given, is the tip
// as last seen, and is marked durable once written).
func (s *Store) existingMessage(ctx context.Context, conversationID string, seq int64, t *tip) (storage.Message, error) {
	got, err := s.Messages(ctx, conversationID, []int64{seq})
	if err != nil {
		return storage.Message{}, err
	}
	if msg, ok := got[seq]; ok {
		return msg, nil
	}
	if t == nil || t.last < seq || t.durable {
		// (A durable tip may be a cached one, which keeps no content.)
		cur, err := s.readTip(ctx, conversationID)
		if err != nil {
			return storage.Message{}, err
		}
		t = &cur
	}
	msg, ok := t.message(seq)
	if !ok {
		return storage.Message{}, fmt.Errorf("cassandra: message %s is claimed but not written, and is not in the newest batch", storage.MessageID(conversationID, seq))
	}
	if err := s.persistTip(ctx, conversationID, *t); err != nil {
		return storage.Message{}, err
	}
	t.durable = true
	return msg, nil
}

// isNotFound reports a read that found no row.
func isNotFound(err error) bool { return errors.Is(err, gocql.ErrNotFound) }
