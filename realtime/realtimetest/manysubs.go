package realtimetest

// Many subscribers of one key (issue #25: a large conversation's one
// stream, read by every online member's subscription).

import (
	"context"
	"sync"
	"testing"
	"time"

	"messenger/realtime"
)

// manyWait bounds the waits of these cases: hundreds of subscriptions on a
// loaded machine.
const manyWait = 30 * time.Second

// collectSink keeps every event offered while open; closed, it refuses.
type collectSink struct {
	mu     sync.Mutex
	closed bool
	got    []realtime.Event
	ended  chan error
}

func newCollectSink(open bool) *collectSink {
	return &collectSink{closed: !open, ended: make(chan error, 1)}
}

func (s *collectSink) Offer(e realtime.Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.got = append(s.got, e)
	return true
}

func (s *collectSink) End(err error) { s.ended <- err }

func (s *collectSink) open() {
	s.mu.Lock()
	s.closed = false
	s.mu.Unlock()
}

func (s *collectSink) events() []realtime.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]realtime.Event(nil), s.got...)
}

// waitFor polls until every sink holds n events (or the deadline passes).
func waitFor(t *testing.T, sinks []*collectSink, n int) {
	t.Helper()
	deadline := time.Now().Add(manyWait)
	for i, s := range sinks {
		for len(s.events()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("subscriber %d holds %d events, want %d", i, len(s.events()), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// checkRange fails unless s holds exactly events from..to-1, in order.
func checkRange(t *testing.T, i int, s *collectSink, from, to int) {
	t.Helper()
	got := s.events()
	if len(got) != to-from {
		t.Fatalf("subscriber %d holds %d events, want %d", i, len(got), to-from)
	}
	for k, e := range got {
		if want := string(ev(from + k).Data); string(e.Data) != want {
			t.Fatalf("subscriber %d event %d = %s, want %s", i, k, e.Data, want)
		}
		if e.Cursor == "" {
			t.Fatalf("subscriber %d event %d has no cursor", i, k)
		}
	}
}

func subscribeSink(t *testing.T, l realtime.Log, u, after string, s realtime.Sink) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	resume, err := l.Subscribe(ctx, u, after, s)
	if err != nil {
		t.Fatalf("Subscribe(after=%q): %v", after, err)
	}
	return resume
}

// testManySubscribers: 200 subscribers of one key each get every event
// exactly once, in order, with the same cursors.
func testManySubscribers(t *testing.T, newLog Factory) {
	l := newLog(t, Options{})
	u := user()
	const subs, events = 200, 30
	sinks := make([]*collectSink, subs)
	for i := range sinks {
		sinks[i] = newCollectSink(true)
		subscribeSink(t, l, u, "", sinks[i])
	}
	appendN(t, l, []string{u}, 0, events)
	waitFor(t, sinks, events)
	want := sinks[0].events()
	for i, s := range sinks {
		checkRange(t, i, s, 0, events)
		for k, e := range s.events() {
			if e.Cursor != want[k].Cursor {
				t.Fatalf("subscriber %d event %d cursor differs from subscriber 0's", i, k)
			}
		}
	}
}

// testSlowAmongMany: a subscriber that refuses every event does not hold
// back the others of its key, and gets everything once it resumes.
func testSlowAmongMany(t *testing.T, newLog Factory) {
	l := newLog(t, Options{SlowAfter: 2 * manyWait})
	u := user()
	slow := newCollectSink(false)
	resumeSlow := subscribeSink(t, l, u, "", slow)
	fast := make([]*collectSink, 50)
	for i := range fast {
		fast[i] = newCollectSink(true)
		subscribeSink(t, l, u, "", fast[i])
	}
	const events = 20
	appendN(t, l, []string{u}, 0, events)
	waitFor(t, fast, events) // while slow refuses
	for i, s := range fast {
		checkRange(t, i, s, 0, events)
	}
	if n := len(slow.events()); n != 0 {
		t.Fatalf("the refusing subscriber holds %d events", n)
	}
	slow.open()
	resumeSlow()
	waitFor(t, []*collectSink{slow}, events)
	checkRange(t, -1, slow, 0, events)
	appendN(t, l, []string{u}, events, events+1)
	waitFor(t, append(fast, slow), events+1)
	checkRange(t, -1, slow, 0, events+1)
	for i, s := range fast {
		checkRange(t, i, s, 0, events+1)
	}
}

// testCursorsOfOneKey: subscribers of one key resuming from different
// cursors, and live ones beside them, each get exactly the events after
// their own start.
func testCursorsOfOneKey(t *testing.T, newLog Factory) {
	l := newLog(t, Options{})
	u := user()
	first := newCollectSink(true)
	subscribeSink(t, l, u, "", first)
	const before, after = 10, 10
	appendN(t, l, []string{u}, 0, before)
	waitFor(t, []*collectSink{first}, before)
	cursors := first.events()
	var sinks []*collectSink
	var froms []int
	for i, e := range cursors {
		for range 3 {
			s := newCollectSink(true)
			subscribeSink(t, l, u, e.Cursor, s)
			sinks, froms = append(sinks, s), append(froms, i+1)
		}
	}
	for range 5 {
		s := newCollectSink(true)
		subscribeSink(t, l, u, "", s)
		sinks, froms = append(sinks, s), append(froms, before)
	}
	appendN(t, l, []string{u}, before, before+after)
	for i, s := range sinks {
		waitFor(t, []*collectSink{s}, before+after-froms[i])
		checkRange(t, i, s, froms[i], before+after)
	}
	waitFor(t, []*collectSink{first}, before+after)
	checkRange(t, -1, first, 0, before+after)
}
