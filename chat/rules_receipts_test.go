package chat_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"messenger/chat"
	"messenger/fault"
	"messenger/realtime"
	"messenger/storage"
)

func asFault(err error, fe **fault.Error) bool { return errors.As(err, fe) }

func TestReadCursorOnlyMovesForwardAndUnreadFollows(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	dm, _ := e.chat.CreateDirect(ctx, alice, bob)
	for i, body := range []string{"one", "two", "three", "four"} {
		if _, err := e.chat.Send(ctx, alice, dm.ID, string(rune('a'+i)), body); err != nil {
			t.Fatal(err)
		}
	}
	unread := func() int {
		t.Helper()
		m, err := e.chat.Membership(ctx, bob, dm.ID)
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.chat.UnreadCount(ctx, bob, m)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := unread(); n != 4 {
		t.Fatalf("unread before reading: %d", n)
	}
	if _, err := e.chat.MarkRead(ctx, bob, dm.ID, 3); err != nil {
		t.Fatal(err)
	}
	if n := unread(); n != 1 {
		t.Fatalf("unread after reading to 3: %d", n)
	}
	if _, err := e.chat.MarkRead(ctx, bob, dm.ID, 1); err != nil {
		t.Fatal(err)
	}
	if m, _ := e.chat.Membership(ctx, bob, dm.ID); m.ReadSeq != 3 || m.DeliveredSeq != 3 {
		t.Fatalf("a backward markRead moved the cursor: read %d delivered %d", m.ReadSeq, m.DeliveredSeq)
	}
	// My own messages are never unread for me.
	if m, _ := e.chat.Membership(ctx, alice, dm.ID); func() int { n, _ := e.chat.UnreadCount(ctx, alice, m); return n }() != 0 {
		t.Fatal("the sender has unread messages of their own")
	}
	// Reading implies delivered, and the receipt is the sender's to see.
	msg, err := e.chat.Message(ctx, alice, storage.MessageID(dm.ID, 2))
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.chat.ReceiptOf(ctx, msg, bob)
	if err != nil || r.ReadAt == nil || r.DeliveredAt == nil {
		t.Fatalf("receipt of a read message: %+v, %v", r, err)
	}
}

// failingLog refuses every append while down, as a Redis outage would.
type failingLog struct {
	realtime.Log
	down bool
}

func (l *failingLog) Append(ctx context.Context, userIDs []string, e realtime.Event) error {
	if l.down {
		return realtime.ErrUnavailable
	}
	return l.Log.Append(ctx, userIDs, e)
}

type collect struct{ events chan realtime.Event }

func (c collect) Offer(e realtime.Event) bool { c.events <- e; return true }
func (c collect) End(error)                   {}

// TestTheOutboxDeliversAMessageWhoseFanOutFailed: the send is acknowledged
// (the message is durable) while the event log is down; the sweeper then
// delivers it to every member exactly once.
func TestTheOutboxDeliversAMessageWhoseFanOutFailed(t *testing.T) {
	ctx := context.Background()
	var flaky *failingLog
	e := newRulesEnv(t, func(c *chat.Config) {
		flaky = &failingLog{Log: c.Log, down: true}
		c.Log = flaky
		c.FanOutGrace = 1
	})
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	dm, _ := e.chat.CreateDirect(ctx, alice, bob)
	got := collect{events: make(chan realtime.Event, 16)}
	cancel, err := flaky.Subscribe(ctx, bob, "", got)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	m, err := e.chat.Send(ctx, alice, dm.ID, "c1", "while the log is down")
	if err != nil {
		t.Fatalf("a send must be acknowledged once durable, even with the log down: %v", err)
	}
	flaky.down = false
	e.advance(time.Minute)
	for i := 0; i < 2; i++ { // a second sweep must add nothing
		if _, err := e.chat.SweepFanOuts(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var added int
	for len(got.events) > 0 {
		ev := <-got.events
		if ev.Type == "MessageAdded" && ev.ID == m.ID {
			added++
		}
	}
	if added != 1 {
		t.Fatalf("bob got the message %d times after the sweeps, want 1", added)
	}
}
