package storagetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"messenger/storage"
)

func testStreamedMarkIsStickyAndSetOnce(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u := mustUser(t, s)
	c := mustGroup(t, s, u.ID)
	small := mustGroup(t, s, u.ID)
	if got, err := s.Streamed(ctx, []string{c.ID, small.ID, id()}); err != nil || len(got) != 0 {
		t.Fatalf("Streamed before marking = %v, %v; want none", got, err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			marked, err := s.MarkStreamed(ctx, c.ID)
			if err != nil {
				t.Error(err)
			}
			if marked {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent markers saw marked=true, want 1", wins.Load())
	}
	if marked, err := s.MarkStreamed(ctx, c.ID); err != nil || marked {
		t.Fatalf("mark again: %v %v; want a no-op", marked, err)
	}
	got, err := s.Streamed(ctx, []string{c.ID, small.ID, id()})
	if err != nil || len(got) != 1 || !got[c.ID] {
		t.Fatalf("Streamed = %v, %v; want only %s", got, err, c.ID)
	}
}

func testStreamedIndexIsPerUser(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := id(), id()
	c1, c2 := "c1-"+id(), "c2-"+id()
	for _, conv := range []string{c2, c1} {
		if err := s.SetStreamedMember(ctx, a, conv, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetStreamedMember(ctx, a, c1, true); err != nil { // again: idempotent
		t.Fatal(err)
	}
	if got, err := s.StreamedOf(ctx, a); err != nil || len(got) != 2 || got[0] != c1 || got[1] != c2 {
		t.Fatalf("StreamedOf(a) = %v, %v; want [%s %s]", got, err, c1, c2)
	}
	if got, err := s.StreamedOf(ctx, b); err != nil || len(got) != 0 {
		t.Fatalf("StreamedOf(b) = %v, %v; want none", got, err)
	}
	for range 2 { // removing twice is no error
		if err := s.SetStreamedMember(ctx, a, c1, false); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.StreamedOf(ctx, a); err != nil || len(got) != 1 || got[0] != c2 {
		t.Fatalf("StreamedOf(a) after removal = %v, %v; want [%s]", got, err, c2)
	}
}
