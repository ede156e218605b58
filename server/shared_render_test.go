package server_test

import (
	"context"
	"fmt"
	"testing"

	"messenger/apitest"
)

// A message to a group is rendered once for all the members' subscriptions
// that use one document; each member still gets the cursor of their own
// event log, and resuming from it works.
func TestGroupMembersOnOneDocumentShareARenderingButKeepTheirOwnCursors(t *testing.T) {
	api := startObserved(t, observedOptions{})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	carol, dave := apitest.SignUp(t, api.URL, "carol"), apitest.SignUp(t, api.URL, "dave")
	// Carol's log gets ahead of Bob's, so their cursors for one message differ.
	sendMsg(t, dave, startDirect(t, dave, carol), "d1", "hi carol")
	group := createGroup(t, alice, "shared", bob, carol)

	phone, carolEvents := subscribe(t, bob), subscribe(t, carol)
	laptop := bob.Subscribe(context.Background(), t, "")
	waitPresence(t, bob, bob.UserID, true)
	before := scrape(t, api.URL)
	for i := 1; i <= 3; i++ {
		sendMsg(t, alice, group, fmt.Sprint("k", i), fmt.Sprint("message ", i))
	}
	cursors := map[string][]string{}
	for name, events := range map[string]*apitest.Events{"bob's phone": phone, "bob's laptop": laptop, "carol": carolEvents} {
		for i := 1; i <= 3; i++ {
			ev := events.NextOfType(t, "MessageAdded")
			if ev.Message.Body != fmt.Sprint("message ", i) || ev.Message.Seq != i || ev.Message.Sender.ID != alice.UserID {
				t.Fatalf("%s: event %d is %s", name, i, ev.Raw)
			}
			cursors[name] = append(cursors[name], ev.Cursor)
		}
	}
	for i := range 3 {
		if cursors["bob's phone"][i] != cursors["bob's laptop"][i] {
			t.Fatalf("bob's devices got different cursors for message %d: %v", i+1, cursors)
		}
		if cursors["carol"][i] == cursors["bob's phone"][i] {
			t.Fatalf("carol got bob's cursor for message %d: %v", i+1, cursors)
		}
	}
	after := scrape(t, api.URL)
	delta := func(name string, labels map[string]string) float64 {
		return sample(after, name, labels) - sample(before, name, labels)
	}
	// 3 messages x 3 subscriptions, executed once per message: 6 reused.
	if n := delta("messenger_websocket_results_reused_total", nil); n != 6 {
		t.Errorf("%v results reused, want 6", n)
	}
	if n := delta("messenger_events_delivered_total", map[string]string{"type": "MessageAdded"}); n != 9 {
		t.Errorf("MessageAdded delivered %v times, want 9", n)
	}

	// The cursors are each member's own: resuming from them works (and the
	// replayed messages reuse the renderings too).
	for _, who := range []struct {
		c      *apitest.Client
		cursor string
	}{{bob, cursors["bob's phone"][0]}, {carol, cursors["carol"][0]}} {
		resumed := who.c.Subscribe(context.Background(), t, who.cursor)
		if ev := resumed.NextOfType(t, "MessageAdded"); ev.Message.Body != "message 2" {
			t.Fatalf("%s resumed after message 1 and got %s", who.c.Username, ev.Raw)
		}
	}
}
