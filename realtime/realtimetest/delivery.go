package realtimetest

// Cases of replayed appends and of what a subscriber may refuse.

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/realtime"
)

func testAppendOnce(t *testing.T, newLog Factory) {
	l := newLog(t, Options{})
	had, lacked := user(), user()
	since := time.Now().Add(-time.Minute)
	e := realtime.Event{ID: "m-" + uuid.NewString(), Type: "Test", Data: []byte(`{"i":1}`)}
	if err := l.Append(context.Background(), []string{had}, e); err != nil {
		t.Fatalf("Append: %v", err)
	}
	chHad, _ := subscribe(t, l, had, "")
	chLacked, _ := subscribe(t, l, lacked, "")
	// A replay of the same fan-out, then one more ordinary event, so each
	// subscriber's next event shows whether the replay added anything.
	if err := l.AppendOnce(context.Background(), []string{had, lacked}, e, since); err != nil {
		t.Fatalf("AppendOnce: %v", err)
	}
	appendN(t, l, []string{had, lacked}, 2, 3)
	if got := next(t, chHad); string(got.Data) != string(ev(2).Data) {
		t.Fatalf("the user whose log had the event got %s %s again; want only the next event", got.ID, got.Data)
	}
	got := next(t, chLacked)
	if got.ID != e.ID || string(got.Data) != string(e.Data) {
		t.Fatalf("the user whose log lacked the event got %q %s, want the replayed event %q", got.ID, got.Data, e.ID)
	}
	if got := next(t, chLacked); string(got.Data) != string(ev(2).Data) {
		t.Fatalf("after the replay: got %s, want the next event", got.Data)
	}
}

func testConcurrentAppendOnce(t *testing.T, newLog Factory) {
	l := newLog(t, Options{})
	u := user()
	ch, _ := subscribe(t, l, u, "")
	e := realtime.Event{ID: "m-" + uuid.NewString(), Type: "Test", Data: []byte(`{"i":1}`)}
	since := time.Now().Add(-time.Minute)
	errs := make(chan error, 8)
	for range 8 {
		go func() { errs <- l.AppendOnce(context.Background(), []string{u}, e, since) }()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatalf("AppendOnce: %v", err)
		}
	}
	appendN(t, l, []string{u}, 2, 3)
	if got := next(t, ch); got.ID != e.ID {
		t.Fatalf("first event %q %s, want the replayed event", got.ID, got.Data)
	}
	if got := next(t, ch); string(got.Data) != string(ev(2).Data) {
		t.Fatalf("8 concurrent replays added the event more than once: then got %q %s", got.ID, got.Data)
	}
}

// gateSink takes events until it holds room of them, then refuses until
// the test takes them; it fails the test on an overlapping call.
type gateSink struct {
	t       *testing.T
	mu      sync.Mutex
	busy    atomic.Bool
	room    int
	held    []realtime.Event
	refused int
	ended   chan error
}

func (s *gateSink) enter() {
	if !s.busy.CompareAndSwap(false, true) {
		s.t.Error("the log called the sink concurrently")
	}
}

func (s *gateSink) Offer(e realtime.Event) bool {
	s.enter()
	defer s.busy.Store(false)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.held) >= s.room {
		s.refused++
		return false
	}
	s.held = append(s.held, e)
	return true
}

func (s *gateSink) End(err error) {
	s.enter()
	defer s.busy.Store(false)
	s.ended <- err
}

// take waits until the sink holds n events and returns them.
func (s *gateSink) take(t *testing.T, n int) []realtime.Event {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		s.mu.Lock()
		if len(s.held) >= n {
			got := s.held[:n:n]
			s.held = s.held[n:]
			s.mu.Unlock()
			return got
		}
		s.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("the sink did not receive %d events within %v", n, wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testRefused(t *testing.T, newLog Factory) {
	l := newLog(t, Options{SlowAfter: 10 * time.Second})
	u := user()
	s := &gateSink{t: t, room: 3, ended: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	resume, err := l.Subscribe(ctx, u, "", s)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, []string{u}, 0, 10)
	var got []realtime.Event
	for len(got) < 10 {
		got = append(got, s.take(t, min(3, 10-len(got)))...)
		resume() // room again: the log offers what was refused
	}
	for i, e := range got {
		if string(e.Data) != string(ev(i).Data) {
			t.Fatalf("event %d = %s, want %s (every event once, in order)", i, e.Data, ev(i).Data)
		}
	}
	s.mu.Lock()
	refused := s.refused
	s.mu.Unlock()
	if refused == 0 {
		t.Fatal("the sink never refused an event: the test did not exercise resume")
	}
	resume() // a resume with nothing refused is harmless
	appendN(t, l, []string{u}, 10, 11)
	if e := s.take(t, 1)[0]; string(e.Data) != string(ev(10).Data) {
		t.Fatalf("live event after resume = %s", e.Data)
	}
	cancel()
	select {
	case err := <-s.ended:
		if err != nil {
			t.Fatalf("End after ctx ended: %v, want nil", err)
		}
	case <-time.After(wait):
		t.Fatal("End was not called after the subscriber's ctx ended")
	}
}

func testSinkSerial(t *testing.T, newLog Factory) {
	l := newLog(t, Options{})
	u := user()
	s := &gateSink{t: t, room: 1 << 30, ended: make(chan error, 1)}
	if _, err := l.Subscribe(t.Context(), u, "", s); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			appendN(t, l, []string{u}, w*50, w*50+50)
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				_ = l.Signal(context.Background(), []string{u}, realtime.Event{Type: "Typing", Data: []byte(`{}`)})
			}
		}()
	}
	wg.Wait()
	seen := 0
	deadline := time.Now().Add(wait)
	for seen < 200 && time.Now().Before(deadline) {
		s.mu.Lock()
		for _, e := range s.held {
			if e.Cursor != "" {
				seen++
			}
		}
		s.held = s.held[:0]
		s.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	if seen != 200 {
		t.Fatalf("received %d of 200 logged events", seen)
	}
}
