// Package realtimetest is the contract suite every realtime.Log passes. It
// uses only the realtime.Log interface and random user ids, so backends may
// share one server across tests.
package realtimetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/realtime"
)

// Options are the retention settings a test needs from the log under test.
type Options struct {
	// MaxEvents per user log.
	MaxEvents int
	// SlowAfter: how long a full subscriber buffer is tolerated.
	SlowAfter time.Duration
}

// Factory returns a log for one test, configured with opts; closing it is
// the factory's job (t.Cleanup).
type Factory func(t *testing.T, opts Options) realtime.Log

// Run runs the suite.
func Run(t *testing.T, newLog Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, newLog Factory)
	}{
		{"LiveEventsArriveInOrder", testLiveOrder},
		{"ResumeGetsEveryMissedEventOnce", testResume},
		{"ExpiredCursorIsReportedNotSkipped", testExpired},
		{"MalformedCursorIsRefused", testBadCursor},
		{"UsersSeeOnlyTheirOwnLog", testIsolation},
		{"SignalsReachSubscribersButAreNotLogged", testSignals},
		{"SlowSubscriberIsDroppedWithoutBlockingAppend", testSlow},
		{"SeveralSubscribersOfOneUserAllReceive", testTwoDevices},
		{"RefusedEventsAreOfferedAgainAfterResume", testRefused},
		{"SinkIsCalledOneAtATime", testSinkSerial},
		{"ReplayAddsAnEventOnlyWhereItIsMissing", testAppendOnce},
		{"ConcurrentReplaysAddAnEventOnce", testConcurrentAppendOnce},
		{"ManySubscribersOfOneKeyGetEveryEventOnce", testManySubscribers},
		{"ARefusingSubscriberDoesNotDelayTheOthersOfItsKey", testSlowAmongMany},
		{"SubscribersOfOneKeyStartAtTheirOwnCursors", testCursorsOfOneKey},
		{"ASubscriptionFromNowIsPlacedBeforeItsFirstEvent", testPlaced},
		{"AppendAtReturnsTheEventsCursor", testAppendAt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newLog) })
	}
}

const wait = 5 * time.Second

func user() string { return "u-" + uuid.NewString() }

func ev(i int) realtime.Event {
	return realtime.Event{Type: "Test", Data: []byte(fmt.Sprintf(`{"i":%d}`, i))}
}

func subscribe(t *testing.T, l realtime.Log, u, after string) (<-chan realtime.Event, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, errf, err := realtime.Chan(ctx, l, u, after)
	if err != nil {
		t.Fatalf("Subscribe(after=%q): %v", after, err)
	}
	return ch, errf
}

func next(t *testing.T, ch <-chan realtime.Event) realtime.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatalf("subscription closed while an event was expected")
		}
		return e
	case <-time.After(wait):
		t.Fatalf("no event within %v", wait)
	}
	return realtime.Event{}
}

func expectNone(t *testing.T, ch <-chan realtime.Event, d time.Duration) {
	t.Helper()
	select {
	case e, ok := <-ch:
		if ok {
			t.Fatalf("unexpected event %s %s", e.Type, e.Data)
		}
	case <-time.After(d):
	}
}

func appendN(t *testing.T, l realtime.Log, users []string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := l.Append(context.Background(), users, ev(i)); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
}

func testLiveOrder(t *testing.T, newLog Factory) {
	l := newLog(t, Options{})
	u := user()
	ch, _ := subscribe(t, l, u, "")
	appendN(t, l, []string{u}, 0, 20)
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		e := next(t, ch)
		if string(e.Data) != string(ev(i).Data) || e.Type != "Test" {
			t.Fatalf("event %d = %s %s", i, e.Type, e.Data)
		}
		if e.Cursor == "" || seen[e.Cursor] {
			t.Fatalf("event %d has cursor %q (empty or repeated)", i, e.Cursor)
		}
		seen[e.Cursor] = true
	}
}

func testResume(t *testing.T, newLog Factory) {
	l := newLog(t, Options{})
	u := user()
	ctx, cancel := context.WithCancel(context.Background())
	ch, _, err := realtime.Chan(ctx, l, u, "")
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, []string{u}, 0, 5)
	var last string
	for i := 0; i < 3; i++ {
		last = next(t, ch).Cursor
	}
	cancel() // the client disconnects after seeing events 0..2
	appendN(t, l, []string{u}, 5, 10)
	ch2, _ := subscribe(t, l, u, last)
	for i := 3; i < 10; i++ {
		if e := next(t, ch2); string(e.Data) != string(ev(i).Data) {
			t.Fatalf("resumed event = %s, want %s", e.Data, ev(i).Data)
		}
	}
	appendN(t, l, []string{u}, 10, 11)
	if e := next(t, ch2); string(e.Data) != string(ev(10).Data) {
		t.Fatalf("live event after resume = %s", e.Data)
	}
	expectNone(t, ch2, 100*time.Millisecond)
}

func testExpired(t *testing.T, newLog Factory) {
	l := newLog(t, Options{MaxEvents: 5})
	u := user()
	ch, _ := subscribe(t, l, u, "")
	appendN(t, l, []string{u}, 0, 1)
	first := next(t, ch).Cursor
	appendN(t, l, []string{u}, 1, 40)
	_, _, err := realtime.Chan(context.Background(), l, u, first)
	if !errors.Is(err, realtime.ErrCursorExpired) {
		t.Fatalf("resuming from a trimmed cursor: err = %v, want ErrCursorExpired", err)
	}
}

func testBadCursor(t *testing.T, newLog Factory) {
	l := newLog(t, Options{})
	for _, c := range []string{"garbage", "!!!", "bm90LWEtY3Vyc29y"} {
		_, _, err := realtime.Chan(context.Background(), l, user(), c)
		if !errors.Is(err, realtime.ErrBadCursor) && !errors.Is(err, realtime.ErrCursorExpired) {
			t.Errorf("cursor %q: err = %v, want ErrBadCursor or ErrCursorExpired", c, err)
		}
	}
}

func testIsolation(t *testing.T, newLog Factory) {
	l := newLog(t, Options{})
	a, b := user(), user()
	chA, _ := subscribe(t, l, a, "")
	chB, _ := subscribe(t, l, b, "")
	appendN(t, l, []string{a}, 0, 1)
	appendN(t, l, []string{a, b}, 1, 2)
	if e := next(t, chA); string(e.Data) != string(ev(0).Data) {
		t.Fatalf("a got %s", e.Data)
	}
	next(t, chA)
	if e := next(t, chB); string(e.Data) != string(ev(1).Data) {
		t.Fatalf("b got %s, want only the event sent to both", e.Data)
	}
	expectNone(t, chB, 100*time.Millisecond)
}

func testSignals(t *testing.T, newLog Factory) {
	l := newLog(t, Options{})
	u := user()
	ch, _ := subscribe(t, l, u, "")
	appendN(t, l, []string{u}, 0, 1)
	c0 := next(t, ch).Cursor
	// Subscriptions to a distributed log may take a moment to be live.
	deadline := time.Now().Add(wait)
	for {
		if err := l.Signal(context.Background(), []string{u}, realtime.Event{Type: "Typing", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-ch:
			if e.Type != "Typing" || e.Cursor != "" {
				t.Fatalf("signal arrived as %+v; want type Typing, no cursor", e)
			}
		case <-time.After(100 * time.Millisecond):
			if time.Now().Before(deadline) {
				continue
			}
			t.Fatal("signal never arrived")
		}
		break
	}
	appendN(t, l, []string{u}, 1, 2)
	ch2, _ := subscribe(t, l, u, c0)
	for {
		e := next(t, ch2)
		if e.Type == "Typing" {
			t.Fatalf("resume replayed a signal")
		}
		if string(e.Data) == string(ev(1).Data) {
			break
		}
	}
}

func testSlow(t *testing.T, newLog Factory) {
	l := newLog(t, Options{MaxEvents: 10000, SlowAfter: 200 * time.Millisecond})
	u := user()
	ch, errf := subscribe(t, l, u, "")
	done := make(chan struct{})
	go func() {
		defer close(done)
		appendN(t, l, []string{u}, 0, 2000) // nobody reads ch
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Append blocked on a subscriber that does not read")
	}
	time.Sleep(4 * 200 * time.Millisecond) // the client stops reading for a while
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if ok {
				continue // drain what was buffered before the drop
			}
			if err := errf(); !errors.Is(err, realtime.ErrSlowConsumer) {
				t.Fatalf("slow subscriber ended with %v, want ErrSlowConsumer", err)
			}
			return
		case <-deadline:
			t.Fatal("slow subscriber was never dropped")
		}
	}
}

func testTwoDevices(t *testing.T, newLog Factory) {
	l := newLog(t, Options{})
	u := user()
	phone, _ := subscribe(t, l, u, "")
	laptop, _ := subscribe(t, l, u, "")
	appendN(t, l, []string{u}, 0, 3)
	for i := 0; i < 3; i++ {
		p, q := next(t, phone), next(t, laptop)
		if p.Cursor != q.Cursor || string(p.Data) != string(q.Data) {
			t.Fatalf("devices disagree: %+v vs %+v", p, q)
		}
	}
}
