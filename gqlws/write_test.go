package gqlws

import (
	"net"
	"testing"
	"time"
)

// deadlineConn records the write deadlines set on it.
type deadlineConn struct {
	net.Conn
	set []time.Time
}

func (d *deadlineConn) SetWriteDeadline(t time.Time) error {
	d.set = append(d.set, t)
	return nil
}

// TestAWriteAlwaysHasAtLeastHalfItsTimeout: frames written in quick
// succession share one deadline (not a timer moved per frame), but a write
// never starts with less than half of its timeout left, nor with more than
// all of it (the close's 1 s write shortens a 10 s deadline).
func TestAWriteAlwaysHasAtLeastHalfItsTimeout(t *testing.T) {
	d := &deadlineConn{}
	c := &conn{nc: d}
	const timeout = 10 * time.Second
	for range 3 {
		c.writeDeadline(timeout)
	}
	if len(d.set) != 1 {
		t.Fatalf("three writes in a row set %d deadlines, want 1", len(d.set))
	}
	if left := time.Until(d.set[0]); left < timeout-time.Second || left > timeout {
		t.Fatalf("the first deadline leaves %v, want about %v", left, timeout)
	}

	c.wdl = time.Now().Add(timeout/2 - time.Second) // as if 6 s had passed since
	c.writeDeadline(timeout)
	if len(d.set) != 2 || time.Until(d.set[1]) < timeout-time.Second {
		t.Fatalf("with %v left of %v, deadlines set %v: want a fresh one", timeout/2-time.Second, timeout, d.set)
	}

	c.writeDeadline(time.Second)
	if len(d.set) != 3 || time.Until(d.set[2]) > time.Second {
		t.Fatalf("a 1 s write after a 10 s one: deadlines %v, want one at most 1 s away", d.set)
	}
}
