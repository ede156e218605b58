// Package redisrevocation is the revocation.Bus a fleet shares: one Redis
// pub/sub channel. Each instance holds one subscription connection and
// hands every notice to its local subscribers.
package redisrevocation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"messenger/revocation"
)

var _ revocation.Bus = (*Bus)(nil)

// Config configures the Redis bus. Zero values are the defaults.
type Config struct {
	// Addrs of the Redis node (the first is used) or the Redis Cluster
	// seeds. Required.
	Addrs []string
	// Cluster: Addrs seed a Redis Cluster (PUBLISH reaches every node's
	// subscribers).
	Cluster bool
	// Password for Redis, if any.
	Password string
	// Channel is the pub/sub channel (default "messenger:sessions:ended");
	// tests use their own.
	Channel string
	// Timeout bounds a publish (default 1 s).
	Timeout time.Duration
	// Hooks are added to the Redis client (metrics, tracing).
	Hooks []redis.Hook
	// Logger receives undecodable notices and lost connections (default
	// slog.Default()).
	Logger *slog.Logger
}

// Bus publishes to and listens on one channel. go-redis re-subscribes by
// itself after a lost connection; notices published meanwhile are lost
// (see revocation.Bus for why that is safe).
type Bus struct {
	cfg    Config
	rdb    redis.UniversalClient
	pubsub *redis.PubSub
	done   chan struct{}

	mu   sync.Mutex
	next int
	subs map[int]func(revocation.Ended)
}

// New connects, subscribes to the channel and starts delivering; the
// subscription is confirmed before it returns, so a notice published by
// anyone after New returns reaches this instance.
func New(ctx context.Context, cfg Config) (*Bus, error) {
	if len(cfg.Addrs) == 0 {
		return nil, errors.New("redisrevocation: Config.Addrs is required")
	}
	if cfg.Channel == "" {
		cfg.Channel = "messenger:sessions:ended"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var rdb redis.UniversalClient
	if cfg.Cluster {
		rdb = redis.NewClusterClient(&redis.ClusterOptions{Addrs: cfg.Addrs, Password: cfg.Password, DialTimeout: cfg.Timeout})
	} else {
		rdb = redis.NewClient(&redis.Options{Addr: cfg.Addrs[0], Password: cfg.Password, DialTimeout: cfg.Timeout})
	}
	for _, h := range cfg.Hooks {
		rdb.AddHook(h)
	}
	ps := rdb.Subscribe(ctx, cfg.Channel)
	if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
		_ = ps.Close()
		_ = rdb.Close()
		return nil, fmt.Errorf("redisrevocation: subscribe %s on %v: %w", cfg.Channel, cfg.Addrs, err)
	}
	b := &Bus{cfg: cfg, rdb: rdb, pubsub: ps, done: make(chan struct{}), subs: map[int]func(revocation.Ended){}}
	go b.deliver(ps.Channel())
	return b, nil
}

// deliver hands each notice to the local subscribers, one at a time.
func (b *Bus) deliver(ch <-chan *redis.Message) {
	defer close(b.done)
	for m := range ch {
		var e revocation.Ended
		if err := json.Unmarshal([]byte(m.Payload), &e); err != nil || e.UserID == "" {
			b.cfg.Logger.Warn("redisrevocation: undecodable notice", "payload", m.Payload)
			continue
		}
		b.mu.Lock()
		for _, fn := range b.subs {
			fn(revocation.Ended{UserID: e.UserID, SessionIDs: append([]string(nil), e.SessionIDs...)})
		}
		b.mu.Unlock()
	}
}

// Publish implements revocation.Bus: one PUBLISH. Local subscribers hear
// of it when Redis echoes it back, like every other instance.
func (b *Bus) Publish(ctx context.Context, e revocation.Ended) error {
	payload, err := json.Marshal(e)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	if err := b.rdb.Publish(ctx, b.cfg.Channel, payload).Err(); err != nil {
		return fmt.Errorf("redisrevocation: publish: %w", err)
	}
	return nil
}

// Subscribe implements revocation.Bus.
func (b *Bus) Subscribe(fn func(revocation.Ended)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	id := b.next
	b.subs[id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
	}
}

// Close implements revocation.Bus: it ends the subscription and waits for
// the delivery goroutine.
func (b *Bus) Close() error {
	err := b.pubsub.Close()
	<-b.done
	b.mu.Lock()
	clear(b.subs)
	b.mu.Unlock()
	return errors.Join(err, b.rdb.Close())
}
