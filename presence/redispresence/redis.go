// Package redispresence is the presence.Tracker a fleet shares, in Redis.
package redispresence

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"messenger/presence"
)

var _ presence.Tracker = (*Redis)(nil)

// Config configures the Redis tracker. Zero values are the defaults.
type Config struct {
	// Addrs of the Redis node (the first is used) or the Redis Cluster seeds.
	Addrs []string
	// Cluster: Addrs seed a Redis Cluster.
	Cluster bool
	// Password for Redis, if any.
	Password string
	// KeyPrefix starts every key (default "presence:"; no braces).
	KeyPrefix string
	// TTL is how long a subscription counts as live without a refresh
	// (default 60 s): an instance that dies stops refreshing, and its users
	// go offline within TTL.
	TTL time.Duration
	// Timeout bounds each Redis call (default 1 s).
	Timeout time.Duration
	// Hooks are added to the Redis client (metrics, tracing).
	Hooks []redis.Hook
}

// Redis is the Tracker shared by a fleet. Each user has a sorted set,
// hash-tagged {u:<id>} so Redis Cluster keeps it in one slot, of live
// subscription handles scored by when they expire; every instance refreshes
// the handles of its own subscriptions every TTL/3, so a crashed instance's
// handles lapse by themselves. Counting and changing the set happen in one
// MULTI, so "first" and "last" are decided once across the fleet.
type Redis struct {
	cfg      Config
	rdb      redis.UniversalClient
	instance string
	next     uint64
	mu       sync.Mutex
	local    map[string]string // handle -> user, this instance's live subscriptions
	done     chan struct{}
	wg       sync.WaitGroup
	closing  sync.Once
}

// New connects to Redis and starts the refresh loop.
func New(ctx context.Context, cfg Config) (*Redis, error) {
	if len(cfg.Addrs) == 0 {
		return nil, errors.New("presence: Config.Addrs is required")
	}
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = "presence:"
	}
	if cfg.TTL <= 0 {
		cfg.TTL = time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Second
	}
	var rdb redis.UniversalClient
	if cfg.Cluster {
		rdb = redis.NewClusterClient(&redis.ClusterOptions{Addrs: cfg.Addrs, Password: cfg.Password,
			DialTimeout: cfg.Timeout, ReadTimeout: cfg.Timeout, WriteTimeout: cfg.Timeout})
	} else {
		rdb = redis.NewClient(&redis.Options{Addr: cfg.Addrs[0], Password: cfg.Password,
			DialTimeout: cfg.Timeout, ReadTimeout: cfg.Timeout, WriteTimeout: cfg.Timeout})
	}
	for _, h := range cfg.Hooks {
		rdb.AddHook(h)
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("presence: redis %v: %w", cfg.Addrs, err)
	}
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	r := &Redis{cfg: cfg, rdb: rdb, instance: hex.EncodeToString(id), local: map[string]string{}, done: make(chan struct{})}
	r.wg.Add(1)
	go r.refreshLoop() //nolint:gosec // G118: the refresher lives as long as the tracker (until Close), not a request
	return r, nil
}

func (r *Redis) key(userID string) string { return r.cfg.KeyPrefix + "{u:" + userID + "}:conns" }
func (r *Redis) seenKey(userID string) string {
	return r.cfg.KeyPrefix + "{u:" + userID + "}:seen"
}

func (r *Redis) expiry() float64 { return float64(time.Now().Add(r.cfg.TTL).UnixMilli()) }
func nowScore() string           { return strconv.FormatInt(time.Now().UnixMilli(), 10) }

// Connect implements presence.Tracker.
func (r *Redis) Connect(ctx context.Context, userID string) (string, bool, error) {
	r.mu.Lock()
	r.next++
	h := r.instance + "." + presence.Handle(r.next)
	r.local[h] = userID
	r.mu.Unlock()
	k := r.key(userID)
	var card *redis.IntCmd
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRemRangeByScore(ctx, k, "-inf", "("+nowScore())
		p.ZAdd(ctx, k, redis.Z{Score: r.expiry(), Member: h})
		p.PExpire(ctx, k, 2*r.cfg.TTL)
		card = p.ZCard(ctx, k)
		return nil
	})
	if err != nil {
		return h, false, fmt.Errorf("presence: connect %s: %w", userID, err)
	}
	return h, card.Val() == 1, nil
}

// Disconnect implements presence.Tracker.
func (r *Redis) Disconnect(ctx context.Context, userID, h string, at time.Time) (bool, error) {
	r.mu.Lock()
	_, mine := r.local[h]
	delete(r.local, h)
	r.mu.Unlock()
	if !mine {
		return false, nil
	}
	k := r.key(userID)
	var removed, card *redis.IntCmd
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		removed = p.ZRem(ctx, k, h)
		p.ZRemRangeByScore(ctx, k, "-inf", "("+nowScore())
		card = p.ZCard(ctx, k)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("presence: disconnect %s: %w", userID, err)
	}
	if removed.Val() == 0 || card.Val() > 0 {
		return false, nil
	}
	if err := r.rdb.Set(ctx, r.seenKey(userID), at.UTC().Format(time.RFC3339Nano), 90*24*time.Hour).Err(); err != nil {
		return true, fmt.Errorf("presence: last seen %s: %w", userID, err)
	}
	return true, nil
}

// State implements presence.Tracker.
func (r *Redis) State(ctx context.Context, userID string) (bool, *time.Time, error) {
	var live *redis.IntCmd
	var seen *redis.StringCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		live = p.ZCount(ctx, r.key(userID), nowScore(), "+inf")
		seen = p.Get(ctx, r.seenKey(userID))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, nil, fmt.Errorf("presence: state %s: %w", userID, err)
	}
	if live.Val() > 0 {
		return true, nil, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, seen.Val()); err == nil {
		return false, &t, nil
	}
	return false, nil, nil
}

// refreshLoop pushes back the expiry of this instance's live handles.
func (r *Redis) refreshLoop() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.TTL / 3)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
		}
		r.mu.Lock()
		local := make(map[string]string, len(r.local))
		for h, u := range r.local {
			local[h] = u
		}
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.TTL/3)
		_, _ = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			exp := r.expiry()
			for h, u := range local {
				p.ZAdd(ctx, r.key(u), redis.Z{Score: exp, Member: h})
				p.PExpire(ctx, r.key(u), 2*r.cfg.TTL)
			}
			return nil
		})
		cancel()
	}
}

// Close stops refreshing and closes the connection; this instance's
// handles then lapse within TTL.
func (r *Redis) Close() error {
	var err error
	r.closing.Do(func() {
		close(r.done)
		r.wg.Wait()
		err = r.rdb.Close()
	})
	return err
}
