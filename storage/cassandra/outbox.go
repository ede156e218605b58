package cassandra

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

// The fan-out outbox, derived from the sequencer's range.
//
// A message needs no outbox row of its own: seqs are contiguous, so what
// is pending in a conversation is every seq between its fan-out watermark
// (conversations.fanned_seq) and its LastSeq that has no confirmation row
// (fanout_done). To find the conversations worth looking at, persistTip
// writes one fanout_active row per conversation, process and minute (of
// the time it writes; first_seq is the first seq it wrote then), not one
// per message; FanOutDone writes one confirmation row, no delete. A sweep
// reads the active rows of the minutes from the checkpoint on, then per
// conversation the confirmation rows and the watermark, lists the
// unconfirmed seqs above the watermark (their sent_at from messages), moves
// the watermark over the confirmed prefix, range-deletes the confirmation
// rows under it, and deletes the conversation's active rows of settled
// minutes once nothing is pending.
//
// Why nothing acknowledged is missed:
//   - LastSeq is written after every row of a batch (persistTip), so a seq
//     at or below it is a written message; the watermark only passes seqs
//     with a confirmation row (or no message row: moved to the cold tier).
//   - An instance killed after the durable write and before fan-out leaves
//     seqs above the watermark with no confirmation: whichever instance
//     sweeps next lists exactly those. Two sweeps at once list the same
//     seqs and both replay them, which the events' ids absorb
//     (realtime.Log.AppendOnce), as with the per-message rows before.
//   - A conversation's active rows are deleted only when the sweep found
//     nothing pending up to the LastSeq it read and the row's minute ended
//     checkpointLag before the sweep's window: a batch written since has a
//     row of a later minute (or is found through any later activity, since
//     the sweep lists the whole range from the watermark, not a row's seqs).
//   - A sweep that moves the watermark writes it before it range-deletes
//     the confirmation rows under it (only when it crosses a bucket); a
//     concurrent sweep that read the older watermark may then miss those
//     rows and list their seqs once more: a replay the event ids absorb.
//   - A conversation created before this scheme (migration 020) has no
//     watermark: its older messages are the rows of fanout_outbox, still
//     swept (and deleted once confirmed), and its range starts below the
//     first seq of its oldest active row.
//
// Deferred events (DeferFanOut) keep their rows in fanout_outbox.

const (
	// outboxShards splits each minute of the outbox into this many
	// partitions, so one minute of a busy cluster is not one hot partition.
	// A sweep reads minutes × outboxShards small partitions of each table.
	outboxShards = 4
	// checkpointLag: a minute is skipped by later sweeps only once it ended
	// this long before sentBefore, so a row that lands late (a slow Paxos
	// round, retries) is still inside the scanned window.
	checkpointLag = 5 * time.Minute
	// firstLookback: where the first sweep of a fresh cluster starts.
	firstLookback = time.Hour
	// maxDoneRead bounds the confirmation rows one sweep reads per
	// conversation: more exist only when a seq far below stays unconfirmed;
	// the ones past the bound are listed again (and replayed, harmlessly).
	maxDoneRead = 10000
)

// outboxState caches the checkpoint of fanout_checkpoint and the active
// rows this process wrote.
type outboxState struct {
	mu     sync.Mutex
	loaded bool
	minute int64
	active map[string]activeMark
}

// activeMark is the newest active row this process wrote for a conversation.
type activeMark struct{ minute, first int64 }

// needsActive tells whether persisting seqs from first on in this minute
// needs an active row: none written here this minute, or only one that
// starts above first.
func (o *outboxState) needsActive(conversationID string, minute, first int64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	a, ok := o.active[conversationID]
	return !ok || a.minute != minute || a.first > first
}

func (o *outboxState) activeWritten(conversationID string, minute, first int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if a, ok := o.active[conversationID]; ok && a.minute == minute && a.first <= first {
		return
	}
	o.active = bounded(o.active)
	o.active[conversationID] = activeMark{minute: minute, first: first}
}

func minuteOf(t time.Time) int64 { return t.UnixMilli() / 60000 }

func outboxShard(p storage.PendingFanOut) int {
	h := fnv.New32a()
	h.Write([]byte(p.ConversationID))
	h.Write([]byte(p.EventID))
	return int(h.Sum32() % outboxShards)
}

func activeShard(conversationID string) int {
	return outboxShard(storage.PendingFanOut{ConversationID: conversationID})
}

// PendingFanOuts implements storage.Store: it reads the active rows and the
// deferred (and pre-migration) outbox rows of every minute from the
// checkpoint to now, derives each active conversation's pending seqs, and
// moves the checkpoint past minutes that are empty and old enough.
func (s *Store) PendingFanOuts(ctx context.Context, sentBefore time.Time, limit int) ([]storage.PendingFanOut, error) {
	from, err := s.outboxCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	last := max(minuteOf(sentBefore), minuteOf(time.Now()))
	settled := minuteOf(sentBefore.Add(-checkpointLag)) // minutes before this one may be skipped once empty
	var legacy []storage.PendingFanOut
	convs := map[string]*convSweep{}
	var order []string
	advance := from
	for minute := from; minute <= last; minute++ {
		rows, err := s.outboxMinute(ctx, minute, sentBefore, limit)
		if err != nil {
			return nil, err
		}
		active, err := s.activeMinute(ctx, minute)
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 && len(active) == 0 && advance == minute && minute < settled {
			advance = minute + 1
		}
		legacy = append(legacy, rows...)
		for _, a := range active {
			c, ok := convs[a.conversationID]
			if !ok {
				c = &convSweep{id: a.conversationID, minFirst: a.firstSeq}
				convs[a.conversationID] = c
				order = append(order, a.conversationID)
			}
			c.minFirst = min(c.minFirst, a.firstSeq)
			if minute < settled {
				c.settledRows = append(c.settledRows, a)
			}
		}
	}
	// The pre-migration rows first: their confirmation rows may be
	// range-deleted by the conversations' sweeps below.
	old, err := s.legacyPending(ctx, legacy)
	if err != nil {
		return nil, err
	}
	out := make([][]storage.PendingFanOut, len(order))
	err = cql.Parallel(ctx, len(order), func(ctx context.Context, i int) error {
		var err error
		out[i], err = s.sweepConversation(ctx, convs[order[i]], sentBefore, limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	var all []storage.PendingFanOut
	type key struct {
		conv string
		seq  int64
	}
	listed := map[key]bool{}
	for _, o := range out {
		for _, p := range o {
			listed[key{p.ConversationID, p.Seq}] = true
		}
		all = append(all, o...)
	}
	for _, p := range old {
		// A message an instance of the previous version wrote during an
		// upgrade may be in both: list it once.
		if p.EventID != "" || !listed[key{p.ConversationID, p.Seq}] {
			all = append(all, p)
		}
	}
	slices.SortStableFunc(all, func(a, b storage.PendingFanOut) int { return a.SentAt.Compare(b.SentAt) })
	if len(all) > limit {
		all = all[:limit]
	}
	if advance > from {
		if err := s.query(ctx, "UPDATE fanout_checkpoint USING TIMESTAMP ? SET minute = ? WHERE id = 'all'", advance, advance).Exec(); err != nil {
			return nil, wrap(err, "move the fan-out checkpoint")
		}
		s.outbox.mu.Lock()
		s.outbox.minute = max(s.outbox.minute, advance)
		s.outbox.mu.Unlock()
	}
	return all, nil
}

// outboxMinute reads one minute's shards of fanout_outbox (deferred events,
// and messages created before migration 020), keeping rows sent before
// sentBefore.
func (s *Store) outboxMinute(ctx context.Context, minute int64, sentBefore time.Time, limit int) ([]storage.PendingFanOut, error) {
	var (
		mu  sync.Mutex
		out []storage.PendingFanOut
	)
	err := cql.Parallel(ctx, outboxShards, func(ctx context.Context, shard int) error {
		iter := s.query(ctx, "SELECT conversation_id, seq, event_id, sent_at, user_ids, type, data FROM fanout_outbox WHERE minute = ? AND shard = ? LIMIT ?",
			minute, shard, limit).Iter()
		var rows []storage.PendingFanOut
		for {
			var p storage.PendingFanOut
			if !iter.Scan(&p.ConversationID, &p.Seq, &p.EventID, &p.SentAt, &p.UserIDs, &p.Type, &p.Data) {
				break
			}
			if p.SentAt.Before(sentBefore) {
				p.SentAt = p.SentAt.UTC()
				rows = append(rows, p)
			}
		}
		if err := iter.Close(); err != nil {
			return wrap(err, "read the fan-out outbox")
		}
		mu.Lock()
		out = append(out, rows...)
		mu.Unlock()
		return nil
	})
	return out, err
}

// outboxCheckpoint returns the first minute a sweep must read.
func (s *Store) outboxCheckpoint(ctx context.Context) (int64, error) {
	st := &s.outbox
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.loaded {
		return st.minute, nil
	}
	var minute int64
	err := s.query(ctx, "SELECT minute FROM fanout_checkpoint WHERE id = 'all'").Scan(&minute)
	switch {
	case errors.Is(err, gocql.ErrNotFound):
		// No sweep ever ran on this cluster, so no process that writes
		// outbox rows has run for long: look back an hour.
		minute = minuteOf(time.Now().Add(-firstLookback))
	case err != nil:
		return 0, wrap(err, "read the fan-out checkpoint")
	}
	st.loaded, st.minute = true, minute
	return minute, nil
}

// FanOutDone implements storage.Store: one confirmation row for a message
// (the sweep folds it into the watermark), the row itself for a deferred
// event.
func (s *Store) FanOutDone(ctx context.Context, p storage.PendingFanOut) error {
	s.writes.Add(1)
	if p.EventID == "" {
		err := s.query(ctx, "INSERT INTO fanout_done (conversation_id, seq) VALUES (?, ?)", p.ConversationID, p.Seq).Exec()
		return wrap(err, "fan-out of %s done", describe(p))
	}
	err := s.query(ctx, "DELETE FROM fanout_outbox WHERE minute = ? AND shard = ? AND conversation_id = ? AND seq = ? AND event_id = ?",
		minuteOf(p.SentAt), outboxShard(p), p.ConversationID, p.Seq, p.EventID).Exec()
	return wrap(err, "fan-out of %s done", describe(p))
}

// DeferFanOut implements storage.Store. The row is written at the time the
// event was deferred; a checkpoint already past it would skip it, so the
// checkpoint lags sweeps by checkpointLag, far more than the moments
// between the failed append and this write.
func (s *Store) DeferFanOut(ctx context.Context, p storage.PendingFanOut) error {
	if p.EventID == "" {
		return fmt.Errorf("cassandra: defer fan-out: no event id")
	}
	p.SentAt = cql.Timestamp(p.SentAt)
	err := s.query(ctx, `INSERT INTO fanout_outbox (minute, shard, conversation_id, seq, event_id, sent_at, user_ids, type, data)
		VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?)`,
		minuteOf(p.SentAt), outboxShard(p), p.ConversationID, p.EventID, p.SentAt, p.UserIDs, p.Type, p.Data).Exec()
	return wrap(err, "defer fan-out of %s", describe(p))
}

func describe(p storage.PendingFanOut) string {
	if p.EventID != "" {
		return "event " + p.EventID
	}
	return storage.MessageID(p.ConversationID, p.Seq)
}
