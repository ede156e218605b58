package server_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"messenger/apitest"
)

// Edits and deletes: only the sender edits or recalls; anyone hides for themself.

func TestOnlyTheSenderEditsAndEveryMemberSeesTheEdit(t *testing.T) {
	clk := newClock()
	api := startAPI(t, testAPIConfig{now: clk.Now})
	owner, alice, bob, eve := api.signUp(t, "owner"), api.signUp(t, "alice"), api.signUp(t, "bob"), api.signUp(t, "eve")
	group := createGroup(t, owner, "edits", alice, bob)
	id := sendMsg(t, alice, group, "1", "helo").SendMessage.ID
	subs := map[string]*apitest.Events{}
	for _, c := range []*apitest.Client{owner, alice, bob} {
		subs[c.Username] = subscribe(t, c)
	}

	bob.Refused(t, "FORBIDDEN", editOp, map[string]any{"m": id, "b": "bob's words"})
	owner.Refused(t, "FORBIDDEN", editOp, map[string]any{"m": id, "b": "the owner's words"})
	eve.Refused(t, "NOT_FOUND", editOp, map[string]any{"m": id, "b": "eve's words"})
	alice.Refused(t, "BAD_USER_INPUT", editOp, map[string]any{"m": id, "b": "  "})
	if m := message(t, bob, id); *m.Body != "helo" || m.EditedAt != nil {
		t.Fatalf("refused edits changed the message: %+v", m)
	}

	editedAt := clk.Advance(time.Minute)
	var out struct {
		EditMessage struct {
			Body     string
			EditedAt *string
		}
	}
	alice.Must(t, editOp, map[string]any{"m": id, "b": "hello"}, &out)
	if out.EditMessage.Body != "hello" || !sameTime(t, out.EditMessage.EditedAt, editedAt) {
		t.Fatalf("editMessage returned %+v", out.EditMessage)
	}
	for name, ev := range subs {
		e := ev.NextOfType(t, "MessageUpdated")
		if e.Message.ID != id || e.Message.Body != "hello" || e.Cursor == "" || !strings.Contains(string(e.Raw), at(editedAt)) {
			t.Fatalf("%s got %s", name, e.Raw)
		}
	}
	for _, c := range []*apitest.Client{owner, alice, bob} {
		h := history(t, c, group)
		if len(h) != 1 || *h[0].Body != "hello" || !sameTime(t, h[0].EditedAt, editedAt) {
			t.Fatalf("%s's history shows %+v", c.Username, h)
		}
	}
	if m := message(t, bob, id); m.SentAt == *m.EditedAt {
		t.Fatal("editing moved sentAt")
	}
}

func TestDeleteForMeHidesTheMessageFromMeOnly(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	alice, bob := api.signUp(t, "alice"), api.signUp(t, "bob")
	conv := startDirect(t, alice, bob)
	m1 := sendMsg(t, alice, conv, "1", "one").SendMessage.ID
	sendMsg(t, alice, conv, "2", "two")
	aliceEvents, bobEvents := subscribe(t, alice), subscribe(t, bob)

	bob.Must(t, deleteOp, map[string]any{"m": m1, "e": false}, nil)
	if ev := bobEvents.NextOfType(t, "MessageDeleted"); ev.ForEveryone || ev.Seq != 1 || ev.Cursor == "" || !strings.Contains(string(ev.Raw), m1) {
		t.Fatalf("bob got %s", ev.Raw)
	}
	if evs := aliceEvents.Collect(t, quiet); len(ofType(evs, "MessageDeleted")) > 0 {
		t.Fatalf("bob's delete-for-me reached alice: %v", typesOf(evs))
	}
	if got := seqsOf(history(t, bob, conv)); !slices.Equal(got, []int{2}) {
		t.Fatalf("bob's history = %v, want [2]", got)
	}
	if h := history(t, alice, conv); !slices.Equal(seqsOf(h), []int{1, 2}) || *h[0].Body != "one" || h[0].DeletedAt != nil {
		t.Fatalf("alice's history = %+v", h)
	}
	if n := unreadIn(t, bob, conv); n != 1 {
		t.Fatalf("bob's unread = %d, want 1", n)
	}
}

func TestDeleteForEveryoneLeavesATombstone(t *testing.T) {
	clk := newClock()
	api := startAPI(t, testAPIConfig{now: clk.Now})
	owner, alice, bob := api.signUp(t, "owner"), api.signUp(t, "alice"), api.signUp(t, "bob")
	group := createGroup(t, owner, "recall", alice, bob)
	var ids []string
	for i := 1; i <= 3; i++ {
		ids = append(ids, sendMsg(t, alice, group, fmt.Sprint(i), fmt.Sprint("m", i)).SendMessage.ID)
	}
	bob.Must(t, addReactionOp, map[string]any{"m": ids[1], "e": "👍"}, nil)
	subs := []*apitest.Events{subscribe(t, owner), subscribe(t, alice), subscribe(t, bob)}

	bob.Refused(t, "FORBIDDEN", deleteOp, map[string]any{"m": ids[1], "e": true})
	// (The group's owner and admins may: see moderation_test.go.)
	deletedAt := clk.Advance(time.Hour)
	var out struct {
		DeleteMessage struct {
			Seq       int
			Body      *string
			DeletedAt *string
		}
	}
	alice.Must(t, deleteOp, map[string]any{"m": ids[1], "e": true}, &out)
	if out.DeleteMessage.Body != nil || !sameTime(t, out.DeleteMessage.DeletedAt, deletedAt) || out.DeleteMessage.Seq != 2 {
		t.Fatalf("deleteMessage returned %+v", out.DeleteMessage)
	}
	for i, ev := range subs {
		e := ev.NextOfType(t, "MessageDeleted")
		if !e.ForEveryone || e.Seq != 2 || e.Cursor == "" {
			t.Fatalf("subscriber %d got %s", i, e.Raw)
		}
	}
	for _, c := range []*apitest.Client{owner, alice, bob} {
		h := history(t, c, group)
		if !slices.Equal(seqsOf(h), []int{1, 2, 3}) || h[1].Body != nil || !sameTime(t, h[1].DeletedAt, deletedAt) || *h[0].Body != "m1" || *h[2].Body != "m3" {
			t.Fatalf("%s's history after the recall: %+v", c.Username, h)
		}
	}
	alice.Refused(t, "BAD_USER_INPUT", editOp, map[string]any{"m": ids[1], "b": "resurrected"})
	bob.Refused(t, "BAD_USER_INPUT", addReactionOp, map[string]any{"m": ids[1], "e": "❤️"})
	alice.Must(t, deleteOp, map[string]any{"m": ids[1], "e": true}, nil) // again: a no-op
	if m := message(t, bob, ids[1]); m.Body != nil || !sameTime(t, m.DeletedAt, deletedAt) {
		t.Fatalf("tombstone after a second recall: %+v", m)
	}
	var conv struct{ Conversation struct{ LastSeq int } }
	bob.Must(t, `query($c: ID!) { conversation(id: $c) { lastSeq } }`, map[string]any{"c": group}, &conv)
	if s := sendMsg(t, alice, group, "4", "m4").SendMessage.Seq; conv.Conversation.LastSeq != 3 || s != 4 {
		t.Fatalf("seqs moved: lastSeq %d, next seq %d", conv.Conversation.LastSeq, s)
	}
}

func TestRecallAfter24hIsRefused(t *testing.T) {
	clk := newClock()
	api := startAPI(t, testAPIConfig{now: clk.Now})
	alice, bob := api.signUp(t, "alice"), api.signUp(t, "bob")
	conv := startDirect(t, alice, bob)
	early := sendMsg(t, alice, conv, "1", "early").SendMessage.ID
	clk.Advance(time.Hour)
	late := sendMsg(t, alice, conv, "2", "late").SendMessage.ID

	clk.Advance(24*time.Hour - time.Second) // `late` is 23h59m59s old, `early` 24h59m59s
	alice.Refused(t, "FORBIDDEN", deleteOp, map[string]any{"m": early, "e": true})
	alice.Must(t, deleteOp, map[string]any{"m": late, "e": true}, nil)
	if m := message(t, bob, early); m.Body == nil || *m.Body != "early" || m.DeletedAt != nil {
		t.Fatalf("a refused recall changed the message: %+v", m)
	}
	clk.Advance(48 * time.Hour)
	alice.Must(t, deleteOp, map[string]any{"m": early, "e": false}, nil) // deleting for myself has no window
	bob.Must(t, deleteOp, map[string]any{"m": early, "e": false}, nil)
	if h := history(t, bob, conv); !slices.Equal(seqsOf(h), []int{2}) || h[0].Body != nil {
		t.Fatalf("bob's history: %+v", h)
	}
}

// TestARecallIsNeverUndoneByARacingEdit: an edit that read the message
// before it was recalled must not write its body back over the tombstone.
func TestARecallIsNeverUndoneByARacingEdit(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	alice, bob := api.signUp(t, "alice"), api.signUp(t, "bob")
	conv := startDirect(t, alice, bob)
	for i := range 40 {
		id := sendMsg(t, alice, conv, fmt.Sprint(i), "secret").SendMessage.ID
		var wg sync.WaitGroup
		for j := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if j == 0 {
					alice.Must(t, deleteOp, map[string]any{"m": id, "e": true}, nil)
					return
				}
				if r := alice.Do(t, editOp, map[string]any{"m": id, "b": "edited secret"}); len(r.Errors) > 0 && r.Code() != "BAD_USER_INPUT" {
					t.Errorf("edit: %+v", r.Errors)
				}
			}()
		}
		wg.Wait()
		if m := message(t, bob, id); m.Body != nil || m.DeletedAt == nil {
			t.Fatalf("round %d: the recalled message came back: body %q deletedAt %v", i, *m.Body, m.DeletedAt)
		}
	}
}
