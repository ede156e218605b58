package push

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"messenger/pebblekv"
)

// PebbleQueue is the embedded Queue: a Pebble database of its own (the
// store's directory is locked by the store). One process owns it, so
// leases live in memory: after a crash every job not acked is ready again
// at start, which is the at-least-once redelivery.
//
// Keys: job\0<due ms hex>\0<n hex> -> Job JSON; sent\0<key> -> unix ms.
type PebbleQueue struct {
	db    *pebble.DB
	lease time.Duration
	n     atomic.Uint64
	depth atomic.Int64
	wake  chan struct{}

	closeOnce sync.Once

	mu      sync.Mutex
	leased  map[string]time.Time // job key -> lease end
	floor   []byte               // where claims start scanning (see claim)
	sending map[string]time.Time // notification key -> end of its Begin
}

var _ Queue = (*PebbleQueue)(nil)

// queueSyncInterval is the least time between two fsyncs of the queue's
// write-ahead log; a commit after a quiet interval syncs at once.
const queueSyncInterval = 2 * time.Millisecond

// PebbleQueueConfig configures a PebbleQueue.
type PebbleQueueConfig struct {
	// Dir is the queue's own directory, created if missing. Required.
	Dir string
	// Lease is how long a claimed job stays with its claimer (default
	// DefaultLease).
	Lease time.Duration
}

// OpenPebbleQueue opens (or creates) the queue in cfg.Dir.
func OpenPebbleQueue(cfg PebbleQueueConfig) (*PebbleQueue, error) {
	dir := cfg.Dir
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	// Every message enqueues a job with a synced commit: like the store,
	// concurrent enqueues share one fsync per queueSyncInterval (group
	// commit) instead of paying one each (issue #24: this WAL synced 700
	// times a second at 570 messages a second).
	opts := &pebble.Options{Logger: pebblekv.QuietLogger{}}
	opts.WALMinSyncInterval = func() time.Duration { return queueSyncInterval }
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("push: open queue %s: %w", dir, err)
	}
	q := &PebbleQueue{db: db, lease: cfg.Lease, wake: make(chan struct{}, 1), leased: map[string]time.Time{}, sending: map[string]time.Time{}}
	q.n.Store(uint64(time.Now().UnixNano()))
	var depth int64
	err = q.scan(pebblekv.Prefix("job"), func(k, v []byte) bool { depth++; return true })
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	q.depth.Store(depth)
	return q, nil
}

// Close closes the database; closing again does nothing.
func (q *PebbleQueue) Close() error {
	var err error
	q.closeOnce.Do(func() { err = q.db.Close() })
	return err
}

func (q *PebbleQueue) scan(prefix []byte, fn func(k, v []byte) bool) error {
	return q.scanRange(prefix, pebblekv.Upper(prefix), fn)
}

func (q *PebbleQueue) scanRange(lo, hi []byte, fn func(k, v []byte) bool) error {
	it, err := q.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		if !fn(it.Key(), it.Value()) {
			break
		}
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	return err
}

func (q *PebbleQueue) key(due time.Time) []byte {
	return pebblekv.Key("job", pebblekv.Hex(due.UnixMilli()), pebblekv.Hex(int64(q.n.Add(1))))
}

// Enqueue implements Queue.
func (q *PebbleQueue) Enqueue(ctx context.Context, jobs ...Job) error {
	if len(jobs) == 0 {
		return nil
	}
	b := q.db.NewBatch()
	defer func() { _ = b.Close() }()
	now := time.Now()
	for _, j := range jobs {
		v, err := json.Marshal(j)
		if err != nil {
			return err
		}
		if err := b.Set(q.key(now), v, nil); err != nil {
			return err
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("push: enqueue: %w", err)
	}
	q.depth.Add(int64(len(jobs)))
	q.signal()
	return nil
}

func (q *PebbleQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Claim implements Queue.
func (q *PebbleQueue) Claim(ctx context.Context, n int, wait time.Duration) ([]Leased, error) {
	deadline := time.Now().Add(wait)
	for {
		out, err := q.claim(n)
		if err != nil || len(out) > 0 {
			return out, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		t := time.NewTimer(min(left, 50*time.Millisecond)) // delayed jobs become due without a signal
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-q.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

func (q *PebbleQueue) claim(n int) ([]Leased, error) {
	now := time.Now()
	hi := pebblekv.Upper(pebblekv.Prefix("job", pebblekv.Hex(now.UnixMilli())))
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Leased
	var bad error
	lo := q.floor
	if lo == nil {
		lo = pebblekv.Prefix("job")
	}
	first := true
	err := q.scanRange(lo, hi, func(k, v []byte) bool {
		ks := string(k)
		if first {
			// Nothing below the first job left is ever added again (keys
			// grow with time and a counter): later scans start here and
			// skip the tombstones of acked jobs.
			q.floor, first = []byte(ks), false
		}
		if end, ok := q.leased[ks]; ok && now.Before(end) {
			return true
		}
		var j Job
		if err := json.Unmarshal(v, &j); err != nil {
			bad = fmt.Errorf("push: queue entry %q: %w", ks, err)
			return false
		}
		q.leased[ks] = now.Add(q.lease)
		out = append(out, Leased{ID: ks, Job: j})
		return len(out) < n
	})
	return out, errors.Join(err, bad)
}

// Ack implements Queue.
func (q *PebbleQueue) Ack(ctx context.Context, l Leased) error {
	if err := q.db.Delete([]byte(l.ID), pebble.NoSync); err != nil {
		return fmt.Errorf("push: ack: %w", err)
	}
	q.release(l.ID)
	return nil
}

func (q *PebbleQueue) release(id string) {
	q.mu.Lock()
	if _, ok := q.leased[id]; ok {
		delete(q.leased, id)
		q.depth.Add(-1)
	}
	q.mu.Unlock()
}

// Retry implements Queue.
func (q *PebbleQueue) Retry(ctx context.Context, l Leased, next Job, at time.Time) error {
	v, err := json.Marshal(next)
	if err != nil {
		return err
	}
	b := q.db.NewBatch()
	defer func() { _ = b.Close() }()
	_ = b.Delete([]byte(l.ID), nil)
	_ = b.Set(q.key(at), v, nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("push: retry: %w", err)
	}
	q.release(l.ID)
	q.depth.Add(1)
	return nil
}

// Depth implements Queue.
func (q *PebbleQueue) Depth(ctx context.Context) (int64, error) { return q.depth.Load(), nil }

// Begin implements Queue: the sends in progress are in memory (one process
// owns the queue), the sent ones on disk.
func (q *PebbleQueue) Begin(ctx context.Context, key string) (bool, error) {
	sent, err := q.WasSent(ctx, key)
	if err != nil || sent {
		return false, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	if end, ok := q.sending[key]; ok && now.Before(end) {
		return false, nil
	}
	if len(q.sending) > 100000 { // drop the expired
		for k, end := range q.sending {
			if now.After(end) {
				delete(q.sending, k)
			}
		}
	}
	q.sending[key] = now.Add(q.lease)
	return true, nil
}

// Finish implements Queue.
func (q *PebbleQueue) Finish(ctx context.Context, key string, sent bool) error {
	var err error
	if sent {
		v := binary.BigEndian.AppendUint64(nil, uint64(time.Now().UnixMilli()))
		err = q.db.Set(pebblekv.Key("sent", key), v, pebble.NoSync)
	}
	q.mu.Lock()
	delete(q.sending, key)
	q.mu.Unlock()
	return err
}

// WasSent implements Queue.
func (q *PebbleQueue) WasSent(ctx context.Context, key string) (bool, error) {
	v, closer, err := q.db.Get(pebblekv.Key("sent", key))
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer func() { _ = closer.Close() }()
	at := time.UnixMilli(int64(binary.BigEndian.Uint64(v)))
	return time.Since(at) < sentTTL, nil
}
