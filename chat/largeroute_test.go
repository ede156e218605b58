package chat_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"messenger/chat"
	"messenger/realtime"
	"messenger/realtime/memlog"
	"messenger/realtime/memturns"
	"messenger/realtime/redislog"
	"messenger/storage/pebble"
)

// Fan-out on read (docs/large-groups.md), threshold 3: two API instances
// sharing one store, on each log backend.

// instance is one API instance of a pair; closeLog ends its log (and so
// every subscription on it) where the log is its own.
type instance struct {
	*domain
	closeLog func()
}

// pairOn starts two instances sharing a store; logs makes each instance's
// log and turns.
func pairOn(t *testing.T, logs func(t *testing.T) (realtime.Log, realtime.Turns, func())) [2]instance {
	t.Helper()
	store, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var out [2]instance
	for i := range out {
		log, turns, closeLog := logs(t)
		d := newDomainOn(t, store, log, func(c *chat.Config) {
			c.LargeGroupThreshold = 3
			c.Turns = turns
		})
		out[i] = instance{domain: d, closeLog: closeLog}
	}
	return out
}

// memPair: both instances on one in-process log and turns (what one
// process with two services sees); closing a log is not possible there.
func memPair(t *testing.T) [2]instance {
	log := memlog.New(memlog.Config{})
	t.Cleanup(func() { log.Close() })
	turns := memturns.New(memturns.Config{})
	return pairOn(t, func(*testing.T) (realtime.Log, realtime.Turns, func()) { return log, turns, nil })
}

// redisPair: each instance with its own Redis log on cfg and Redis turns
// (a fresh key prefix for the pair).
func redisPair(t *testing.T, cfg redislog.Config) [2]instance {
	prefix := fmt.Sprintf("test-route-%x:", rand.Uint64())
	return pairOn(t, func(t *testing.T) (realtime.Log, realtime.Turns, func()) {
		log, turns := redisLogTurns(t, cfg, prefix)
		return log, turns, func() { log.Close() }
	})
}

func envAddrs(t *testing.T, name string) []string {
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("%s is not set: no Redis to test against", name)
	}
	return strings.Split(v, ",")
}

func TestLargeGroupRoutingMemory(t *testing.T) { largeGroupScenario(t, memPair(t)) }

func TestLargeGroupRoutingRedis(t *testing.T) {
	largeGroupScenario(t, redisPair(t, redislog.Config{Addrs: envAddrs(t, "MESSENGER_REDIS_ADDRS")}))
}

func TestLargeGroupRoutingRedisSharded(t *testing.T) {
	addrs := envAddrs(t, "MESSENGER_REDIS_ADDRS")
	cfg := redislog.Config{Addrs: []string{"redis://" + addrs[0] + "/1", "redis://" + addrs[0] + "/2"}}
	if len(addrs) >= 2 {
		cfg.Addrs = addrs[:2]
	}
	largeGroupScenario(t, redisPair(t, cfg))
}

func TestLargeGroupRoutingRedisCluster(t *testing.T) {
	largeGroupScenario(t, redisPair(t, redislog.Config{Addrs: envAddrs(t, "MESSENGER_REDIS_CLUSTER_ADDRS"), Cluster: true}))
}

// collector reads one chat subscription.
type collector struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	seqs   []int64  // MessageAdded seqs, in arrival order
	left   []string // MemberLeft user ids
	joined []string // MemberJoined user ids
	dms    []string // bodies of messages of other conversations ("dm:…")
	cursor string   // of the last durable event
	// firstCursor is the first MessageAdded's.
	firstCursor string
	done        bool
	err         error
}

func collectSub(t *testing.T, svc *chat.Service, me, after string) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sub, err := svc.Subscribe(ctx, me, after, nil)
	if err != nil {
		t.Fatalf("subscribe %s: %v", me, err)
	}
	c := &collector{cancel: cancel}
	go func() {
		for e := range sub.Events {
			c.mu.Lock()
			switch e := e.(type) {
			case *chat.MessageAdded:
				if strings.HasPrefix(e.Message.Body, "dm:") { // another conversation
					c.dms = append(c.dms, e.Message.Body)
					c.cursor = e.Cursor
					break
				}
				if len(c.seqs) == 0 {
					c.firstCursor = e.Cursor
				}
				c.seqs = append(c.seqs, e.Message.Seq)
				c.cursor = e.Cursor
			case *chat.MemberLeft:
				c.left = append(c.left, e.UserID)
				c.cursor = e.Cursor
			case *chat.MemberJoined:
				c.joined = append(c.joined, e.UserID)
				c.cursor = e.Cursor
			case *chat.MessageDeleted, *chat.ConversationUpdated:
				c.cursor = cursorOf(e)
			}
			c.mu.Unlock()
			sub.Taken()
		}
		c.mu.Lock()
		c.done, c.err = true, sub.Err()
		c.mu.Unlock()
	}()
	return c
}

func cursorOf(e chat.Event) string {
	switch e := e.(type) {
	case *chat.MessageDeleted:
		return e.Cursor
	case *chat.ConversationUpdated:
		return e.Cursor
	}
	return ""
}

// stop ends the subscription and waits for its end; it returns the last
// cursor.
func (c *collector) stop(t *testing.T) string {
	t.Helper()
	c.cancel()
	c.waitFor(t, "the end", func() bool { return c.done })
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cursor
}

// waitFor polls cond (under c.mu) for up to 30 s.
func (c *collector) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c.mu.Lock()
		ok := cond()
		seqs := append([]int64(nil), c.seqs...)
		c.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s; got seqs %v", what, seqs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// upTo waits until c has received seq n, then checks it received from..n
// exactly once, in order.
func (c *collector) upTo(t *testing.T, who string, from, n int64) {
	t.Helper()
	c.waitFor(t, fmt.Sprintf("%s to get seq %d", who, n), func() bool {
		return len(c.seqs) > 0 && c.seqs[len(c.seqs)-1] >= n
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	want := from
	for _, s := range c.seqs {
		if s != want {
			t.Fatalf("%s got seqs %v, want %d..%d once each in order", who, c.seqs, from, n)
		}
		want++
	}
	if want != n+1 {
		t.Fatalf("%s got seqs %v, want %d..%d", who, c.seqs, from, n)
	}
}

func largeGroupScenario(t *testing.T, in [2]instance) {
	ctx := context.Background()
	a, b := in[0], in[1]
	u := a.users(t, 5)
	g := a.group(t, u[0], u[1], u[2]) // 3 members: the threshold, not streamed

	s1 := collectSub(t, a.svc, u[1], "")
	s2 := collectSub(t, b.svc, u[2], "")

	// Two senders on two instances; the group passes the threshold
	// meanwhile (u[3] joins): nothing lost, seq order kept.
	const perSender = 8
	var wg sync.WaitGroup
	send := func(svc *chat.Service, me string) {
		defer wg.Done()
		for i := range perSender {
			if _, err := svc.Send(ctx, me, g, fmt.Sprintf("%s-%d", me, i), "hi"); err != nil {
				t.Error(err)
				return
			}
		}
	}
	wg.Add(2)
	go send(a.svc, u[0])
	go send(b.svc, u[1])
	s1.waitFor(t, "the first messages", func() bool { return len(s1.seqs) >= 3 })
	s1.mu.Lock()
	first := s1.firstCursor
	s1.mu.Unlock()
	if _, err := a.svc.AddMembers(ctx, u[0], g, []string{u[3]}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Past the mark for sure: these start the stream if no send did.
	for i := range 2 {
		if _, err := b.svc.Send(ctx, u[1], g, fmt.Sprintf("late-%d", i), "past the mark"); err != nil {
			t.Fatal(err)
		}
	}
	const total = 2*perSender + 2
	s1.upTo(t, "u1", 1, total)
	s2.upTo(t, "u2", 1, total)
	if streamed, err := a.svc.Streamed(ctx, g); err != nil || !streamed {
		t.Fatalf("the group of 4 is not streamed: %v", err)
	}
	// Resume with the composite cursor, on the other instance.
	cur := s1.stop(t)
	for i := range 4 {
		if _, err := b.svc.Send(ctx, u[0], g, fmt.Sprintf("r%d", i), "while away"); err != nil {
			t.Fatal(err)
		}
	}
	r1 := collectSub(t, b.svc, u[1], cur)
	r1.upTo(t, "u1 resumed", total+1, total+4)
	// The stream is started (at the latest by the first send after the
	// mark), so the cursors handed out are composite.
	r1.mu.Lock()
	composite := r1.cursor
	r1.mu.Unlock()
	if !strings.HasPrefix(composite, "L1.") {
		t.Fatalf("cursor after the switch %q is not composite", composite)
	}

	// A removed member gets nothing after their removal.
	if _, err := a.svc.RemoveMember(ctx, u[0], g, u[2]); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := a.svc.Send(ctx, u[0], g, fmt.Sprintf("x%d", i), "after removal"); err != nil {
			t.Fatal(err)
		}
	}
	r1.upTo(t, "u1 resumed", total+1, total+7)
	s2.waitFor(t, "u2's own MemberLeft", func() bool {
		for _, id := range s2.left {
			if id == u[2] {
				return true
			}
		}
		return false
	})
	s2.mu.Lock()
	for _, s := range s2.seqs {
		if s > total+4 {
			t.Errorf("u2 got seq %d after their removal", s)
		}
	}
	s2.mu.Unlock()

	// u[3] (joined past the threshold) reads the stream; its instance
	// closes mid-stream and it resumes on the other one.
	s3 := collectSub(t, a.svc, u[3], "")
	if _, err := b.svc.Send(ctx, u[0], g, "j1", "to the joiner"); err != nil {
		t.Fatal(err)
	}
	s3.upTo(t, "u3", total+8, total+8)
	if a.closeLog != nil {
		a.closeLog()
		s3.waitFor(t, "u3's subscription to end with its instance", func() bool { return s3.done })
	}
	cur3 := s3.stop(t)
	for i := range 3 {
		if _, err := b.svc.Send(ctx, u[0], g, fmt.Sprintf("k%d", i), "after the close"); err != nil {
			t.Fatal(err)
		}
	}
	// u[3]'s cursor so far holds stream positions only; what reached its
	// own log meanwhile (a direct message) is not missed either.
	dm, err := b.svc.CreateDirect(ctx, u[0], u[3])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Send(ctx, u[0], dm.ID, "dm1", "dm:while away"); err != nil {
		t.Fatal(err)
	}
	r3 := collectSub(t, b.svc, u[3], cur3)
	r3.upTo(t, "u3 resumed", total+9, total+11)
	r3.waitFor(t, "u3's direct message", func() bool { return len(r3.dms) == 1 })

	// A cursor of u[1]'s own log alone, from before the switch, resumes
	// across it: every message once, in order.
	// (Below the threshold the cursor was the own log's, as ever.)
	if first == "" || strings.HasPrefix(first, "L1.") {
		t.Fatalf("cursor of a message below the threshold %q: want the own log's", first)
	}
	// Messages keep coming while it subscribes: the stream is started at
	// the pointer in the backlog, not read from now first (which handed
	// out new messages before the backlog's, and then again).
	const during = 5
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range during {
			if _, err := b.svc.Send(ctx, u[0], g, fmt.Sprintf("c%d", i), "while u1 resumes"); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	l1 := collectSub(t, b.svc, u[1], first)
	wg.Wait()
	l1.upTo(t, "u1 from its first cursor", 2, total+11+during)

	// A join of the started stream: the newcomer hears their own join and
	// what follows it, from the stream.
	s4 := collectSub(t, b.svc, u[4], "")
	if _, err := b.svc.AddMembers(ctx, u[0], g, []string{u[4]}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := b.svc.Send(ctx, u[0], g, fmt.Sprintf("n%d", i), "to the newcomer"); err != nil {
			t.Fatal(err)
		}
	}
	s4.upTo(t, "u4", total+12+during, total+13+during)
	s4.mu.Lock()
	defer s4.mu.Unlock()
	if len(s4.joined) != 1 || s4.joined[0] != u[4] {
		t.Fatalf("u4 heard joins %v, want its own once", s4.joined)
	}
}
