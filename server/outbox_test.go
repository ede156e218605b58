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
// delivered by the outbox sweeper, once: sweeping again, or replaying a
// message that was already delivered, adds nothing.
func TestOutboxDeliversAMessageWhoseSenderDiedBeforeFanOut(t *testing.T) {
	// Sweeps run by hand here; every unconfirmed fan-out is old enough.
	e := newEmbedded(t, apiOptions{chat: func(c *chat.Config) { c.FanOutSweep, c.FanOutGrace = -1, time.Nanosecond }})
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

	// A normal send is delivered at once (and may still be unconfirmed
	// when the sweep below runs: replaying it must add nothing).
	alice.Must(t, `mutation($c: ID!) { sendMessage(input: {conversationId: $c, clientMessageId: "ok", body: "normal"}) { seq } }`,
		map[string]any{"c": convID}, nil)
	if ev := events.NextOfType(t, "MessageAdded"); ev.Message.Seq != 2 {
		t.Fatalf("live event has seq %d, want 2", ev.Message.Seq)
	}

	n, err := svc.SweepFanOuts(context.Background())
	if err != nil || n < 1 {
		t.Fatalf("SweepFanOuts = %d, %v; want the unconfirmed message replayed", n, err)
	}
	if ev := events.NextOfType(t, "MessageAdded"); ev.Message.Seq != 1 || ev.Message.Body != "written, never fanned out" {
		t.Fatalf("replayed event = seq %d %q, want seq 1", ev.Message.Seq, ev.Message.Body)
	}
	events.ExpectNone(t, "MessageAdded", 300*time.Millisecond) // seq 2 not again

	if n, err := svc.SweepFanOuts(context.Background()); err != nil || n != 0 {
		t.Fatalf("second SweepFanOuts = %d, %v; want nothing left to replay", n, err)
	}
	events.ExpectNone(t, "MessageAdded", 300*time.Millisecond)
}
