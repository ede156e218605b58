package gqlws

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// A refused connection_init closes with 4403 unless the Init function says
// how to close: a backend that cannot check credentials now asks the
// client to retry (1013) rather than to drop its token.
func TestRefusedInitClosesWithTheCodeInitChose(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		code   int
		reason string
	}{
		{"refused credentials", errors.New("bad token"), CloseForbidden, "Forbidden"},
		{"cannot check now", &CloseError{Code: CloseTryAgainLater, Reason: "retry"}, CloseTryAgainLater, "retry"},
		{"cannot check now, wrapped", fmt.Errorf("verify: %w", &CloseError{Code: CloseTryAgainLater, Reason: "retry"}), CloseTryAgainLater, "retry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			both(t, func(t *testing.T, poll bool) {
				init := func(context.Context, map[string]any) (context.Context, time.Time, error) {
					return nil, time.Time{}, tc.err
				}
				addr, _ := start(t, poll, Config{Init: init}, newExecutor(false, 0, nil))
				c := dial(t, addr, nil)
				c.write(text(initMsg))
				if code, reason := c.closed(); code != tc.code || reason != tc.reason {
					t.Fatalf("closed with %d %q, want %d %q", code, reason, tc.code, tc.reason)
				}
			})
		})
	}
}

// OnAck hands the server a way to close an accepted socket (a session that
// ended elsewhere), and the socket's end releases what OnAck registered.
func TestOnAckClosesTheSocketAndReleasesOnFinish(t *testing.T) {
	both(t, func(t *testing.T, poll bool) {
		closers := make(chan func(int, string), 1)
		released := make(chan struct{})
		addr, _ := start(t, poll, Config{OnAck: func(_ context.Context, closeFn func(int, string)) func() {
			closers <- closeFn
			return func() { close(released) }
		}}, newExecutor(false, 0, nil))
		c := dial(t, addr, nil)
		c.write(text(initMsg))
		if m := c.next(); m.Type != "connection_ack" {
			t.Fatalf("got %+v, want connection_ack", m)
		}
		closeFn := <-closers
		closeFn(CloseForbidden, "Forbidden: session ended")
		closeFn(CloseForbidden, "again") // a second call changes nothing
		if code, reason := c.closed(); code != CloseForbidden || reason != "Forbidden: session ended" {
			t.Fatalf("closed with %d %q", code, reason)
		}
		select {
		case <-released:
		case <-time.After(5 * time.Second):
			t.Fatal("the socket finished without releasing OnAck's registration")
		}
	})
}
