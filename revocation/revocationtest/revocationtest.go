// Package revocationtest is the contract suite every revocation.Bus passes.
package revocationtest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/revocation"
)

// Factory returns two buses that share one medium (two instances of a
// fleet; for an in-process bus, the same bus twice). Closing them is the
// factory's job.
type Factory func(t *testing.T) (a, b revocation.Bus)

// Run runs the suite.
func Run(t *testing.T, newBuses Factory) {
	t.Run("ANoticeReachesEverySubscriberOfEveryInstance", func(t *testing.T) {
		a, b := newBuses(t)
		gotA, gotB := make(chan revocation.Ended, 4), make(chan revocation.Ended, 4)
		stopA := a.Subscribe(func(e revocation.Ended) { gotA <- e })
		defer stopA()
		defer b.Subscribe(func(e revocation.Ended) { gotB <- e })()
		sent := revocation.Ended{UserID: uuid.NewString(), SessionIDs: []string{uuid.NewString(), uuid.NewString()}}
		if err := a.Publish(context.Background(), sent); err != nil {
			t.Fatal(err)
		}
		for name, ch := range map[string]chan revocation.Ended{"publisher": gotA, "other instance": gotB} {
			select {
			case e := <-ch:
				if e.UserID != sent.UserID || !slices.Equal(e.SessionIDs, sent.SessionIDs) {
					t.Fatalf("%s got %+v, want %+v", name, e, sent)
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("%s heard nothing within 2 s", name)
			}
		}
		stopA()
		if err := b.Publish(context.Background(), revocation.Ended{UserID: "x"}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-gotB:
		case <-time.After(2 * time.Second):
			t.Fatal("b's subscriber heard nothing")
		}
		select {
		case e := <-gotA:
			t.Fatalf("a stopped subscriber still heard %+v", e)
		case <-time.After(100 * time.Millisecond):
		}
	})
}
