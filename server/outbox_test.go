package server_test

import (
	"context"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/chat"
	"messenger/ids"
	"messenger/server"
	"messenger/storage"
)

// A message made durable by a process that died before fanning it out is
// delivered once, before the next message of its conversation (whose
// sender takes it over after its patience): sweeping the outbox, or
// replaying a message that was already delivered, adds nothing.
func TestOutboxDeliversAMessageWhoseSenderDiedBeforeFanOut(t *testing.T) {
	// Sweeps run by hand here; every unconfirmed fan-out is old enough.
	e := newEmbedded(t, apiOptions{chat: func(c *chat.Config) {
		c.FanOutSweep, c.FanOutGrace, c.FanOutPatience = -1, time.Nanosecond, time.Second
	}})
	store, svc := e.Store, e.Chat
	_, url := e.serve(t, server.Config{})

	alice := apitest.SignUp(t, url, "alice")
	bob := apitest.SignUp(t, url, "bob")
	var conv struct{ CreateDirectConversation struct{ ID string } }
	alice.Must(t, `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`, map[string]any{"u": bob.UserID}, &conv)
	convID := conv.CreateDirectConversation.ID
	rawConv, err := ids.DecodeAs("Conversation", convID)
	if err != nil {
		t.Fatal(err)
	}
	rawAlice, err := ids.DecodeAs("User", alice.UserID)
	if err != nil {
		t.Fatal(err)
	}
	events := bob.Subscribe(context.Background(), t, "")
	time.Sleep(100 * time.Millisecond)

	// What Send does first, and all a process that died right after did.
	if _, created, err := store.AppendMessage(context.Background(), storage.Message{
		ConversationID: rawConv, SenderID: rawAlice, ClientMessageID: "died", Body: "written, never fanned out", SentAt: time.Now().UTC(),
	}); err != nil || !created {
		t.Fatalf("AppendMessage: created=%v err=%v", created, err)
	}
	events.ExpectNone(t, "MessageAdded", 200*time.Millisecond)

	// The next send delivers the orphan first, then itself (both may still
	// be unconfirmed when the sweep below runs: replaying must add nothing).
	alice.Must(t, `mutation($c: ID!) { sendMessage(input: {conversationId: $c, clientMessageId: "ok", body: "normal"}) { seq } }`,
		map[string]any{"c": convID}, nil)
	if ev := events.NextOfType(t, "MessageAdded"); ev.Message.Seq != 1 || ev.Message.Body != "written, never fanned out" {
		t.Fatalf("first event = seq %d %q, want the orphan, seq 1", ev.Message.Seq, ev.Message.Body)
	}
	if ev := events.NextOfType(t, "MessageAdded"); ev.Message.Seq != 2 {
		t.Fatalf("second event has seq %d, want 2", ev.Message.Seq)
	}

	if _, err := svc.SweepFanOuts(context.Background()); err != nil {
		t.Fatal(err)
	}
	events.ExpectNone(t, "MessageAdded", 300*time.Millisecond) // neither again
	if n, err := svc.SweepFanOuts(context.Background()); err != nil || n != 0 {
		t.Fatalf("second SweepFanOuts = %d, %v; want nothing left to replay", n, err)
	}
	events.ExpectNone(t, "MessageAdded", 300*time.Millisecond)
}
