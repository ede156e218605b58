package memlog_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"messenger/realtime"
	"messenger/realtime/memlog"
)

// A log that trims reuses its array (makeRoom): after many times its
// capacity, a live subscriber still sees every event once, in order, and
// a resume from any retained cursor gets exactly the events after it.
func TestATrimmedLogKeepsOrderAndResumesAcrossItsArray(t *testing.T) {
	// 5 moves the window back within an array of 8; 7 nearly fills it, so
	// the array grows instead.
	for _, n := range []int{5, 7} {
		t.Run(fmt.Sprint("max=", n), func(t *testing.T) { trimmedLogKeepsOrder(t, n) })
	}
}

func trimmedLogKeepsOrder(t *testing.T, maxEvents int) {
	l := memlog.New(memlog.Config{MaxEvents: maxEvents})
	t.Cleanup(func() { _ = l.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	live, _, err := realtime.Chan(ctx, l, "u", "")
	if err != nil {
		t.Fatal(err)
	}
	var cursors []string
	for i := range 100 {
		if err := l.Append(ctx, []string{"u"}, realtime.Event{Type: "T", Data: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-live:
			if string(e.Data) != fmt.Sprint(i) {
				t.Fatalf("live event %d = %s", i, e.Data)
			}
			cursors = append(cursors, e.Cursor)
		case <-time.After(5 * time.Second):
			t.Fatalf("live event %d never came", i)
		}
	}
	for from := 95; from < 99; from++ {
		rctx, rcancel := context.WithCancel(ctx)
		ch, _, err := realtime.Chan(rctx, l, "u", cursors[from])
		if err != nil {
			t.Fatalf("resume after event %d: %v", from, err)
		}
		for want := from + 1; want < 100; want++ {
			select {
			case e := <-ch:
				if string(e.Data) != fmt.Sprint(want) {
					t.Fatalf("resume after %d: got %s, want %d", from, e.Data, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("resume after %d: event %d never came", from, want)
			}
		}
		rcancel()
	}
}
