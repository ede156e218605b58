package cassandra

import (
	"context"
	"sync"
	"time"

	"messenger/cql"
	"messenger/storage"
)

// activeRow is one fanout_active row.
type activeRow struct {
	minute         int64
	shard          int
	conversationID string
	firstSeq       int64
}

// convSweep is what one sweep knows of an active conversation.
type convSweep struct {
	id          string
	minFirst    int64       // the smallest first_seq of its active rows seen
	settledRows []activeRow // its rows of settled minutes
}

// activeMinute reads one minute's shards of fanout_active.
func (s *Store) activeMinute(ctx context.Context, minute int64) ([]activeRow, error) {
	var (
		mu  sync.Mutex
		out []activeRow
	)
	err := cql.Parallel(ctx, outboxShards, func(ctx context.Context, shard int) error {
		iter := s.query(ctx, "SELECT conversation_id, first_seq FROM fanout_active WHERE minute = ? AND shard = ?", minute, shard).Iter()
		var rows []activeRow
		a := activeRow{minute: minute, shard: shard}
		for iter.Scan(&a.conversationID, &a.firstSeq) {
			rows = append(rows, a)
		}
		if err := iter.Close(); err != nil {
			return wrap(err, "read the fan-out outbox's active conversations")
		}
		mu.Lock()
		out = append(out, rows...)
		mu.Unlock()
		return nil
	})
	return out, err
}

// sweepConversation lists the unconfirmed seqs of one conversation above
// its watermark (at most limit, oldest first, those sent before
// sentBefore), moves the watermark over the confirmed prefix, and deletes
// the conversation's settled active rows when nothing is pending.
func (s *Store) sweepConversation(ctx context.Context, c *convSweep, sentBefore time.Time, limit int) ([]storage.PendingFanOut, error) {
	var last int64
	var fanned *int64
	err := s.query(ctx, "SELECT last_seq, fanned_seq FROM conversations WHERE id = ?", c.id).Scan(&last, &fanned)
	if isNotFound(err) {
		return nil, s.dropActive(ctx, c) // deleted since: nothing to fan out
	}
	if err != nil {
		return nil, wrap(err, "read the fan-out watermark of %s", c.id)
	}
	w := c.minFirst - 1 // created before migration 020: the range starts with its active rows
	if fanned != nil {
		w = *fanned
	}
	if w >= last && fanned != nil {
		return nil, s.dropActive(ctx, c)
	}
	done := map[int64]bool{}
	iter := s.query(ctx, "SELECT seq FROM fanout_done WHERE conversation_id = ? AND seq > ? LIMIT ?", c.id, w, maxDoneRead).Iter()
	var seq int64
	for iter.Scan(&seq) {
		done[seq] = true
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "read the fan-out confirmations of %s", c.id)
	}
	var out []storage.PendingFanOut
	next := w // every seq up to next is confirmed or has no message row
	contiguous := true
	for from := w; from < last && len(out) < limit; {
		bucket := bucketOf(from + 1)
		to := min(last, (bucket+1)*bucketSize-1)
		found := map[int64]time.Time{}
		iter := s.query(ctx, "SELECT seq, sent_at FROM messages WHERE conversation_id = ? AND bucket = ? AND seq > ? AND seq <= ?",
			c.id, bucket, from, to).Iter()
		var at time.Time
		for iter.Scan(&seq, &at) {
			found[seq] = at
		}
		if err := iter.Close(); err != nil {
			return nil, wrap(err, "read the pending messages of %s", c.id)
		}
		for q := from + 1; q <= to; q++ {
			at, ok := found[q]
			// A seq at or below LastSeq without a row was moved to the cold
			// tier (or its conversation is being deleted): nothing to send.
			if done[q] || !ok {
				if contiguous {
					next = q
				}
				continue
			}
			contiguous = false
			if at.Before(sentBefore) && len(out) < limit {
				out = append(out, storage.PendingFanOut{ConversationID: c.id, Seq: q, SentAt: at.UTC()})
			}
		}
		from = to
	}
	if next > w || fanned == nil {
		if err := s.query(ctx, "UPDATE conversations USING TIMESTAMP ? SET fanned_seq = ? WHERE id = ?", next, next, c.id).Exec(); err != nil {
			return nil, wrap(err, "move the fan-out watermark of %s", c.id)
		}
		// The rows under the watermark are never read again (reads start
		// above it) and expire; they are range-deleted, after the watermark
		// moved, each time it crosses a bucket, so a busy conversation's
		// partition stays small and a quiet one pays no delete.
		if bucketOf(next) > bucketOf(w) {
			if err := s.query(ctx, "DELETE FROM fanout_done WHERE conversation_id = ? AND seq <= ?", c.id, next).Exec(); err != nil {
				return nil, wrap(err, "drop the fan-out confirmations of %s", c.id)
			}
		}
	}
	if next >= last {
		return out, s.dropActive(ctx, c)
	}
	return out, nil
}

// dropActive deletes a conversation's active rows of settled minutes, once
// a sweep found nothing pending in it.
func (s *Store) dropActive(ctx context.Context, c *convSweep) error {
	err := cql.Parallel(ctx, len(c.settledRows), func(ctx context.Context, i int) error {
		a := c.settledRows[i]
		return s.query(ctx, "DELETE FROM fanout_active WHERE minute = ? AND shard = ? AND conversation_id = ? AND first_seq = ?",
			a.minute, a.shard, a.conversationID, a.firstSeq).Exec()
	})
	return wrap(err, "drop the fan-out outbox's rows of %s", c.id)
}

// legacyPending keeps the fanout_outbox rows still pending: deferred events,
// and messages written before migration 020 unless a confirmation row
// covers them (then the row is deleted).
func (s *Store) legacyPending(ctx context.Context, rows []storage.PendingFanOut) ([]storage.PendingFanOut, error) {
	keep := make([]bool, len(rows))
	err := cql.Parallel(ctx, len(rows), func(ctx context.Context, i int) error {
		p := rows[i]
		if p.EventID != "" {
			keep[i] = true
			return nil
		}
		var n int
		if err := s.query(ctx, "SELECT COUNT(*) FROM fanout_done WHERE conversation_id = ? AND seq = ?", p.ConversationID, p.Seq).Scan(&n); err != nil {
			return wrap(err, "read the fan-out confirmation of %s", describe(p))
		}
		if n == 0 {
			// (Not the watermark: a conversation's first one starts below
			// its first active row, over messages these rows track.)
			keep[i] = true
			return nil
		}
		return wrap(s.query(ctx, "DELETE FROM fanout_outbox WHERE minute = ? AND shard = ? AND conversation_id = ? AND seq = ? AND event_id = ''",
			minuteOf(p.SentAt), outboxShard(p), p.ConversationID, p.Seq).Exec(), "fan-out of %s done", describe(p))
	})
	if err != nil {
		return nil, err
	}
	var out []storage.PendingFanOut
	for i, p := range rows {
		if keep[i] {
			out = append(out, p)
		}
	}
	return out, nil
}
