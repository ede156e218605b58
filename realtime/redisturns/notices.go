package redisturns

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// notices wake this instance's waiters as soon as another instance moves a
// watermark they wait on. Every watermark written is also published on a
// channel named like its key; while a key has waiters here, this instance
// is subscribed to that channel, over one pub/sub connection for all keys.
// A notice only makes a waiter look sooner: one lost (or published between
// a waiter's read and its subscription taking effect) costs at most
// MaxPoll, the interval at which waiters read the watermark anyway.
type notices struct {
	ps       *redis.PubSub
	prefix   string
	received func(key string, n int64)

	mu   sync.Mutex
	refs map[string]int // waiters per key
	done chan struct{}  // closed when the receiving goroutine has ended
}

func newNotices(rdb redis.UniversalClient, prefix string, received func(key string, n int64)) *notices {
	ns := &notices{ps: rdb.Subscribe(context.Background()), prefix: prefix, received: received,
		refs: map[string]int{}, done: make(chan struct{})}
	go ns.receive()
	return ns
}

// receive hands every notice to received until the connection is closed.
func (ns *notices) receive() {
	defer close(ns.done)
	for msg := range ns.ps.Channel() {
		n, err := strconv.ParseInt(msg.Payload, 10, 64)
		if err == nil && strings.HasPrefix(msg.Channel, ns.prefix) {
			ns.received(msg.Channel[len(ns.prefix):], n)
		}
	}
}

// watch subscribes to key's notices until the returned func is called.
// Failures are ignored: waiters still read the watermark every MaxPoll.
func (ns *notices) watch(ctx context.Context, key string) (unwatch func()) {
	ns.mu.Lock()
	ns.refs[key]++
	if ns.refs[key] == 1 {
		_ = ns.ps.Subscribe(ctx, ns.prefix+key)
	}
	ns.mu.Unlock()
	return func() {
		ns.mu.Lock()
		defer ns.mu.Unlock()
		if ns.refs[key]--; ns.refs[key] == 0 {
			delete(ns.refs, key)
			_ = ns.ps.Unsubscribe(context.WithoutCancel(ctx), ns.prefix+key)
		}
	}
}

// close ends the subscription.
func (ns *notices) close() {
	_ = ns.ps.Close()
	<-ns.done
}
