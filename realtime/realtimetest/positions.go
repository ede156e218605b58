package realtimetest

import (
	"context"
	"sync"
	"testing"

	"messenger/realtime"
)

// placedSink records Placed and the offers after it.
type placedSink struct {
	mu     sync.Mutex
	placed []string
	offers int
	early  bool // an offer came before Placed
}

func (s *placedSink) Placed(c string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.placed = append(s.placed, c)
}

func (s *placedSink) Offer(realtime.Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.placed) == 0 {
		s.early = true
	}
	s.offers++
	return true
}

func (s *placedSink) End(error) {}

// testPlaced: a subscription from now tells its start once, before any
// offer, and that cursor resumes at exactly the events appended after it
// (on an empty log and on one with events before); a resumed subscription
// is not placed.
func testPlaced(t *testing.T, newLog Factory) {
	l := newLog(t, Options{})
	for _, before := range []int{0, 3} {
		u := user()
		appendN(t, l, []string{u}, 100, 100+before)
		ctx, cancel := context.WithCancel(context.Background())
		s := &placedSink{}
		if _, err := l.Subscribe(ctx, u, "", s); err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		placed := append([]string(nil), s.placed...)
		s.mu.Unlock()
		if len(placed) != 1 || placed[0] == "" {
			cancel()
			t.Fatalf("%d events before: Placed %q before Subscribe returned, want one cursor", before, placed)
		}
		appendN(t, l, []string{u}, 0, 2)
		cancel()
		ch, _ := subscribe(t, l, u, placed[0])
		for i := 0; i < 2; i++ {
			if e := next(t, ch); string(e.Data) != string(ev(i).Data) {
				t.Fatalf("%d events before: resumed at the placed cursor, event %d = %s, want %s", before, i, e.Data, ev(i).Data)
			}
		}
		s.mu.Lock()
		early := s.early
		s.mu.Unlock()
		if early {
			t.Fatal("an event was offered before Placed")
		}
		resumed := &placedSink{}
		rctx, rcancel := context.WithCancel(context.Background())
		if _, err := l.Subscribe(rctx, u, placed[0], resumed); err != nil {
			rcancel()
			t.Fatal(err)
		}
		rcancel()
		resumed.mu.Lock()
		n := len(resumed.placed)
		resumed.mu.Unlock()
		if n != 0 {
			t.Fatalf("a subscription from a cursor was placed %d times", n)
		}
	}
}

// testAppendAt: AppendAt returns the cursor the event's subscribers see,
// and resuming after it starts with the next event.
func testAppendAt(t *testing.T, newLog Factory) {
	l := newLog(t, Options{})
	u := user()
	appendN(t, l, []string{u}, 0, 2)
	ch, _ := subscribe(t, l, u, "")
	var cursors []string
	for i := 2; i < 5; i++ {
		c, err := l.AppendAt(context.Background(), u, ev(i))
		if err != nil {
			t.Fatal(err)
		}
		cursors = append(cursors, c)
	}
	for i, c := range cursors {
		if e := next(t, ch); e.Cursor != c || string(e.Data) != string(ev(i+2).Data) {
			t.Fatalf("event %d arrived as %s with cursor %q; AppendAt returned %q", i+2, e.Data, e.Cursor, c)
		}
	}
	r, _ := subscribe(t, l, u, cursors[0])
	if e := next(t, r); string(e.Data) != string(ev(3).Data) {
		t.Fatalf("resumed after AppendAt's cursor: got %s, want %s", e.Data, ev(3).Data)
	}
	// On a log nobody ever wrote or read.
	fresh := user()
	c, err := l.AppendAt(context.Background(), fresh, ev(7))
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, []string{fresh}, 8, 9)
	f, _ := subscribe(t, l, fresh, c)
	if e := next(t, f); string(e.Data) != string(ev(8).Data) {
		t.Fatalf("new log: resumed after AppendAt's cursor: got %s, want %s", e.Data, ev(8).Data)
	}
}
