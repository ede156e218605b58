package cassandra

import (
	"context"
	"sync"
	"time"

	"messenger/cql"
)

// queue is one of the sweeper's time-ordered queues: rows keyed
// ((bucket, shard), at, id), where bucket is the hour of at and shard a
// hash of id. Entries are added when things are created (at = now or
// later) and deleted when they have been dealt with.
//
// low remembers, per process, the first hour that still held due entries at
// the last scan, so a sweep every minute reads the hours since then instead
// of the whole lookback: entries are always added at the current time or
// later, never behind it.
type queue struct {
	table string
	mu    sync.Mutex
	low   time.Time
}

func hour(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

func (s *Store) shard(id string) int { return int(fnv32(id) % uint32(s.shards)) }

// due calls row for up to limit entries with at < before, hour by hour from
// the oldest (the shards of an hour are read in parallel). cols are the
// columns to select, scanned into dest().
func (s *Store) due(ctx context.Context, q *queue, before time.Time, limit int, cols string, dest func() []any, row func()) error {
	q.mu.Lock()
	from := q.low
	q.mu.Unlock()
	if first := hour(before.Add(-s.lookback)); from.Before(first) {
		from = first
	}
	last := hour(before)
	var firstBusy time.Time
	n := 0
	b := from
	var mu sync.Mutex
	for ; !b.After(last) && n < limit; b = b.Add(time.Hour) {
		want := limit - n
		err := cql.Parallel(ctx, s.shards, func(ctx context.Context, shard int) error {
			iter := s.query(ctx, "SELECT "+cols+" FROM "+q.table+" WHERE bucket = ? AND shard = ? AND at < ? LIMIT ?",
				b, shard, cql.Timestamp(before), want).Iter()
			mu.Lock()
			defer mu.Unlock()
			for n < limit && iter.Scan(dest()...) {
				row()
				n++
			}
			return wrap(iter.Close(), "scan %s", q.table)
		})
		if err != nil {
			return err
		}
		if n > limit-want && firstBusy.IsZero() {
			firstBusy = b
		}
	}
	// Everything before firstBusy (or, when nothing was due, before the
	// last hour scanned) is done; the last hour may still gain entries
	// that are not due yet.
	next := firstBusy
	if next.IsZero() {
		next = b
		if next.After(last) {
			next = last
		}
	}
	q.mu.Lock()
	if next.After(q.low) {
		q.low = next
	}
	q.mu.Unlock()
	return nil
}

// enqueue is the statement adding an entry.
func (s *Store) enqueue(q *queue, at time.Time, id string, ttlSeconds int, extra string, extraArgs ...any) stmt {
	cols, marks := "bucket, shard, at, id", "?, ?, ?, ?"
	args := []any{hour(at), s.shard(id), cql.Timestamp(at), id}
	if extra != "" {
		cols += ", " + extra
		for range extraArgs {
			marks += ", ?"
		}
		args = append(args, extraArgs...)
	}
	args = append(args, ttlSeconds)
	return stmt{"INSERT INTO " + q.table + " (" + cols + ") VALUES (" + marks + ") USING TTL ?", args}
}

// dequeue is the statement removing an entry.
func (s *Store) dequeue(q *queue, at time.Time, id string) stmt {
	return stmt{"DELETE FROM " + q.table + " WHERE bucket = ? AND shard = ? AND at = ? AND id = ?",
		[]any{hour(at), s.shard(id), cql.Timestamp(at), id}}
}
