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

const (
	// outboxShards splits each minute of the outbox into this many
	// partitions, so one minute of a busy cluster is not one hot partition.
	// A sweep reads minutes × outboxShards small partitions.
	outboxShards = 4
	// checkpointLag: a minute is skipped by later sweeps only once it ended
	// this long before sentBefore, so a send whose outbox row lands late
	// (a slow Paxos round, retries) is still inside the scanned window.
	checkpointLag = 5 * time.Minute
	// firstLookback: where the first sweep of a fresh cluster starts.
	firstLookback = time.Hour
)

// outboxState caches the checkpoint of fanout_checkpoint.
type outboxState struct {
	mu     sync.Mutex
	loaded bool
	minute int64
}

func minuteOf(t time.Time) int64 { return t.UnixMilli() / 60000 }

func outboxShard(p storage.PendingFanOut) int {
	h := fnv.New32a()
	h.Write([]byte(p.ConversationID))
	h.Write([]byte(p.EventID))
	return int(h.Sum32() % outboxShards)
}

// outboxRow is the outbox row of a created message (with the key of its
// partition, so persistTip folds a batch's rows into one write), written
// with the message's write timestamp: rewriting it cannot undo a delete.
func outboxRow(h head) (string, stmt) {
	m := h.msg
	minute, shard := minuteOf(m.SentAt), outboxShard(storage.PendingFanOutOf(m))
	return fmt.Sprintf("o\x00%d\x00%d", minute, shard), stmt{`INSERT INTO fanout_outbox (minute, shard, conversation_id, seq, event_id, sent_at) VALUES (?, ?, ?, ?, '', ?) USING TIMESTAMP ?`,
		[]any{minute, shard, m.ConversationID, m.Seq, m.SentAt, h.writeTS}}
}

// PendingFanOuts implements storage.Store: it reads the outbox partitions
// of every minute from the checkpoint to sentBefore, oldest minute first
// (within a minute, by conversation), and moves the checkpoint past minutes
// that are empty and old enough.
func (s *Store) PendingFanOuts(ctx context.Context, sentBefore time.Time, limit int) ([]storage.PendingFanOut, error) {
	from, err := s.outboxCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	last := minuteOf(sentBefore)
	settled := minuteOf(sentBefore.Add(-checkpointLag)) // minutes before this one may be skipped once empty
	var out []storage.PendingFanOut
	advance := from
	for minute := from; minute <= last && len(out) < limit; minute++ {
		rows, err := s.outboxMinute(ctx, minute, sentBefore, limit-len(out))
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 && advance == minute && minute < settled {
			advance = minute + 1
		}
		out = append(out, rows...)
	}
	if advance > from {
		if err := s.query(ctx, "UPDATE fanout_checkpoint USING TIMESTAMP ? SET minute = ? WHERE id = 'all'", advance, advance).Exec(); err != nil {
			return nil, wrap(err, "move the fan-out checkpoint")
		}
		s.outbox.mu.Lock()
		s.outbox.minute = max(s.outbox.minute, advance)
		s.outbox.mu.Unlock()
	}
	return out, nil
}

// outboxMinute reads one minute's shards, keeping rows sent before sentBefore.
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
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b storage.PendingFanOut) int { return a.SentAt.Compare(b.SentAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
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

// FanOutDone implements storage.Store.
func (s *Store) FanOutDone(ctx context.Context, p storage.PendingFanOut) error {
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
