package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"messenger/apitest"
	"messenger/ratelimit"
	"messenger/server"
)

// slow is a rule that does not refill within a test.
func slow(burst int) ratelimit.Rule { return ratelimit.Rule{Rate: 0.001, Burst: burst} }

// logIns is n logIn aliases for username, all with the wrong password but
// the last, which has the right one: if any check ran, data shows it.
func logIns(n int, username, password string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		pw := "wrong-guess-" + fmt.Sprint(i)
		if i == n-1 {
			pw = password
		}
		fmt.Fprintf(&b, " a%d: logIn(input: {username: %q, password: %q}) { token }", i, username, pw)
	}
	return b.String()
}

func TestPasswordChecksInsideFragmentsEachTakeAToken(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) {
		c.Limits.Auth = slow(20)
		c.ClientIPHeader = "X-Real-IP"
	}})
	victim := apitest.SignUp(t, api.URL, "victim")
	password := "password-" + victim.Username
	attempt := func(ip, query string) rawResponse {
		return post(t, api, map[string]any{"query": query}, map[string]string{"X-Real-IP": ip})
	}
	for i, tc := range []struct{ name, doc string }{
		{"inline fragment", `mutation { ... on Mutation {` + logIns(30, victim.Username, password) + ` } }`},
		{"named fragment", `mutation { ...Guesses } fragment Guesses on Mutation {` + logIns(30, victim.Username, password) + ` }`},
		{"nested fragments", `mutation { ... on Mutation { ...Outer } } fragment Outer on Mutation { ... on Mutation { ...Inner } }
			fragment Inner on Mutation {` + logIns(30, victim.Username, password) + ` }`},
		{"split between root and fragment", `mutation {` + logIns(10, victim.Username, "nope") + ` ...Rest }
			fragment Rest on Mutation {` + strings.ReplaceAll(logIns(20, victim.Username, password), " a", " b") + ` }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ip, doc := fmt.Sprintf("10.9.0.%d", i), tc.doc // a fresh bucket of 20 per case
			r := attempt(ip, doc)
			if r.Status != http.StatusTooManyRequests || r.Code() != "RATE_LIMITED" {
				t.Fatalf("30 password checks with a burst of 20: %d %.300s", r.Status, r.Body)
			}
			if r.Data != nil || strings.Contains(string(r.Body), "token") {
				t.Fatalf("a password check ran: %.300s", r.Body)
			}
			// Refused whole, it took no token: 20 checks still run (19
			// wrong guesses answer UNAUTHENTICATED, the right one does not;
			// logIn is non-null, so data is null).
			r = attempt(ip, `mutation { ...G } fragment G on Mutation {`+logIns(20, victim.Username, password)+` }`)
			wrong := 0
			for _, e := range r.Errors {
				if e.Code() == "UNAUTHENTICATED" && fmt.Sprint(e.Path) != "[a19]" {
					wrong++
				}
			}
			if wrong != 19 || len(r.Errors) != 19 {
				t.Fatalf("20 checks after the refusal: %d wrong guesses checked: %.300s", wrong, r.Body)
			}
			// The bucket is empty now, however the next check is wrapped.
			r = attempt(ip, `mutation { ... on Mutation { ...G } } fragment G on Mutation {`+logIns(1, victim.Username, password)+` }`)
			if r.Code() != "RATE_LIMITED" || r.Header.Get("Retry-After") == "" || r.Data != nil {
				t.Fatalf("the 21st check: %d %s", r.Status, r.Body)
			}
		})
	}
}

func TestSendMessageAliasesInANamedFragmentAreCounted(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) { c.Limits.Send = slow(3) }})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	conv := startDirect(t, alice, bob)
	sends := func(prefix string, n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, ` %s%d: sendMessage(input: {conversationId: $c, clientMessageId: "%s%d", body: "x"}) { seq }`, prefix, i, prefix, i)
		}
		return b.String()
	}
	doc := func(prefix string, n int) map[string]any {
		return map[string]any{"query": `mutation($c: ID!) { ...Sends } fragment Sends on Mutation {` + sends(prefix, n) + ` }`, "variables": map[string]any{"c": conv}}
	}
	if r := post(t, api, doc("a", 5), bearer(alice)); r.Code() != "RATE_LIMITED" {
		t.Fatalf("5 sends with a burst of 3: %s", r.Body)
	}
	if n := lastSeq(t, alice, conv); n != 0 {
		t.Fatalf("a refused batch of sends wrote %d messages", n)
	}
	if r := post(t, api, doc("b", 3), bearer(alice)); len(r.Errors) > 0 {
		t.Fatalf("3 sends with a burst of 3: %s", r.Body)
	}
	if r := post(t, api, map[string]any{"query": `mutation($c: ID!) { ... on Mutation {` + sends("c", 1) + ` } }`, "variables": map[string]any{"c": conv}}, bearer(alice)); r.Code() != "RATE_LIMITED" {
		t.Fatalf("a fourth send in an inline fragment: %s", r.Body)
	}
	if n := lastSeq(t, alice, conv); n != 3 {
		t.Fatalf("lastSeq = %d, want 3", n)
	}
}

// TestEveryLimitSeesThroughFragments: depth, cost and aliases count the
// fields a fragment brings, wherever it is spread.
func TestEveryLimitSeesThroughFragments(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) {
		c.Limits.MaxDepth, c.Limits.MaxComplexity, c.Limits.MaxAliases = 5, 150, 3
	}})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	conv := startDirect(t, alice, bob)
	for _, tc := range []struct{ code, query string }{
		{"QUERY_TOO_DEEP", `mutation($c: ID!) { ...S } fragment S on Mutation { sendMessage(input: {conversationId: $c, clientMessageId: "d", body: "x"}) { ...Deep } }
			fragment Deep on Message { conversation { lastMessage { conversation { lastMessage { id } } } } }`},
		{"QUERY_TOO_COMPLEX", `mutation($c: ID!) { ... on Mutation { sendMessage(input: {conversationId: $c, clientMessageId: "c", body: "x"}) { ...R } } }
			fragment R on Message { readBy(first: 100) { edges { cursor } } }`},
		{"TOO_MANY_ALIASES", `mutation($c: ID!) { ...A } fragment A on Mutation { ... on Mutation {
			a: sendMessage(input: {conversationId: $c, clientMessageId: "a", body: "x"}) { i: id }
			b: sendMessage(input: {conversationId: $c, clientMessageId: "b", body: "x"}) { j: id } } }`},
	} {
		r := post(t, api, map[string]any{"query": tc.query, "variables": map[string]any{"c": conv}}, bearer(alice))
		if r.Code() != tc.code {
			t.Errorf("want %s, got %d %s", tc.code, r.Status, r.Body)
		}
	}
	if n := lastSeq(t, alice, conv); n != 0 {
		t.Fatalf("an oversized mutation ran: lastSeq = %d", n)
	}
}

// TestFanOutMutationsAreRateLimitedPerUser: each mutation that reaches
// every member of a conversation has a per-user bucket; the refused one
// changes nothing and another user's bucket is their own.
func TestFanOutMutationsAreRateLimitedPerUser(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*server.Limits, ratelimit.Rule)
		// op runs the mutation the i-th time as c on message m in conv.
		op func(t *testing.T, c *apitest.Client, conv, m string, i int) apitest.Response
		// unchanged checks that the refused call changed nothing.
		unchanged func(t *testing.T, c *apitest.Client, conv, m string)
	}{
		{"editMessage", func(l *server.Limits, r ratelimit.Rule) { l.Edit = r },
			func(t *testing.T, c *apitest.Client, _, m string, i int) apitest.Response {
				return c.Do(t, editOp, map[string]any{"m": m, "b": fmt.Sprintf("edit %d", i)})
			},
			func(t *testing.T, c *apitest.Client, _, m string) {
				if v := message(t, c, m); v == nil || v.Body == nil || *v.Body != "edit 2" {
					t.Errorf("the refused edit changed the body: %+v", v)
				}
			}},
		{"deleteMessage", func(l *server.Limits, r ratelimit.Rule) { l.Edit = r },
			func(t *testing.T, c *apitest.Client, conv, _ string, i int) apitest.Response {
				m := sendMsg(t, c, conv, fmt.Sprint("del", i), "to delete").SendMessage.ID
				return c.Do(t, deleteOp, map[string]any{"m": m, "e": true})
			},
			func(t *testing.T, c *apitest.Client, conv, _ string) {
				if m := history(t, c, conv); m[len(m)-1].DeletedAt != nil {
					t.Errorf("the refused delete deleted: %+v", m[len(m)-1])
				}
			}},
		{"addReaction", func(l *server.Limits, r ratelimit.Rule) { l.React = r },
			func(t *testing.T, c *apitest.Client, _, m string, i int) apitest.Response {
				return c.Do(t, addReactionOp, map[string]any{"m": m, "e": []string{"👍", "🎉", "😀", "😂"}[i]})
			},
			func(t *testing.T, c *apitest.Client, _, m string) {
				if v := message(t, c, m); len(v.Reactions) != 3 {
					t.Errorf("reactions after a refused fourth: %+v", v.Reactions)
				}
			}},
		{"removeReaction", func(l *server.Limits, r ratelimit.Rule) { l.React = r },
			func(t *testing.T, c *apitest.Client, _, m string, i int) apitest.Response {
				if i%2 == 0 { // adding takes from the same bucket
					return c.Do(t, addReactionOp, map[string]any{"m": m, "e": "👍"})
				}
				return c.Do(t, dropReactionOp, map[string]any{"m": m, "e": "👍"})
			},
			func(t *testing.T, c *apitest.Client, _, m string) {}},
		{"setTyping", func(l *server.Limits, r ratelimit.Rule) { l.Typing = r },
			func(t *testing.T, c *apitest.Client, conv, _ string, i int) apitest.Response {
				return c.Do(t, typingOp, map[string]any{"c": conv, "on": i%2 == 0})
			},
			func(t *testing.T, c *apitest.Client, _, _ string) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := startProd(t, prodOptions{config: func(c *server.Config) { tc.set(&c.Limits, slow(3)) }})
			alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
			conv := startDirect(t, alice, bob)
			m := sendMsg(t, alice, conv, "m", "hello").SendMessage.ID
			for i := 0; i < 3; i++ {
				if r := tc.op(t, alice, conv, m, i); len(r.Errors) > 0 {
					t.Fatalf("call %d of a burst of 3: %+v", i+1, r.Errors)
				}
			}
			r := tc.op(t, alice, conv, m, 3)
			if r.Code() != "RATE_LIMITED" || r.Errors[0].Extensions["retryAfter"] == nil {
				t.Fatalf("fourth call: %+v", r.Errors)
			}
			tc.unchanged(t, alice, conv, m)
			if r := tc.op(t, bob, conv, m, 0); r.Code() == "RATE_LIMITED" {
				t.Fatalf("bob shares alice's bucket: %+v", r.Errors)
			}
		})
	}
}

// TestGroupChangesDrawFromTheEditBucket: renaming a group, like an edit,
// reaches every member, so it is limited like one; a refused rename
// changes nothing, and another member's bucket is their own.
func TestGroupChangesDrawFromTheEditBucket(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) { c.Limits.Edit = slow(3) }})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	g := createGroup(t, alice, "team", bob) // the group's creation takes one token
	for i := 0; i < 2; i++ {
		alice.Must(t, renameOp, map[string]any{"c": g, "t": fmt.Sprintf("name %d", i)}, nil)
	}
	r := alice.Do(t, renameOp, map[string]any{"c": g, "t": "one too many"})
	if r.Code() != "RATE_LIMITED" {
		t.Fatalf("fourth group change: %+v", r.Errors)
	}
	var out struct{ Conversation struct{ Title string } }
	alice.Must(t, `query($c: ID!) { conversation(id: $c) { title } }`, map[string]any{"c": g}, &out)
	if out.Conversation.Title != "name 1" {
		t.Fatalf("a refused rename changed the title to %q", out.Conversation.Title)
	}
	if r := bob.Do(t, renameOp, map[string]any{"c": g, "t": "bob's"}); r.Code() == "RATE_LIMITED" {
		t.Fatalf("bob shares alice's bucket: %+v", r.Errors)
	}
}
