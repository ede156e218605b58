package loaders

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"messenger/storage"
)

// fakeMarks marks every even message as forwarded from "origin-<id>" and
// counts the lookups.
type fakeMarks struct{ calls atomic.Int64 }

func (f *fakeMarks) ForwardMarks(_ context.Context, msgs []storage.Message) (map[string]storage.Forward, error) {
	f.calls.Add(1)
	out := map[string]storage.Forward{}
	for _, m := range msgs {
		var n int
		fmt.Sscanf(m.ID, "m%d", &n)
		if n%2 == 0 {
			out[m.ID] = storage.Forward{SourceSenderID: "origin-" + m.ID}
		}
	}
	return out, nil
}

func TestForwardMarksOfAPageAreBatched(t *testing.T) {
	src := &fakeMarks{}
	l := New(nil, Options{Wait: 20 * time.Millisecond})
	msgs := page(50)
	errs := make([]error, len(msgs))
	var wg sync.WaitGroup
	for i, m := range msgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := l.ForwardMark(context.Background(), src, m)
			switch {
			case err != nil:
				errs[i] = err
			case i%2 == 0 && (f == nil || f.SourceSenderID != "origin-"+m.ID):
				errs[i] = fmt.Errorf("message %s got %+v", m.ID, f)
			case i%2 == 1 && f != nil:
				errs[i] = fmt.Errorf("an ordinary message %s got a mark %+v", m.ID, f)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := src.calls.Load(); n >= 50 {
		t.Fatalf("50 messages made %d lookups: not batched", n)
	}
}

func TestAPageOfMessagesLoadsItsForwardMarksInOneLookup(t *testing.T) {
	src := &fakeMarks{}
	l := New(nil, Options{})
	msgs := page(50)
	l.Page(msgs)
	var wg sync.WaitGroup
	for _, m := range msgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.ForwardMark(context.Background(), src, m); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("a page of 50 made %d lookups, want 1", n)
	}
}
