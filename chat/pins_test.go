package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"messenger/chat"
	"messenger/fault"
	"messenger/realtime"
	"messenger/storage"
)

// TestPinForwardAndEditsPermissionMatrix checks pin, unpin, forward and
// reading the edit history for each kind of actor, in a direct
// conversation and in a group: any member of a direct conversation pins,
// only owners and admins of a group do, every member forwards and reads
// history, and to an outsider the message does not exist. A refusal
// changes nothing: no pin moves, no copy is sent.
func TestPinForwardAndEditsPermissionMatrix(t *testing.T) {
	ctx := context.Background()
	ops := []string{"pin", "unpin", "forward", "edits"}
	ok := map[string]fault.Code{"pin": "", "unpin": "", "forward": "", "edits": ""}
	want := map[string]map[string]fault.Code{
		"direct/member":   ok,
		"direct/outsider": {"pin": fault.NotFound, "unpin": fault.NotFound, "forward": fault.NotFound, "edits": fault.NotFound},
		"group/owner":     ok,
		"group/admin":     ok,
		"group/member":    {"pin": fault.Forbidden, "unpin": fault.Forbidden, "forward": "", "edits": ""},
		"group/outsider":  {"pin": fault.NotFound, "unpin": fault.NotFound, "forward": fault.NotFound, "edits": fault.NotFound},
	}
	for _, actorKind := range []string{"direct/member", "direct/outsider", "group/owner", "group/admin", "group/member", "group/outsider"} {
		for _, op := range ops {
			t.Run(actorKind+"/"+op, func(t *testing.T) {
				e := newRulesEnv(t, nil)
				owner, admin, member, outsider := e.user(t, "owner"), e.user(t, "admin"), e.user(t, "member"), e.user(t, "outsider")
				var conv string
				actor := map[string]string{"direct/member": member, "direct/outsider": outsider, "group/owner": owner, "group/admin": admin, "group/member": member, "group/outsider": outsider}[actorKind]
				if actorKind[:6] == "direct" {
					c, err := e.chat.CreateDirect(ctx, owner, member)
					if err != nil {
						t.Fatal(err)
					}
					conv = c.ID
				} else {
					g, err := e.chat.CreateGroup(ctx, owner, "team", []string{admin, member})
					if err != nil {
						t.Fatal(err)
					}
					if _, err := e.chat.SetRole(ctx, owner, g.ID, admin, storage.RoleAdmin); err != nil {
						t.Fatal(err)
					}
					conv = g.ID
				}
				m, err := e.chat.Send(ctx, owner, conv, "c1", "first words")
				if err != nil {
					t.Fatal(err)
				}
				e.advance(time.Second)
				if m, err = e.chat.Edit(ctx, owner, m.ID, "better words"); err != nil {
					t.Fatal(err)
				}
				if op == "unpin" {
					if _, err := e.chat.PinMessage(ctx, owner, m.ID); err != nil {
						t.Fatal(err)
					}
				}
				// The actor's own place to forward to.
				target, err := e.chat.CreateGroup(ctx, actor, "mine", nil)
				if err != nil {
					t.Fatal(err)
				}
				pinsBefore, _ := e.chat.PinnedMessages(ctx, owner, conv)
				switch op {
				case "pin":
					_, err = e.chat.PinMessage(ctx, actor, m.ID)
				case "unpin":
					_, err = e.chat.UnpinMessage(ctx, actor, m.ID)
				case "forward":
					_, err = e.chat.Forward(ctx, actor, m.ID, []string{target.ID}, "f1")
				case "edits":
					var p chat.EditPage
					p, err = e.chat.Edits(ctx, actor, m, 10, nil)
					if err == nil && (len(p.Edits) != 1 || p.Edits[0].Body != "first words") {
						t.Fatalf("edits = %+v; want the first version", p.Edits)
					}
				}
				if got := code(err); got != want[actorKind][op] {
					t.Fatalf("%s %s: got %q (%v), want %q", actorKind, op, got, err, want[actorKind][op])
				}
				if err != nil {
					pinsAfter, _ := e.chat.PinnedMessages(ctx, owner, conv)
					hist, _ := e.chat.History(ctx, actor, target.ID, chat.HistoryArgs{})
					if len(pinsAfter) != len(pinsBefore) || len(hist.Messages) != 0 {
						t.Fatalf("a refused %s changed something: pins %d->%d, %d messages forwarded", op, len(pinsBefore), len(pinsAfter), len(hist.Messages))
					}
				}
			})
		}
	}
}

func TestTheEleventhPinIsRefusedAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	owner := e.user(t, "owner")
	g, err := e.chat.CreateGroup(ctx, owner, "team", nil)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []storage.Message
	for i := 0; i <= chat.MaxPins; i++ {
		m, err := e.chat.Send(ctx, owner, g.ID, fmt.Sprint("c", i), fmt.Sprint("message ", i))
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	for _, m := range msgs[:chat.MaxPins] {
		e.advance(time.Second)
		if _, err := e.chat.PinMessage(ctx, owner, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	// Pinning a pinned message again is a no-op, not the 11th pin.
	if _, err := e.chat.PinMessage(ctx, owner, msgs[0].ID); err != nil {
		t.Fatalf("pin again: %v", err)
	}
	_, err = e.chat.PinMessage(ctx, owner, msgs[chat.MaxPins].ID)
	if code(err) != fault.BadUserInput {
		t.Fatalf("11th pin: %v, want BAD_USER_INPUT", err)
	}
	pins, _ := e.chat.PinnedMessages(ctx, owner, g.ID)
	if len(pins) != chat.MaxPins || pins[0].Seq != int64(chat.MaxPins) || pins[len(pins)-1].Seq != 1 {
		t.Fatalf("pins after the refusal: %d, newest %d; want %d, the most recently pinned first", len(pins), pins[0].Seq, chat.MaxPins)
	}
	if _, err := e.chat.UnpinMessage(ctx, owner, msgs[3].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.PinMessage(ctx, owner, msgs[chat.MaxPins].ID); err != nil {
		t.Fatalf("pin after an unpin: %v", err)
	}
}

// eventsOf reads a stream until it has n events of the given types.
func eventsOf(t *testing.T, st *stream, n int, types ...string) []realtime.Event {
	t.Helper()
	var out []realtime.Event
	for len(out) < n {
		select {
		case ev, ok := <-st.events:
			if !ok {
				t.Fatalf("%s: got %d of %d events", st.user, len(out), n)
			}
			for _, typ := range types {
				if ev.Type == typ {
					out = append(out, ev)
				}
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: got %d of %d events", st.user, len(out), n)
		}
	}
	return out
}

func TestPinsAndRecallsReachEveryMemberAsEvents(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	a, b := e.user(t, "alice"), e.user(t, "bob")
	c, err := e.chat.CreateDirect(ctx, a, b)
	if err != nil {
		t.Fatal(err)
	}
	streams := []*stream{open(t, e.log, a), open(t, e.log, b)}
	m, err := e.chat.Send(ctx, a, c.ID, "c1", "hello")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.PinMessage(ctx, b, m.ID); err != nil {
		t.Fatal(err)
	}
	// A recall unpins: the tombstone is never a pin.
	if _, err := e.chat.Delete(ctx, a, m.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, st := range streams {
		u := st.user
		evs := eventsOf(t, st, 2, "MessagePinned", "MessageUnpinned")
		var pinned chat.MessagePinned
		if err := json.Unmarshal(evs[0].Data, &pinned); err != nil || evs[0].Type != "MessagePinned" || pinned.ByID != b || pinned.Message.ID != m.ID {
			t.Fatalf("%s's first event: %s %s", u, evs[0].Type, evs[0].Data)
		}
		var unpinned chat.MessageUnpinned
		if err := json.Unmarshal(evs[1].Data, &unpinned); err != nil || evs[1].Type != "MessageUnpinned" || unpinned.MessageID != m.ID || unpinned.ByID != a {
			t.Fatalf("%s's second event: %s %s", u, evs[1].Type, evs[1].Data)
		}
	}
	if pins, _ := e.chat.PinnedMessages(ctx, a, c.ID); len(pins) != 0 {
		t.Fatalf("pins after the recall: %+v", pins)
	}
}

func TestEditHistoryPagesNewestFirstAndARecallKeepsNone(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	a, b := e.user(t, "alice"), e.user(t, "bob")
	c, err := e.chat.CreateDirect(ctx, a, b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.chat.Send(ctx, a, c.ID, "c1", "v0")
	if err != nil {
		t.Fatal(err)
	}
	sent := m.SentAt
	for _, body := range []string{"v1", "v2", "v3"} {
		e.advance(time.Minute)
		if m, err = e.chat.Edit(ctx, a, m.ID, body); err != nil {
			t.Fatal(err)
		}
	}
	p, err := e.chat.Edits(ctx, b, m, 2, nil)
	if err != nil || len(p.Edits) != 2 || p.Edits[0].Body != "v2" || p.Edits[1].Body != "v1" || !p.HasNext {
		t.Fatalf("first page = %+v, %v; want v2, v1 and more", p, err)
	}
	after := chat.EditCursor(p.Edits[1])
	p, err = e.chat.Edits(ctx, b, m, 2, &after)
	if err != nil || len(p.Edits) != 1 || p.Edits[0].Body != "v0" || p.HasNext || !p.Edits[0].WrittenAt.Equal(sent) {
		t.Fatalf("second page = %+v, %v; want v0, written when sent", p, err)
	}
	bad := "nonsense"
	if _, err := e.chat.Edits(ctx, b, m, 2, &bad); code(err) != fault.BadUserInput {
		t.Fatalf("malformed cursor: %v", err)
	}
	if _, err := e.chat.Delete(ctx, a, m.ID, true); err != nil {
		t.Fatal(err)
	}
	m, _ = e.chat.Message(ctx, b, m.ID)
	if p, err := e.chat.Edits(ctx, b, m, 10, nil); err != nil || len(p.Edits) != 0 {
		t.Fatalf("history of a recalled message = %+v, %v; want none", p, err)
	}
	// Nothing is left in the store either.
	if left, err := e.chat.Edits(ctx, b, storage.Message{ID: m.ID, ConversationID: m.ConversationID, Seq: m.Seq, EditedAt: m.EditedAt}, 10, nil); err != nil || len(left.Edits) != 0 {
		t.Fatalf("stored history after a recall = %+v, %v", left, err)
	}
}

func TestADeletedMessageCannotBePinnedAndAnUnknownOneIsNotFound(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	a, b := e.user(t, "alice"), e.user(t, "bob")
	c, err := e.chat.CreateDirect(ctx, a, b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.chat.Send(ctx, a, c.ID, "c1", "gone soon")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Delete(ctx, a, m.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.PinMessage(ctx, b, m.ID); code(err) != fault.BadUserInput {
		t.Fatalf("pin a recalled message: %v, want BAD_USER_INPUT", err)
	}
	for _, id := range []string{c.ID + ".99", "nonsense", ""} {
		if _, err := e.chat.PinMessage(ctx, b, id); code(err) != fault.NotFound {
			t.Fatalf("pin %q: %v, want NOT_FOUND", id, err)
		}
		if _, err := e.chat.UnpinMessage(ctx, b, id); code(err) != fault.NotFound {
			t.Fatalf("unpin %q: %v, want NOT_FOUND", id, err)
		}
	}
	if pins, _ := e.chat.PinnedMessages(ctx, a, c.ID); len(pins) != 0 {
		t.Fatalf("refused pins left %+v", pins)
	}
}
