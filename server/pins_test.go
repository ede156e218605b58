package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/server"
	"messenger/storage"
)

// Pins, jump-to-message, forwarding and edit history through GraphQL, on
// the embedded store and on Cassandra (skipped without one).

const (
	pinOp     = `mutation($m: ID!) { pinMessage(messageId: $m) { id } }`
	unpinOp   = `mutation($m: ID!) { unpinMessage(messageId: $m) { id } }`
	pinnedOp  = `query($c: ID!) { conversation(id: $c) { pinnedMessages { id body } firstUnreadSeq } }`
	forwardOp = `mutation($m: ID!, $to: [ID!]!, $k: String!) { forwardMessage(messageId: $m, toConversationIds: $to, clientMessageId: $k) {
		id body conversation { id } sender { id } forwardedFrom { sender { id } forwardedAt } } }`
	aroundOp = `query($c: ID!, $a: ID!, $n: Int) { messages(conversationId: $c, around: $a, first: $n) {
		edges { cursor node { seq } } pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } }`
	editsOp = `query($m: ID!, $n: Int, $a: String) { node(id: $m) { ... on Message { edits(first: $n, after: $a) {
		edges { cursor node { body writtenAt replacedAt } } pageInfo { hasNextPage endCursor } } } } }`
	pinEventsQuery = `subscription { events { __typename
		... on MessagePinned { conversationId message { id } by { id } at }
		... on MessageUnpinned { conversationId messageId seq by { id } } } }`
)

// pinEvents subscribes c to the pin events.
func pinEvents(t *testing.T, c *apitest.Client) *apitest.Socket {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := apitest.Dial(ctx, t, c.URL, c.Token, true)
	t.Cleanup(s.Close)
	if m := s.Next(t, 5*time.Second); m.Type != "connection_ack" {
		t.Fatalf("expected connection_ack, got %+v", m)
	}
	payload, _ := json.Marshal(map[string]any{"query": pinEventsQuery})
	s.Send(t, apitest.Message{ID: "1", Type: "subscribe", Payload: payload})
	time.Sleep(50 * time.Millisecond)
	return s
}

type pinEvent struct {
	Typename       string `json:"__typename"`
	ConversationID string
	MessageID      string
	Message        *struct{ ID string }
	By             *struct{ ID string }
}

// nextPinEvent reads the next pin event.
func nextPinEvent(t *testing.T, s *apitest.Socket) pinEvent {
	t.Helper()
	for {
		m := s.Next(t, 10*time.Second)
		if m.Type != "next" {
			t.Fatalf("unexpected message %+v", m)
		}
		var out struct{ Data struct{ Events pinEvent } }
		if err := json.Unmarshal(m.Payload, &out); err != nil {
			t.Fatal(err)
		}
		if out.Data.Events.Typename == "MessagePinned" || out.Data.Events.Typename == "MessageUnpinned" {
			return out.Data.Events
		}
	}
}

type pinnedView struct {
	Conversation struct {
		PinnedMessages []struct{ ID, Body string }
		FirstUnreadSeq *int
	}
}

func TestPinsThroughGraphQL(t *testing.T) {
	onBothStores(t, func(t *testing.T, api *testAPI) {
		alice, bob, carol := api.signUp(t, "alice"), api.signUp(t, "bob"), api.signUp(t, "carol")
		conv := startDirect(t, alice, bob)
		id := sendMsg(t, alice, conv, "1", "pin me").SendMessage.ID
		aliceEvents := pinEvents(t, alice)

		// Any member of a direct conversation pins; everyone hears of it.
		bob.Must(t, pinOp, map[string]any{"m": id}, nil)
		if ev := nextPinEvent(t, aliceEvents); ev.Typename != "MessagePinned" || ev.Message.ID != id || ev.By.ID != bob.UserID || ev.ConversationID != conv {
			t.Fatalf("pin event %+v", ev)
		}
		var v pinnedView
		alice.Must(t, pinnedOp, map[string]any{"c": conv}, &v)
		if len(v.Conversation.PinnedMessages) != 1 || v.Conversation.PinnedMessages[0].ID != id {
			t.Fatalf("pinnedMessages = %+v", v.Conversation.PinnedMessages)
		}
		alice.Must(t, unpinOp, map[string]any{"m": id}, nil)
		if ev := nextPinEvent(t, aliceEvents); ev.Typename != "MessageUnpinned" || ev.MessageID != id || ev.By.ID != alice.UserID {
			t.Fatalf("unpin event %+v", ev)
		}

		// In a group only owners and admins pin; an outsider finds nothing.
		group := createGroup(t, alice, "team", bob)
		gid := sendMsg(t, bob, group, "1", "group news").SendMessage.ID
		bob.Refused(t, "FORBIDDEN", pinOp, map[string]any{"m": gid})
		carol.Refused(t, "NOT_FOUND", pinOp, map[string]any{"m": gid})
		alice.Refused(t, "NOT_FOUND", pinOp, map[string]any{"m": "not-an-id"})
		alice.Refused(t, "NOT_FOUND", unpinOp, map[string]any{"m": "not-an-id"})
		bob.Must(t, pinnedOp, map[string]any{"c": group}, &v)
		if len(v.Conversation.PinnedMessages) != 0 {
			t.Fatalf("refused pins changed the pins: %+v", v.Conversation.PinnedMessages)
		}

		// Ten pins at most: the 11th is a clear BAD_USER_INPUT.
		for i := 0; i < 11; i++ {
			mid := sendMsg(t, alice, group, fmt.Sprint("p", i), fmt.Sprint("news ", i)).SendMessage.ID
			if i < 10 {
				alice.Must(t, pinOp, map[string]any{"m": mid}, nil)
				continue
			}
			if e := alice.Refused(t, "BAD_USER_INPUT", pinOp, map[string]any{"m": mid}); e.Extensions["field"] != "messageId" {
				t.Logf("11th pin refused with %+v", e)
			}
		}
		// A member may not unpin in a group: refused, and the pin stays.
		var first pinnedView
		bob.Must(t, pinnedOp, map[string]any{"c": group}, &first)
		bob.Refused(t, "FORBIDDEN", unpinOp, map[string]any{"m": first.Conversation.PinnedMessages[0].ID})
		bob.Must(t, pinnedOp, map[string]any{"c": group}, &v)
		if len(v.Conversation.PinnedMessages) != 10 || v.Conversation.PinnedMessages[0].Body != "news 9" {
			t.Fatalf("after the 11th pin: %d pins, newest %+v", len(v.Conversation.PinnedMessages), v.Conversation.PinnedMessages[0])
		}
	})
}

type aroundPage struct {
	Messages struct {
		Edges []struct {
			Cursor string
			Node   struct{ Seq int }
		}
		PageInfo struct {
			HasPreviousPage, HasNextPage bool
			StartCursor, EndCursor       string
		}
	}
}

func TestJumpToAMessageThroughGraphQL(t *testing.T) {
	onBothStores(t, func(t *testing.T, api *testAPI) {
		alice, bob := api.signUp(t, "alice"), api.signUp(t, "bob")
		conv := startDirect(t, alice, bob)
		var ids []string
		for i := 1; i <= 30; i++ {
			ids = append(ids, sendMsg(t, alice, conv, fmt.Sprint(i), fmt.Sprint("m", i)).SendMessage.ID)
		}
		for _, around := range []any{15, ids[14]} {
			var p aroundPage
			bob.Must(t, aroundOp, map[string]any{"c": conv, "a": around, "n": 10}, &p)
			e := p.Messages.Edges
			if len(e) != 10 || e[0].Node.Seq != 10 || e[9].Node.Seq != 19 || !p.Messages.PageInfo.HasPreviousPage || !p.Messages.PageInfo.HasNextPage {
				t.Fatalf("around %v: %+v", around, p.Messages)
			}
			var older struct {
				Messages struct {
					Edges []struct{ Node struct{ Seq int } }
				}
			}
			bob.Must(t, `query($c: ID!, $b: String) { messages(conversationId: $c, last: 3, before: $b) { edges { node { seq } } } }`,
				map[string]any{"c": conv, "b": p.Messages.PageInfo.StartCursor}, &older)
			if o := older.Messages.Edges; len(o) != 3 || o[0].Node.Seq != 7 || o[2].Node.Seq != 9 {
				t.Fatalf("before the centred page: %+v", o)
			}
		}
		bob.Refused(t, "NOT_FOUND", aroundOp, map[string]any{"c": conv, "a": 31, "n": 10})
		bob.Refused(t, "BAD_USER_INPUT", aroundOp, map[string]any{"c": conv, "a": "nonsense", "n": 10})

		var v pinnedView
		bob.Must(t, markReadOp, map[string]any{"c": conv, "s": 20}, nil)
		bob.Must(t, pinnedOp, map[string]any{"c": conv}, &v)
		if v.Conversation.FirstUnreadSeq == nil || *v.Conversation.FirstUnreadSeq != 21 {
			t.Fatalf("firstUnreadSeq = %v; want 21", v.Conversation.FirstUnreadSeq)
		}
		alice.Must(t, pinnedOp, map[string]any{"c": conv}, &v)
		if v.Conversation.FirstUnreadSeq != nil {
			t.Fatalf("the sender's firstUnreadSeq = %v; want null", *v.Conversation.FirstUnreadSeq)
		}
	})
}

type forwarded struct {
	ForwardMessage []struct {
		ID, Body      string
		Conversation  struct{ ID string }
		Sender        struct{ ID string }
		ForwardedFrom *struct {
			Sender      struct{ ID string }
			ForwardedAt string
		}
	}
}

func TestForwardThroughGraphQL(t *testing.T) {
	onBothStores(t, func(t *testing.T, api *testAPI) {
		alice, bob, carol := api.signUp(t, "alice"), api.signUp(t, "bob"), api.signUp(t, "carol")
		src := startDirect(t, alice, bob)
		id := sendMsg(t, alice, src, "1", "worth sharing").SendMessage.ID
		t1, t2 := createGroup(t, bob, "one", carol), createGroup(t, bob, "two")
		var out forwarded
		bob.Must(t, forwardOp, map[string]any{"m": id, "to": []string{t1, t2}, "k": "fw-1"}, &out)
		f := out.ForwardMessage
		if len(f) != 2 || f[0].Conversation.ID != t1 || f[1].Conversation.ID != t2 || f[0].Body != "worth sharing" || f[0].Sender.ID != bob.UserID {
			t.Fatalf("forwardMessage = %+v", f)
		}
		if f[0].ForwardedFrom == nil || f[0].ForwardedFrom.Sender.ID != alice.UserID || f[0].ForwardedFrom.ForwardedAt == "" {
			t.Fatalf("forwardedFrom = %+v", f[0].ForwardedFrom)
		}
		var again forwarded
		bob.Must(t, forwardOp, map[string]any{"m": id, "to": []string{t1, t2}, "k": "fw-1"}, &again)
		if again.ForwardMessage[0].ID != f[0].ID || again.ForwardMessage[1].ID != f[1].ID {
			t.Fatalf("a retry made new copies: %+v", again.ForwardMessage)
		}
		// An ordinary message has no origin.
		var orig struct {
			Node struct{ ForwardedFrom *struct{ ForwardedAt string } }
		}
		alice.Must(t, `query($m: ID!) { node(id: $m) { ... on Message { forwardedFrom { forwardedAt } } } }`, map[string]any{"m": id}, &orig)
		if orig.Node.ForwardedFrom != nil {
			t.Fatalf("an ordinary message is marked forwarded: %+v", orig.Node.ForwardedFrom)
		}

		// Bad input is refused with a code and sends nothing.
		six := []string{t1, t2}
		for len(six) < 6 {
			six = append(six, createGroup(t, bob, "more"))
		}
		bob.Refused(t, "BAD_USER_INPUT", forwardOp, map[string]any{"m": id, "to": six, "k": "fw-2"})
		bob.Refused(t, "BAD_USER_INPUT", forwardOp, map[string]any{"m": id, "to": []string{}, "k": "fw-2"})
		bob.Refused(t, "BAD_USER_INPUT", forwardOp, map[string]any{"m": id, "to": []string{t2, t2}, "k": "fw-2"})
		bob.Refused(t, "BAD_USER_INPUT", forwardOp, map[string]any{"m": id, "to": []string{t2}, "k": ""})
		bob.Refused(t, "NOT_FOUND", forwardOp, map[string]any{"m": "nonsense", "to": []string{t2}, "k": "fw-2"})
		bob.Refused(t, "NOT_FOUND", forwardOp, map[string]any{"m": id, "to": []string{t2, "nonsense"}, "k": "fw-2"})
		carol.Refused(t, "NOT_FOUND", forwardOp, map[string]any{"m": id, "to": []string{t1}, "k": "fw-2"})
		var h struct {
			Messages struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		for _, c := range six {
			bob.Must(t, historyOp, map[string]any{"c": c}, &h)
			if want := map[string]int{t1: 1, t2: 1}[c]; len(h.Messages.Edges) != want {
				t.Fatalf("%s has %d messages after refused forwards, want %d", c, len(h.Messages.Edges), want)
			}
		}
	})
}

type editsView struct {
	Node struct {
		Edits *struct {
			Edges []struct {
				Cursor string
				Node   struct{ Body, WrittenAt, ReplacedAt string }
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
		}
	}
}

func TestEditHistoryThroughGraphQL(t *testing.T) {
	onBothStores(t, func(t *testing.T, api *testAPI) {
		alice, bob, eve := api.signUp(t, "alice"), api.signUp(t, "bob"), api.signUp(t, "eve")
		conv := startDirect(t, alice, bob)
		id := sendMsg(t, alice, conv, "1", "v0").SendMessage.ID
		for _, b := range []string{"v1", "v2"} {
			time.Sleep(5 * time.Millisecond) // distinct edit times
			alice.Must(t, editOp, map[string]any{"m": id, "b": b}, nil)
		}
		var v editsView
		bob.Must(t, editsOp, map[string]any{"m": id, "n": 1}, &v)
		if e := v.Node.Edits; e == nil || len(e.Edges) != 1 || e.Edges[0].Node.Body != "v1" || !e.PageInfo.HasNextPage {
			t.Fatalf("first page of edits: %+v", v.Node.Edits)
		}
		bob.Must(t, editsOp, map[string]any{"m": id, "n": 5, "a": *v.Node.Edits.PageInfo.EndCursor}, &v)
		if e := v.Node.Edits; len(e.Edges) != 1 || e.Edges[0].Node.Body != "v0" || e.PageInfo.HasNextPage {
			t.Fatalf("second page of edits: %+v", v.Node.Edits)
		}
		bob.Refused(t, "BAD_USER_INPUT", editsOp, map[string]any{"m": id, "n": 5, "a": "nonsense"})
		// To an outsider the message, and so its history, does not exist.
		if r := eve.Do(t, editsOp, map[string]any{"m": id, "n": 5}); string(r.Data) != `{"node":null}` {
			t.Fatalf("an outsider reads the history: %s %s", r.Data, r.Code())
		}
		// A recalled message keeps no history.
		alice.Must(t, deleteOp, map[string]any{"m": id, "e": true}, nil)
		bob.Must(t, editsOp, map[string]any{"m": id, "n": 5}, &v)
		if e := v.Node.Edits; e == nil || len(e.Edges) != 0 {
			t.Fatalf("edits of a recalled message: %+v", v.Node.Edits)
		}
	})
}

// A forward is one send per target: it draws that many tokens from the
// sender's send bucket, and when they are not there it is refused whole.
func TestForwardTakesOneSendTokenPerTarget(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) { c.Limits.Send = slow(6) }})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	src := startDirect(t, alice, bob)
	id := sendMsg(t, alice, src, "1", "spread the word").SendMessage.ID
	targets := []string{createGroup(t, bob, "a"), createGroup(t, bob, "b"), createGroup(t, bob, "c")}
	bob.Must(t, forwardOp, map[string]any{"m": id, "to": targets, "k": "fw-1"}, nil)
	bob.Must(t, forwardOp, map[string]any{"m": id, "to": targets[:2], "k": "fw-2"}, nil)
	// Five of six tokens are gone: three more sends are too many.
	bob.Refused(t, "RATE_LIMITED", forwardOp, map[string]any{"m": id, "to": targets, "k": "fw-3"})
	for _, c := range targets {
		if n := lastSeq(t, bob, c); n > 2 {
			t.Fatalf("%s has %d messages after a refused forward", c, n)
		}
	}
	sendMsg(t, bob, targets[0], "last", "the sixth token")
}

// Forwards and Pins are counted like the reads of harness_test.go.
func (s *countingStore) Forwards(ctx context.Context, keys []storage.ForwardKey) (map[storage.ForwardKey]storage.Forward, error) {
	s.count("Forwards")
	return s.Store.Forwards(ctx, keys)
}

func (s *countingStore) Pins(ctx context.Context, conversationID string) ([]storage.Pin, error) {
	s.count("Pins")
	return s.Store.Pins(ctx, conversationID)
}

// A page around a message, with the forward marks of its copies and the
// conversation's pins, costs a few store reads however long it is.
func TestAPageAroundAMessageReadsTheStoreAFewTimes(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	alice, bob := api.signUp(t, "alice"), api.signUp(t, "bob")
	src := startDirect(t, alice, bob)
	group := createGroup(t, bob, "copies", alice)
	for i := 0; i < 30; i++ {
		id := sendMsg(t, alice, src, fmt.Sprint(i), fmt.Sprint("m", i)).SendMessage.ID
		bob.Must(t, forwardOp, map[string]any{"m": id, "to": []string{group}, "k": "k"}, nil)
		sendMsg(t, bob, group, fmt.Sprint(i), fmt.Sprint("own ", i))
		if i < 10 {
			bob.Must(t, pinOp, map[string]any{"m": id}, nil)
		}
	}
	q := `query($c: ID!, $s: ID!) {
		messages(conversationId: $c, around: $s, first: 50) { edges { node { seq body forwardedFrom { sender { id } } } } }
		conversation(id: $c) { pinnedMessages { id body } firstUnreadSeq } }`
	var out struct {
		Messages struct {
			Edges []struct {
				Node struct {
					Seq           int
					ForwardedFrom *struct{ Sender struct{ ID string } }
				}
			}
		}
	}
	api.Store.Reset()
	alice.Must(t, q, map[string]any{"c": group, "s": 30}, &out)
	counts := api.Store.Counts()
	marked := 0
	for _, e := range out.Messages.Edges {
		if e.Node.ForwardedFrom != nil {
			marked++
		}
	}
	if len(out.Messages.Edges) != 50 || marked != 25 {
		t.Fatalf("page of %d with %d forwarded; want 50 with 25", len(out.Messages.Edges), marked)
	}
	t.Logf("store reads for a page of 50 around a message: %s", summary(counts, 1))
	if counts["ListMessages"] > 3 || counts["Forwards"] > 2 || counts["Pins"] > 1 || counts["MessageByID"] > 0 {
		t.Fatalf("too many store reads: %s", summary(counts, 1))
	}
}
