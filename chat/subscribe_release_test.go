package chat_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"messenger/chat"
	"messenger/realtime"
	"messenger/realtime/memlog"
	"messenger/storage/pebble"
)

// countingLog counts the subscriptions of each key (ever) and the live
// ones: from Subscribe until the log calls its sink's End.
type countingLog struct {
	realtime.Log
	mu   sync.Mutex
	live map[string]int
	ever map[string]int
}

func (l *countingLog) add(key string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.live[key] += n
	if n > 0 {
		l.ever[key] += n
	}
}

// ended says key was subscribed and no subscription of it is live.
func (l *countingLog) ended(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ever[key] > 0 && l.live[key] == 0
}

func (l *countingLog) Subscribe(ctx context.Context, key, after string, sink realtime.Sink) (func(), error) {
	l.add(key, 1) // before: End may come before Subscribe returns
	resume, err := l.Log.Subscribe(ctx, key, after, &countedSink{Sink: sink, l: l, key: key})
	if err != nil {
		l.add(key, -1)
	}
	return resume, err
}

type countedSink struct {
	realtime.Sink
	l   *countingLog
	key string
}

func (s *countedSink) Placed(cursor string) {
	if p, ok := s.Sink.(realtime.Placer); ok {
		p.Placed(cursor)
	}
}

func (s *countedSink) End(err error) {
	s.l.add(s.key, -1)
	s.Sink.End(err)
}

// TestAFailedSubscriptionReleasesMyOwnLogWhileItsContextLives: a
// subscription that reads a group's stream (followed from a pointer in my
// own log) and is dropped for not reading it ends, and the log lets go of
// my own log too, although the subscriber's context never ends.
func TestAFailedSubscriptionReleasesMyOwnLogWhileItsContextLives(t *testing.T) {
	ctx := context.Background()
	store, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	inner := memlog.New(memlog.Config{SlowAfter: 100 * time.Millisecond})
	t.Cleanup(func() { inner.Close() })
	log := &countingLog{Log: inner, live: map[string]int{}, ever: map[string]int{}}
	d := newDomainOn(t, store, log, func(c *chat.Config) { c.LargeGroupThreshold = 3 })
	u := d.users(t, 4)
	me := u[1]

	sub, err := d.svc.Subscribe(ctx, me, "", nil) // never read, never cancelled
	if err != nil {
		t.Fatal(err)
	}
	g := d.group(t, u[0], u[1], u[2], u[3]) // 4 members: streamed
	for i := range 2 * 16 {                 // more than Events holds
		if _, err := d.svc.Send(ctx, u[0], g, newClientID(), "hello"); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	// Not read, the subscription is dropped from the group's stream after
	// the log's slow-consumer limit.
	waitUntil(t, "the group's stream let go", func() bool { return log.ended(chat.StreamKey(g)) })
	timeout := time.After(3 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-sub.Events:
			sub.Taken()
		case <-timeout:
			t.Fatal("the subscription did not end")
		}
	}
	if sub.Err() == nil {
		t.Fatal("the subscription ended without a reason")
	}
	// Something more for me: my own log may still be offering to the
	// closed subscription; it must let go of it within its slow limit.
	d.svc.Publish(ctx, []string{me}, &chat.MemberLeft{UserID: markerUser})
	waitUntil(t, "my own log let go", func() bool { return log.ended(me) })
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 3 s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
