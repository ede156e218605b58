package redislog

import (
	"errors"
	"testing"

	"messenger/realtime"
)

// FuzzParseCursor: a resume cursor from a client is a position that
// encodes back to itself, or ErrBadCursor; never a panic.
func FuzzParseCursor(f *testing.F) {
	ep := newEpoch()
	f.Add(cursor(ep, position{ord: 3}))
	for _, s := range []string{"", "!!", "YS5iLmM", "MDEyMzQ1Njc4OWFiY2RlZi4xLTIuMw"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		epoch, p, err := parseCursor(c)
		if err != nil {
			if !errors.Is(err, realtime.ErrBadCursor) {
				t.Fatalf("parseCursor(%q) = %v, want ErrBadCursor", c, err)
			}
			return
		}
		e2, p2, err := parseCursor(cursor(epoch, p))
		if err != nil || e2 != epoch || p2 != p {
			t.Fatalf("round trip of %q: %v %v -> %v %v %v", c, epoch, p, e2, p2, err)
		}
	})
}
