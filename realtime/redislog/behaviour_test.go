package redislog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"messenger/realtime"
)

func users(n int) []string {
	u := make([]string, n)
	for i := range u {
		u[i] = "u-" + uuid.NewString()
	}
	return u
}

func recv(t *testing.T, ch <-chan realtime.Event) realtime.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed while an event was expected")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return realtime.Event{}
}

// roundTrips counts, per node address, the round trips (single commands
// and pipelines) a client makes.
type roundTrips struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *roundTrips) hook(addr string) redis.Hook { return &countHook{r: r, addr: addr} }

func (r *roundTrips) snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]int{}
	for k, v := range r.n {
		m[k] = v
	}
	return m
}

type countHook struct {
	r    *roundTrips
	addr string
}

// measured marks the contexts whose commands are counted.
type measured struct{}

func (h *countHook) add(ctx context.Context) {
	if ctx.Value(measured{}) == nil {
		return // a subscriber's read, not the append under test
	}
	h.r.mu.Lock()
	h.r.n[h.addr]++
	h.r.mu.Unlock()
}
func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.add(ctx); return next(ctx, cmd) }
}
func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.add(ctx); return next(ctx, cmds) }
}

// countRoundTrips hooks every node client of l.
func countRoundTrips(t *testing.T, l *Log) *roundTrips {
	r := &roundTrips{n: map[string]int{}}
	for _, s := range l.shards {
		if s.cc != nil {
			err := s.cc.ForEachShard(context.Background(), func(ctx context.Context, c *redis.Client) error {
				c.AddHook(r.hook(c.Options().Addr))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		s.node.AddHook(r.hook(s.name))
	}
	return r
}

func testBigAppend(t *testing.T, cfg Config) {
	l := open(t, cfg)
	rt := countRoundTrips(t, l) // before any goroutine uses the clients
	recipients := users(1000)
	// A few recipients are watching, so we also see the event arrive.
	var subs []<-chan realtime.Event
	for _, u := range recipients[:3] {
		ch, _, err := realtime.Chan(t.Context(), l, u, "")
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, ch)
	}
	// Warm the pools: dialing a connection (HELLO, SELECT, SETNAME) is not
	// part of an append.
	if err := l.Append(t.Context(), recipients, realtime.Event{Type: "Warm"}); err != nil {
		t.Fatal(err)
	}
	for _, ch := range subs {
		recv(t, ch)
	}
	ctx := context.WithValue(t.Context(), measured{}, true)
	if err := l.Append(ctx, recipients, realtime.Event{Type: "MessageAdded", Data: []byte(`{"big":1}`)}); err != nil {
		t.Fatal(err)
	}
	got := rt.snapshot()
	nodes := len(l.shards)
	if cfg.Cluster {
		var masters atomic.Int64
		_ = l.shards[0].cc.ForEachMaster(t.Context(), func(context.Context, *redis.Client) error { masters.Add(1); return nil })
		nodes = int(masters.Load())
	}
	if len(got) != nodes {
		t.Errorf("append reached %d nodes, want %d: %v", len(got), nodes, got)
	}
	for addr, n := range got {
		if n != 1 {
			t.Errorf("append made %d round trips to %s, want 1 (all: %v)", n, addr, got)
		}
	}
	for _, ch := range subs {
		if e := recv(t, ch); string(e.Data) != `{"big":1}` {
			t.Fatalf("got %s", e.Data)
		}
	}
}

func TestAppendTo1000IsOneRoundTripPerShard(t *testing.T) {
	t.Run("single", func(t *testing.T) { testBigAppend(t, singleConfig(t)) })
	t.Run("sharded", func(t *testing.T) { testBigAppend(t, shardedConfig(t)) })
	t.Run("cluster", func(t *testing.T) { testBigAppend(t, clusterConfig(t)) })
}

func TestTwoThousandSubscribersShareAHandfulOfConnections(t *testing.T) {
	cfg := singleConfig(t)
	l := open(t, cfg)
	const n = 2000
	us := users(n)
	chans := make([]<-chan realtime.Event, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, u := range us {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, _, err := realtime.Chan(t.Context(), l, u, "")
			if err != nil {
				errs <- err
				return
			}
			chans[i] = ch
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := l.Append(t.Context(), us, realtime.Event{Type: "Hello", Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	for _, ch := range chans {
		if e := recv(t, ch); e.Type != "Hello" {
			t.Fatalf("got %+v", e)
		}
	}

	st := l.shards[0].node.PoolStats()
	t.Logf("pool: %d command connections, %d pub/sub", st.TotalConns, st.PubSubStats.Active)
	opt, _ := cfg.nodeOptions(cfg.Addrs[0], "observer")
	obs := redis.NewClient(opt)
	defer obs.Close()
	list, err := obs.ClientList(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	conns := strings.Count(list, "name="+l.name+" ")
	t.Logf("CLIENT LIST: %d connections named %s for %d subscribers", conns, l.name, n)
	if max := 10 + 1; conns > max { // PoolSize + one pub/sub connection
		t.Errorf("%d subscribers hold %d connections, want at most %d", n, conns, max)
	}
}

// The entry just before the first one kept is the edge: resuming from it
// misses nothing, from the one before it misses one event.
func TestCursorBeforeFirstKeptEntryResumesOneOlderExpires(t *testing.T) {
	l := open(t, Config{Addrs: singleConfig(t).Addrs, MaxLen: 5})
	u := users(1)
	ch, _, err := realtime.Chan(t.Context(), l, u[0], "")
	if err != nil {
		t.Fatal(err)
	}
	var cursors []string
	for i := range 10 {
		if err := l.Append(t.Context(), u, realtime.Event{Type: "T", Data: fmt.Appendf(nil, "%d", i)}); err != nil {
			t.Fatal(err)
		}
		cursors = append(cursors, recv(t, ch).Cursor)
	}
	// Kept: events 5..9. Cursor of event 4 resumes at 5.
	ch2, _, err := realtime.Chan(t.Context(), l, u[0], cursors[4])
	if err != nil {
		t.Fatalf("resume from the entry before the first kept: %v", err)
	}
	if e := recv(t, ch2); string(e.Data) != "5" {
		t.Fatalf("resumed at %s, want 5", e.Data)
	}
	if _, _, err := realtime.Chan(t.Context(), l, u[0], cursors[3]); !errors.Is(err, realtime.ErrCursorExpired) {
		t.Fatalf("resume from a trimmed-past cursor: %v, want ErrCursorExpired", err)
	}
}

// A stream lost with its epoch (as by FLUSHALL, done here by deleting the
// user's keys so the shared server is left alone) is a reset: old cursors
// expire, live subscriptions end, even though the new stream's ids are larger.
func TestLostStreamExpiresCursorsInsteadOfSkipping(t *testing.T) {
	cfg := singleConfig(t)
	l := open(t, cfg)
	u := users(1)
	ctx := t.Context()
	ch, errf, err := realtime.Chan(ctx, l, u[0], "")
	if err != nil {
		t.Fatal(err)
	}
	_ = l.Append(ctx, u, realtime.Event{Type: "T", Data: []byte("0")})
	c0 := recv(t, ch).Cursor
	if err := l.shards[0].rdb.Del(ctx, l.streamKey(u[0]), l.epochKey(u[0])).Err(); err != nil {
		t.Fatal(err)
	}
	_ = l.Append(ctx, u, realtime.Event{Type: "T", Data: []byte("1")})
	for e := range ch {
		t.Fatalf("live subscription read %s across a reset", e.Data)
	}
	if err := errf(); !errors.Is(err, realtime.ErrCursorExpired) {
		t.Fatalf("live subscription ended with %v, want ErrCursorExpired", err)
	}
	if _, _, err := realtime.Chan(ctx, l, u[0], c0); !errors.Is(err, realtime.ErrCursorExpired) {
		t.Fatalf("resume after reset: %v, want ErrCursorExpired", err)
	}
}

// A subscriber on one instance gets what is appended, and signalled,
// through another (here on the cluster, where notices are sharded pub/sub).
func TestSubscriberOnOneInstanceReceivesAppendsThroughAnother(t *testing.T) {
	a := open(t, clusterConfig(t))
	b, err := New(t.Context(), a.cfg) // same keys: a second API process
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	u := users(1)
	ch, _, err := realtime.Chan(t.Context(), a, u[0], "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := b.Append(t.Context(), u, realtime.Event{Type: "T", Data: fmt.Appendf(nil, "%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		if e := recv(t, ch); string(e.Data) != fmt.Sprint(i) {
			t.Fatalf("event %d = %s", i, e.Data)
		}
	}
	if err := b.Signal(t.Context(), u, realtime.Event{Type: "Typing"}); err != nil {
		t.Fatal(err)
	}
	if e := recv(t, ch); e.Type != "Typing" || e.Cursor != "" {
		t.Fatalf("signal arrived as %+v", e)
	}
}
