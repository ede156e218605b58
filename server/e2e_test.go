package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"messenger/apitest"
)

const (
	direct = `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`
	send   = `mutation($c: ID!, $k: String!, $b: String!) { sendMessage(input: {conversationId: $c, clientMessageId: $k, body: $b}) { id seq body clientMessageId sender { id } } }`
)

type sent struct {
	SendMessage struct {
		ID, Body, ClientMessageID string
		Seq                       int
		Sender                    struct{ ID string }
	}
}

func startDirect(t *testing.T, a, b *apitest.Client) string {
	t.Helper()
	var out struct{ CreateDirectConversation struct{ ID string } }
	a.Must(t, direct, map[string]any{"u": b.UserID}, &out)
	return out.CreateDirectConversation.ID
}

func sendMsg(t *testing.T, c *apitest.Client, conv, key, body string) sent {
	t.Helper()
	var out sent
	c.Must(t, send, map[string]any{"c": conv, "k": key, "b": body}, &out)
	return out
}

func TestSignUpChatAndReceiveLive(t *testing.T) {
	url := newAPI(t, apiOptions{})
	alice, bob := apitest.SignUp(t, url, "alice"), apitest.SignUp(t, url, "bob")
	conv := startDirect(t, alice, bob)
	if again := startDirect(t, bob, alice); again != conv {
		t.Fatalf("the pair got two conversations: %s and %s", conv, again)
	}
	ctx := context.Background()
	events := bob.Subscribe(ctx, t, "")
	time.Sleep(50 * time.Millisecond) // let the subscription start before sending
	m := sendMsg(t, alice, conv, "k1", "hello bob")
	if m.SendMessage.Seq != 1 || m.SendMessage.Body != "hello bob" || m.SendMessage.Sender.ID != alice.UserID {
		t.Fatalf("sendMessage returned %+v", m)
	}
	ev := events.NextOfType(t, "MessageAdded")
	if ev.Message.Body != "hello bob" || ev.Message.Seq != 1 || ev.Message.Sender.Username != alice.Username || ev.Cursor == "" || ev.Ephemeral {
		t.Fatalf("bob received %s", ev.Raw)
	}
	var hist struct {
		Messages struct {
			Edges []struct{ Node struct{ Body string } }
		}
	}
	bob.Must(t, `query($c: ID!) { messages(conversationId: $c, last: 10) { edges { node { body } } } }`, map[string]any{"c": conv}, &hist)
	if len(hist.Messages.Edges) != 1 || hist.Messages.Edges[0].Node.Body != "hello bob" {
		t.Fatalf("history = %+v", hist)
	}
}

func TestResumeAfterDisconnectGetsEveryMissedEventOnce(t *testing.T) {
	url := newAPI(t, apiOptions{})
	alice, bob := apitest.SignUp(t, url, "alice"), apitest.SignUp(t, url, "bob")
	conv := startDirect(t, alice, bob)
	events := bob.Subscribe(context.Background(), t, "")
	time.Sleep(50 * time.Millisecond)
	sendMsg(t, alice, conv, "m1", "one")
	last := events.NextOfType(t, "MessageAdded").Cursor
	events.Close()
	for i := 2; i <= 5; i++ {
		sendMsg(t, alice, conv, fmt.Sprint("m", i), fmt.Sprint("msg ", i))
	}
	resumed := bob.Subscribe(context.Background(), t, last)
	for i := 2; i <= 5; i++ {
		ev := resumed.NextOfType(t, "MessageAdded")
		if ev.Message.Seq != i {
			t.Fatalf("resumed event has seq %d, want %d", ev.Message.Seq, i)
		}
	}
	sendMsg(t, alice, conv, "m6", "live again")
	if ev := resumed.NextOfType(t, "MessageAdded"); ev.Message.Seq != 6 {
		t.Fatalf("live event after resume has seq %d", ev.Message.Seq)
	}
	resumed.ExpectNone(t, "MessageAdded", 200*time.Millisecond)
}

func TestExpiredOrMalformedCursorIsRefusedWithACode(t *testing.T) {
	url := newAPI(t, apiOptions{})
	bob := apitest.SignUp(t, url, "bob")
	for cursor, code := range map[string]string{
		"bm90LWEtY3Vyc29y": "BAD_USER_INPUT", // base64 but not ours
		"b2xkZXBvY2guMQ":   "CURSOR_EXPIRED", // "oldepoch.1": a cursor from before a restart
	} {
		ev := bob.Subscribe(context.Background(), t, cursor)
		_, errs := ev.NextOrError(t, 5*time.Second)
		if len(errs) == 0 || errs[0].Code() != code {
			t.Errorf("cursor %q: got %+v, want %s", cursor, errs, code)
		}
	}
}

func TestRetriedSendReturnsTheOriginalMessage(t *testing.T) {
	url := newAPI(t, apiOptions{})
	alice, bob := apitest.SignUp(t, url, "alice"), apitest.SignUp(t, url, "bob")
	conv := startDirect(t, alice, bob)
	first := sendMsg(t, alice, conv, "same-id", "hello")
	retry := sendMsg(t, alice, conv, "same-id", "hello (retried)")
	if retry.SendMessage.ID != first.SendMessage.ID || retry.SendMessage.Body != "hello" {
		t.Fatalf("retry returned %+v, want the original %+v", retry, first)
	}
	var out struct{ Conversation struct{ LastSeq int } }
	alice.Must(t, `query($c: ID!) { conversation(id: $c) { lastSeq } }`, map[string]any{"c": conv}, &out)
	if out.Conversation.LastSeq != 1 {
		t.Fatalf("a retry created a message: lastSeq = %d", out.Conversation.LastSeq)
	}
}

func TestConcurrentSendersIntoOneGroupGetSeq1ToN(t *testing.T) {
	url := newAPI(t, apiOptions{})
	owner := apitest.SignUp(t, url, "owner")
	const senders, each = 50, 4
	clients := make([]*apitest.Client, senders)
	ids := make([]string, senders)
	for i := range clients {
		clients[i] = apitest.SignUp(t, url, "s")
		ids[i] = clients[i].UserID
	}
	var g struct{ CreateGroup struct{ ID string } }
	owner.Must(t, `mutation($m: [ID!]!) { createGroup(input: {title: "busy", memberIds: $m}) { id } }`, map[string]any{"m": ids}, &g)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int]bool{}
	for i, c := range clients {
		wg.Add(1)
		go func(i int, c *apitest.Client) {
			defer wg.Done()
			for j := 0; j < each; j++ {
				m := sendMsg(t, c, g.CreateGroup.ID, fmt.Sprintf("%d-%d", i, j), "hi")
				mu.Lock()
				if seen[m.SendMessage.Seq] {
					t.Errorf("seq %d given twice", m.SendMessage.Seq)
				}
				seen[m.SendMessage.Seq] = true
				mu.Unlock()
			}
		}(i, c)
	}
	wg.Wait()
	for s := 1; s <= senders*each; s++ {
		if !seen[s] {
			t.Fatalf("seq %d missing: seqs must be 1..%d with no gaps", s, senders*each)
		}
	}
}

func TestHistoryPagesNewestFirstAndOldestFirst(t *testing.T) {
	url := newAPI(t, apiOptions{})
	alice, bob := apitest.SignUp(t, url, "alice"), apitest.SignUp(t, url, "bob")
	conv := startDirect(t, alice, bob)
	for i := 1; i <= 7; i++ {
		sendMsg(t, alice, conv, fmt.Sprint(i), fmt.Sprint("m", i))
	}
	type page struct {
		Messages struct {
			Edges []struct {
				Cursor string
				Node   struct{ Seq int }
			}
			PageInfo struct {
				HasNextPage, HasPreviousPage bool
				StartCursor, EndCursor       string
			}
		}
	}
	seqs := func(p page) (out []int) {
		for _, e := range p.Messages.Edges {
			out = append(out, e.Node.Seq)
		}
		return out
	}
	q := `query($c: ID!, $f: Int, $a: String, $l: Int, $b: String) { messages(conversationId: $c, first: $f, after: $a, last: $l, before: $b) {
		edges { cursor node { seq } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`
	var p page
	bob.Must(t, q, map[string]any{"c": conv, "l": 3}, &p)
	if fmt.Sprint(seqs(p)) != "[5 6 7]" || !p.Messages.PageInfo.HasPreviousPage {
		t.Fatalf("newest page = %v %+v", seqs(p), p.Messages.PageInfo)
	}
	var older page
	bob.Must(t, q, map[string]any{"c": conv, "l": 3, "b": p.Messages.PageInfo.StartCursor}, &older)
	if fmt.Sprint(seqs(older)) != "[2 3 4]" {
		t.Fatalf("older page = %v", seqs(older))
	}
	var fwd page
	bob.Must(t, q, map[string]any{"c": conv, "f": 4}, &fwd)
	if fmt.Sprint(seqs(fwd)) != "[1 2 3 4]" || !fwd.Messages.PageInfo.HasNextPage {
		t.Fatalf("oldest-first page = %v", seqs(fwd))
	}
	var rest page
	bob.Must(t, q, map[string]any{"c": conv, "f": 100, "a": fwd.Messages.PageInfo.EndCursor}, &rest)
	if fmt.Sprint(seqs(rest)) != "[5 6 7]" || rest.Messages.PageInfo.HasNextPage {
		t.Fatalf("next page = %v %+v", seqs(rest), rest.Messages.PageInfo)
	}
}

func TestBadInputIsRefusedWithACodeAndWritesNothing(t *testing.T) {
	url := newAPI(t, apiOptions{})
	alice, bob, eve := apitest.SignUp(t, url, "alice"), apitest.SignUp(t, url, "bob"), apitest.SignUp(t, url, "eve")
	conv := startDirect(t, alice, bob)
	vars := func(c, body string) map[string]any { return map[string]any{"c": c, "k": "k", "b": body} }

	eve.Refused(t, "NOT_FOUND", send, vars(conv, "let me in")) // not a member: no existence leak
	alice.Refused(t, "NOT_FOUND", send, vars("Q29udmVyc2F0aW9uOm5vcGU", "unknown conversation"))
	alice.Refused(t, "NOT_FOUND", send, vars("garbage-id", "malformed id"))
	alice.Refused(t, "BAD_USER_INPUT", send, vars(conv, ""))
	alice.Refused(t, "BAD_USER_INPUT", send, vars(conv, "   "))
	alice.Refused(t, "BAD_USER_INPUT", send, vars(conv, strings.Repeat("x", 4001)))
	alice.Refused(t, "BAD_USER_INPUT", `query($c: ID!) { messages(conversationId: $c, last: 5, before: "not-a-cursor") { edges { cursor } } }`, map[string]any{"c": conv})
	alice.Refused(t, "BAD_USER_INPUT", `query { conversations(first: 5, after: "%%%") { edges { cursor } } }`, nil)
	eve.Refused(t, "NOT_FOUND", `query($c: ID!) { messages(conversationId: $c, last: 5) { edges { cursor } } }`, map[string]any{"c": conv})
	(&apitest.Client{URL: url}).Refused(t, "UNAUTHENTICATED", `{ me { id } }`, nil)
	(&apitest.Client{URL: url, Token: "not.a.token"}).Refused(t, "UNAUTHENTICATED", `{ me { id } }`, nil)
	alice.Refused(t, "CONFLICT", `mutation { signUp(input: {username: "`+strings.ToUpper(alice.Username)+`", password: "whatever123", displayName: "x"}) { token } }`, nil)
	alice.Refused(t, "UNAUTHENTICATED", `mutation { logIn(input: {username: "`+alice.Username+`", password: "wrong-password"}) { token } }`, nil)
	e := alice.Refused(t, "UNAUTHENTICATED", `mutation { logIn(input: {username: "nobody-at-all", password: "wrong-password"}) { token } }`, nil)
	if strings.Contains(strings.ToLower(e.Message), "user") && !strings.Contains(e.Message, "username or password") {
		t.Fatalf("login error says which part was wrong: %q", e.Message)
	}

	var out struct{ Conversation struct{ LastSeq int } }
	alice.Must(t, `query($c: ID!) { conversation(id: $c) { lastSeq } }`, map[string]any{"c": conv}, &out)
	if out.Conversation.LastSeq != 0 {
		t.Fatalf("a refused send wrote a message: lastSeq = %d", out.Conversation.LastSeq)
	}
	r := alice.Do(t, `{ me { nope } }`, nil)
	if r.Code() == "" || strings.Contains(fmt.Sprint(r.Errors), "goroutine") {
		t.Fatalf("validation error without a code or with a trace: %+v", r.Errors)
	}
}

func TestWebsocketRefusesABadTokenWith4403(t *testing.T) {
	url := newAPI(t, apiOptions{})
	s := apitest.Dial(context.Background(), t, url, "bogus", true)
	select {
	case code := <-s.Closed:
		if code != 4403 {
			t.Fatalf("close code %d, want 4403", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("socket with a bad token was not closed")
	}
}
