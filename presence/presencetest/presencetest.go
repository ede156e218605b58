// Package presencetest is the contract suite of presence.Tracker: every
// implementation passes it, and two trackers from the factory must share
// state (the fleet case) when the backend is shared.
package presencetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/presence"
)

// Factory returns a tracker; calling it twice in one test returns trackers
// that share their state when the backend is shared (Redis), or the same
// tracker (in-process). Closing is the factory's job.
type Factory func(t *testing.T) presence.Tracker

// Run runs the suite.
func Run(t *testing.T, newTracker Factory) {
	t.Run("OnlineWhileAnySubscriptionIsLive", func(t *testing.T) {
		ctx := context.Background()
		a, b := newTracker(t), newTracker(t)
		u := uuid.NewString()
		if online, seen, err := a.State(ctx, u); err != nil || online || seen != nil {
			t.Fatalf("unknown user: online=%v seen=%v err=%v", online, seen, err)
		}
		h1, first, err := a.Connect(ctx, u)
		if err != nil || !first {
			t.Fatalf("first connect: first=%v err=%v", first, err)
		}
		h2, first, err := b.Connect(ctx, u) // the user's phone, on another instance
		if err != nil || first {
			t.Fatalf("second connect: first=%v err=%v; the user was already online", first, err)
		}
		if online, _, _ := b.State(ctx, u); !online {
			t.Fatal("online user reported offline")
		}
		last, err := a.Disconnect(ctx, u, h1, time.Now())
		if err != nil || last {
			t.Fatalf("disconnecting one of two: last=%v err=%v", last, err)
		}
		if online, _, _ := a.State(ctx, u); !online {
			t.Fatal("user with a live subscription left reported offline")
		}
		at := time.Now().UTC().Truncate(time.Millisecond)
		last, err = b.Disconnect(ctx, u, h2, at)
		if err != nil || !last {
			t.Fatalf("disconnecting the last: last=%v err=%v", last, err)
		}
		online, seen, err := a.State(ctx, u)
		if err != nil || online || seen == nil || !seen.Equal(at) {
			t.Fatalf("after the last disconnect: online=%v seen=%v err=%v; want offline, seen %v", online, seen, err, at)
		}
		if last, _ := b.Disconnect(ctx, u, h2, time.Now()); last {
			t.Fatal("disconnecting twice reported a second 'last'")
		}
	})
	t.Run("UsersAreIndependent", func(t *testing.T) {
		ctx := context.Background()
		tr := newTracker(t)
		u, v := uuid.NewString(), uuid.NewString()
		if _, _, err := tr.Connect(ctx, u); err != nil {
			t.Fatal(err)
		}
		if online, _, _ := tr.State(ctx, v); online {
			t.Fatal("another user's subscription made this one online")
		}
	})
}
