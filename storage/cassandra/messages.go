package cassandra

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

const messageColumns = "seq, sender_id, client_message_id, body, sent_at, edited_at, deleted_at, hidden_by, refs"

// messageRow is one row of messages. A row without a sender is not a
// message: HideMessage on a seq that was never written leaves one.
type messageRow struct {
	storage.Message
	hiddenBy []string
}

func scanMessage(conversationID string, scan func(dest ...any) bool) (messageRow, bool) {
	var r messageRow
	var sentAt, editedAt, deletedAt time.Time
	var refs string
	if !scan(&r.Seq, &r.SenderID, &r.ClientMessageID, &r.Body, &sentAt, &editedAt, &deletedAt, &r.hiddenBy, &refs) {
		return r, false
	}
	r.MessageRefs = decodeRefs(refs)
	r.ConversationID = conversationID
	r.ID = storage.MessageID(conversationID, r.Seq)
	r.SentAt = utc(sentAt)
	r.EditedAt, r.DeletedAt = optTime(editedAt), optTime(deletedAt)
	return r, true
}

func (r messageRow) real() bool { return r.SenderID != "" }

func (r messageRow) hiddenFor(userID string) bool { return slices.Contains(r.hiddenBy, userID) }

// Messages implements storage.Store: one query per bucket the seqs fall in.
func (s *Store) Messages(ctx context.Context, conversationID string, seqs []int64) (map[int64]storage.Message, error) {
	buckets, byBucket := seqsByBucket(seqs)
	found := make([][]storage.Message, len(buckets))
	err := cql.Parallel(ctx, len(buckets), func(ctx context.Context, i int) error {
		iter := s.query(ctx, "SELECT "+messageColumns+" FROM messages WHERE conversation_id = ? AND bucket = ? AND seq IN ?",
			conversationID, buckets[i], byBucket[buckets[i]]).Iter()
		for {
			r, ok := scanMessage(conversationID, iter.Scan)
			if !ok {
				break
			}
			if r.real() {
				found[i] = append(found[i], r.Message)
			}
		}
		return iter.Close()
	})
	if err != nil {
		return nil, wrap(err, "read messages of %s", conversationID)
	}
	out := make(map[int64]storage.Message, len(seqs))
	for _, msgs := range found {
		for _, m := range msgs {
			out[m.Seq] = m
		}
	}
	if len(out) < len(seqs) {
		err = s.coldFill(ctx, conversationID, seqs, out)
	}
	return out, err
}

// MessageByID implements storage.Store.
func (s *Store) MessageByID(ctx context.Context, id string) (storage.Message, error) {
	conv, seq, err := storage.ParseMessageID(id)
	if err != nil {
		return storage.Message{}, fmt.Errorf("cassandra: message %q: %w", id, err)
	}
	got, err := s.Messages(ctx, conv, []int64{seq})
	if err != nil {
		return storage.Message{}, err
	}
	m, ok := got[seq]
	if !ok {
		return storage.Message{}, fmt.Errorf("cassandra: message %s: %w", id, storage.ErrNotFound)
	}
	return m, nil
}

// scanBucket calls fn for the messages of one bucket with lo < seq < hi
// (hi 0 = no bound), in seq order (descending when desc), until fn returns
// false. It returns the last seq it passed to fn, 0 if none. light reads
// only what counting needs (seq, sender, deletion, hidden_by), not bodies.
func (s *Store) scanBucket(ctx context.Context, conversationID string, bucket, lo, hi int64, desc, light bool, pageSize int,
	fn func(messageRow) bool) (int64, error) {
	lo = max(lo, bucket*bucketSize-1)
	if hi <= 0 || hi > (bucket+1)*bucketSize {
		hi = (bucket + 1) * bucketSize
	}
	order, columns := "ASC", messageColumns
	if desc {
		order = "DESC"
	}
	if light {
		columns = "seq, sender_id, deleted_at, hidden_by"
	}
	iter := s.query(ctx, "SELECT "+columns+" FROM messages WHERE conversation_id = ? AND bucket = ? AND seq > ? AND seq < ? ORDER BY seq "+order,
		conversationID, bucket, lo, hi).PageSize(pageSize).Prefetch(0).Iter()
	scan := func() (messageRow, bool) { return scanMessage(conversationID, iter.Scan) }
	if light {
		scan = func() (messageRow, bool) {
			var r messageRow
			var deletedAt time.Time
			ok := iter.Scan(&r.Seq, &r.SenderID, &deletedAt, &r.hiddenBy)
			r.DeletedAt = optTime(deletedAt)
			return r, ok
		}
	}
	var last int64
	for {
		r, ok := scan()
		if !ok {
			break
		}
		if !r.real() {
			continue
		}
		last = r.Seq
		if !fn(r) {
			break
		}
	}
	if err := iter.Close(); err != nil || last != 0 {
		return last, wrap(err, "read messages of %s", conversationID)
	}
	return s.scanCold(ctx, conversationID, bucket, lo, hi, desc, fn) // no hot message: moved to the cold tier?
}

func bucketEnd(bucket int64) int64 { return (bucket+1)*bucketSize - 1 }

// ListMessages implements storage.Store.
//
// Seqs are contiguous and a seq is written before any larger one is claimed
// (see AppendMessage), so a bucket that stops short of its end is the last
// one: a page reads one partition, and the next one only when it crosses a
// bucket boundary.
func (s *Store) ListMessages(ctx context.Context, conversationID, viewerID string, afterSeq, beforeSeq int64, limit int, newestFirst bool) ([]storage.Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	pageSize := min(limit+limit/4+8, 1000)
	var out []storage.Message
	collect := func(r messageRow) bool {
		if !r.hiddenFor(viewerID) {
			out = append(out, r.Message)
		}
		return len(out) < limit
	}
	if !newestFirst {
		for b := bucketOf(afterSeq + 1); beforeSeq <= 0 || b*bucketSize < beforeSeq; b++ {
			last, err := s.scanBucket(ctx, conversationID, b, afterSeq, beforeSeq, false, false, pageSize, collect)
			if err != nil {
				return nil, err
			}
			if len(out) >= limit || last != bucketEnd(b) {
				break
			}
		}
		return out, nil
	}

	if beforeSeq > 0 {
		return s.listDown(ctx, conversationID, bucketOf(beforeSeq-1), afterSeq, beforeSeq, pageSize, collect, &out, limit)
	}
	// Newest first from the top: start at the bucket of a known lower bound
	// of LastSeq (this process's hint, else the conversation row). Only
	// when that bucket is full may a newer one exist, so only then look.
	last, ok := s.heads.lastSeqHint(conversationID)
	if !ok {
		c, err := s.conversation(ctx, conversationID)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		last = c.LastSeq
	}
	for b := max(bucketOf(last), bucketOf(afterSeq+1)); ; b++ {
		out = out[:0]
		var newest int64
		_, err := s.scanBucket(ctx, conversationID, b, afterSeq, 0, true, false, pageSize, func(r messageRow) bool {
			if newest == 0 {
				newest = r.Seq
			}
			return collect(r)
		})
		if err != nil {
			return nil, err
		}
		if newest == bucketEnd(b) {
			var seq int64
			err := s.query(ctx, "SELECT seq FROM messages WHERE conversation_id = ? AND bucket = ? LIMIT 1", conversationID, b+1).Scan(&seq)
			if err == nil {
				continue
			}
			if !errors.Is(err, gocql.ErrNotFound) {
				return nil, wrap(err, "read messages of %s", conversationID)
			}
		}
		s.heads.hint(conversationID, newest)
		if len(out) >= limit {
			return out, nil
		}
		return s.listDown(ctx, conversationID, b-1, afterSeq, 0, pageSize, collect, &out, limit)
	}
}

// listDown continues a newest-first page from bucket b downwards.
func (s *Store) listDown(ctx context.Context, conversationID string, b, afterSeq, beforeSeq int64, pageSize int,
	collect func(messageRow) bool, out *[]storage.Message, limit int) ([]storage.Message, error) {
	for ; b >= 0 && bucketEnd(b) > afterSeq && len(*out) < limit; b-- {
		if _, err := s.scanBucket(ctx, conversationID, b, afterSeq, beforeSeq, true, false, pageSize, collect); err != nil {
			return nil, err
		}
	}
	return *out, nil
}

// UpdateMessage implements storage.Store. The new cells are written with a
// timestamp above every earlier write of the row, so a late replay of the
// original send (see persist) can never undo an edit, whatever the clocks.
func (s *Store) UpdateMessage(ctx context.Context, m storage.Message) error {
	id := storage.MessageID(m.ConversationID, m.Seq)
	var sender string
	var deletedAt *time.Time
	var wts [3]*int64
	err := s.query(ctx, `SELECT sender_id, deleted_at, writetime(sender_id), writetime(body), writetime(edited_at)
		FROM messages WHERE conversation_id = ? AND bucket = ? AND seq = ?`, m.ConversationID, bucketOf(m.Seq), m.Seq).
		Scan(&sender, &deletedAt, &wts[0], &wts[1], &wts[2])
	if errors.Is(err, gocql.ErrNotFound) || err == nil && sender == "" {
		// Not in the hot table: in the cold tier, the update goes to the
		// overlay (see cold_read.go), newer than the move's drop.
		cm, dropTS, ok, cerr := s.coldMessage(ctx, m.ConversationID, m.Seq)
		if cerr != nil {
			return cerr
		}
		if !ok {
			return fmt.Errorf("cassandra: update message %s: %w", id, storage.ErrNotFound)
		}
		deletedAt, wts[0], err = cm.DeletedAt, &dropTS, nil
	}
	if err != nil {
		return wrap(err, "update message %s", id)
	}
	if deletedAt != nil {
		return nil // a tombstone is final
	}
	if m.DeletedAt != nil {
		// One logged batch: the tombstone and the recalled row (which the
		// unread counts subtract) are applied together or not at all.
		err = s.batch(ctx, gocql.LoggedBatch, true,
			stmt{"UPDATE messages USING TIMESTAMP ? SET body = ?, deleted_at = ? WHERE conversation_id = ? AND bucket = ? AND seq = ?",
				[]any{tombstoneTS, m.Body, cql.Timestamp(*m.DeletedAt), m.ConversationID, bucketOf(m.Seq), m.Seq}},
			stmt{"INSERT INTO recalled_messages (conversation_id, seq) VALUES (?, ?)", []any{m.ConversationID, m.Seq}}).Exec()
		return wrap(err, "delete message %s for everyone", id)
	}
	// An edit: newer than every earlier write of these cells (clocks of
	// several processes may disagree), but never as new as a tombstone.
	ts := time.Now().UnixMicro()
	for _, w := range wts {
		if w != nil && *w >= ts && *w < tombstoneTS {
			ts = *w + 1
		}
	}
	var edited *time.Time
	if m.EditedAt != nil {
		t := cql.Timestamp(*m.EditedAt)
		edited = &t
	}
	err = s.query(ctx, "UPDATE messages USING TIMESTAMP ? SET body = ?, edited_at = ? WHERE conversation_id = ? AND bucket = ? AND seq = ?",
		ts, m.Body, edited, m.ConversationID, bucketOf(m.Seq), m.Seq).Exec()
	return wrap(err, "update message %s", id)
}

// tombstoneTS is the write timestamp of a recall's cells (body, deleted_at):
// far above any clock, so an edit that read the message before a recall from
// another process landed, and writes after it, loses to the tombstone
// without a Paxos round.
const tombstoneTS = int64(1) << 60

// HideMessage implements storage.Store: the viewer joins the message's
// hidden_by set (adding to a set is idempotent).
func (s *Store) HideMessage(ctx context.Context, userID, conversationID string, seq int64) error {
	// One logged batch: hidden_by and the unread exception together.
	err := s.batch(ctx, gocql.LoggedBatch, true,
		stmt{"UPDATE messages SET hidden_by = hidden_by + ? WHERE conversation_id = ? AND bucket = ? AND seq = ?",
			[]any{[]string{userID}, conversationID, bucketOf(seq), seq}},
		stmt{"INSERT INTO unread_exceptions (user_id, conversation_id, seq) VALUES (?, ?, ?)", []any{userID, conversationID, seq}}).Exec()
	return wrap(err, "hide message %s for %s", storage.MessageID(conversationID, seq), userID)
}
