// Package redisturns is the realtime.Turns of a fleet: each key's watermark
// lives in Redis, so a writer in one API instance waits for the writers of
// the numbers before its own in every other.
//
// # Keys
//
//	<prefix><key>   a sorted set with one member "d" whose score is the watermark
//	<prefix><key>   also a pub/sub channel: every watermark written is published on it
//
// Done raises it with ZADD GT (atomic "set if greater" on the key's node:
// the watermark never moves backwards, whatever order concurrent writes
// arrive in) and refreshes its expiry (TTL, default a day): a key idle
// longer is forgotten and answers ErrUnknownKey, which callers handle by
// recomputing a floor. Scores are exact for numbers below 2^53.
//
// # Cost
//
// What this instance knows (its own Dones, and watermarks it read) is kept
// in a realtime/memturns.Turns: a Wait whose turn this instance can already
// tell (the previous number was appended here, the common case of one
// conversation's sends going through one instance) costs no round trip.
// Otherwise Wait subscribes to the key's channel (one pub/sub connection
// per instance serves every key with waiters), reads the watermark (one
// ZSCORE), and waits for a notice, a Done in this instance, or the next
// read (every millisecond at first, backing off to MaxPoll, so a lost
// notice only delays).
//
// Done never waits for Redis: it records locally and queues the key; one
// goroutine writes the queued watermarks in pipelines (ZADD GT, PEXPIRE,
// PUBLISH), the highest per key, so a burst of sends costs one round trip.
// A write that fails is retried with the next one; until it lands, other
// instances' waiters may take over after their patience (harmless, see
// realtime.Turns).
package redisturns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"messenger/realtime"
	"messenger/realtime/memturns"
)

var _ realtime.Turns = (*Turns)(nil)

// Config configures Turns. Zero values are the documented defaults.
type Config struct {
	// Client reaches Redis (a node or a cluster). Required; Close does not
	// close it.
	Client redis.UniversalClient
	// KeyPrefix starts every key (default "turns:").
	KeyPrefix string
	// TTL: a key without Done for this long is forgotten (default 24 h).
	TTL time.Duration
	// MaxPoll bounds the interval between reads of a watermark another
	// instance must move (default 16 ms): the most a lost notice delays a
	// turn.
	MaxPoll time.Duration
	// Timeout bounds each Redis call (default 1 s).
	Timeout time.Duration
	// Logger receives write failures, at most one line per 10 s (default
	// slog.Default()).
	Logger *slog.Logger
}

// Turns is safe for concurrent use. Close it to flush queued watermarks.
type Turns struct {
	cfg     Config
	local   *memturns.Turns
	notices *notices

	mu      sync.Mutex
	queued  map[string]int64 // watermarks not yet written, by key
	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
	warned  time.Time
}

// New returns Turns on cfg.Client and starts its writer.
func New(cfg Config) (*Turns, error) {
	if cfg.Client == nil {
		return nil, errors.New("redisturns: Config.Client is required")
	}
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = "turns:"
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 24 * time.Hour
	}
	if cfg.MaxPoll <= 0 {
		cfg.MaxPoll = 16 * time.Millisecond
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	t := &Turns{
		cfg: cfg, local: memturns.New(memturns.Config{}),
		queued: map[string]int64{}, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	t.notices = newNotices(cfg.Client, cfg.KeyPrefix, func(key string, n int64) { t.local.Done(context.Background(), key, n) })
	go t.writeLoop()
	return t, nil
}

// member is the sorted set's only member.
const member = "d"

// Wait implements realtime.Turns.
func (t *Turns) Wait(ctx context.Context, key string, n int64, patience time.Duration) (int64, error) {
	if done, err := t.local.Wait(ctx, key, n, 0); err == nil && done >= n-1 {
		return done, nil
	}
	defer t.notices.watch(ctx, key)()
	best, moved := int64(-1), time.Now()
	poll := time.Millisecond
	for {
		if r, ok, err := t.read(ctx, key); err != nil {
			return 0, err
		} else if ok {
			t.local.Done(ctx, key, r)
		}
		done, err := t.local.Wait(ctx, key, n, 0)
		if err != nil || done >= n-1 || patience <= 0 {
			return done, err
		}
		now := time.Now()
		if done > best {
			best, moved = done, now
		}
		left := patience - now.Sub(moved)
		if left <= 0 {
			return done, nil
		}
		// Until a Done here lets us through, or it is time to read again.
		if _, err := t.local.Wait(ctx, key, n, min(poll, left)); err != nil {
			return done, err
		}
		poll = min(2*poll, t.cfg.MaxPoll)
	}
}

// read returns key's watermark in Redis; ok is false when it has none.
func (t *Turns) read(ctx context.Context, key string) (int64, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	score, err := t.cfg.Client.ZScore(ctx, t.cfg.KeyPrefix+key, member).Result()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("redisturns: read %s: %w: %w", key, realtime.ErrUnavailable, err)
	}
	return int64(score), true, nil
}

// Done implements realtime.Turns: at once here, queued for Redis.
func (t *Turns) Done(ctx context.Context, key string, n int64) {
	t.local.Done(ctx, key, n)
	t.mu.Lock()
	if q, ok := t.queued[key]; !ok || n > q {
		t.queued[key] = n
	}
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// writeLoop writes queued watermarks until Close, then flushes once more.
func (t *Turns) writeLoop() {
	defer close(t.stopped)
	for {
		select {
		case <-t.wake:
			t.flush()
		case <-t.stop:
			t.flush()
			return
		}
	}
}

// flush writes every queued watermark in one pipeline; on failure they
// are queued again (unless a higher one was queued meanwhile).
func (t *Turns) flush() {
	t.mu.Lock()
	batch := t.queued
	if len(batch) == 0 {
		t.mu.Unlock()
		return
	}
	t.queued = make(map[string]int64, len(batch))
	t.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.Timeout)
	defer cancel()
	_, err := t.cfg.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for key, n := range batch {
			k := t.cfg.KeyPrefix + key
			p.ZAddGT(ctx, k, redis.Z{Score: float64(n), Member: member})
			p.PExpire(ctx, k, t.cfg.TTL)
			p.Publish(ctx, k, n) // wakes the waiters of other instances
		}
		return nil
	})
	if err == nil {
		return
	}
	t.mu.Lock()
	for key, n := range batch {
		if q, ok := t.queued[key]; !ok || n > q {
			t.queued[key] = n
		}
	}
	if time.Since(t.warned) >= 10*time.Second {
		t.warned = time.Now()
		t.cfg.Logger.Warn("redisturns: watermarks not written; other instances may take over fan-outs", "keys", len(batch), "err", err)
	}
	t.mu.Unlock()
}

// Close writes what is queued (bounded by Timeout) and stops the writer.
func (t *Turns) Close() error {
	t.once.Do(func() {
		close(t.stop)
		<-t.stopped
		t.notices.close()
	})
	return nil
}
