package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/apitest"
	"messenger/auth"
	"messenger/chat"
	"messenger/ids"
	"messenger/server"
	"messenger/storage"
)

const (
	signUpOp = `mutation($u: String!, $p: String!, $d: String!) { signUp(input: {username: $u, password: $p, displayName: $d}) { token user { id } } }`
	logInOp  = `mutation($u: String!, $p: String!) { logIn(input: {username: $u, password: $p}) { token } }`
)

// noAccount asserts that no account was created under username.
func noAccount(t *testing.T, store storage.Store, username string) {
	t.Helper()
	if _, err := store.UserByUsername(context.Background(), strings.ToLower(username)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused sign-up created %q (lookup: %v)", username, err)
	}
}

func TestTokensOfUsersWithoutAnAccountAreRefused(t *testing.T) {
	e := newEmbedded(t, apiOptions{})
	_, url := e.serve(t, server.Config{})
	victim := apitest.SignUp(t, url, "victim")
	// Validly signed (the signing key leaked, or is shared with another
	// environment), for a user who has no account here.
	tok, _, err := e.Tokens.Issue(uuid.NewString(), uuid.NewString())
	if err != nil {
		t.Fatal(err)
	}
	ghost := &apitest.Client{URL: url, Token: tok}
	for _, tc := range []struct {
		name, op string
		vars     map[string]any
	}{
		{"me", `{ me { id } }`, nil},
		{"start a conversation with the victim", direct, map[string]any{"u": victim.UserID}},
		{"list conversations", `{ conversations { edges { node { id } } } }`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) { ghost.Refused(t, "UNAUTHENTICATED", tc.op, tc.vars) })
	}
	var out struct{ Conversations struct{ Edges []any } }
	victim.Must(t, `{ conversations { edges { node { id } } } }`, nil, &out)
	if len(out.Conversations.Edges) != 0 {
		t.Fatalf("the refused token created %d conversations for the victim", len(out.Conversations.Edges))
	}

	s := apitest.Dial(context.Background(), t, url, tok, true)
	select {
	case code := <-s.Closed:
		if code != 4403 {
			t.Fatalf("websocket with the token of no account: close %d, want 4403", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("websocket with the token of no account was not closed")
	}
}

func TestAMissingUserShowsAsDeletedWithoutNullingTheList(t *testing.T) {
	e := newEmbedded(t, apiOptions{})
	_, url := e.serve(t, server.Config{})
	victim, alice := apitest.SignUp(t, url, "victim"), apitest.SignUp(t, url, "alice")
	// What a token of no account could do before tokens were checked (and
	// what a deleted sender leaves): rows naming a user who does not exist.
	ctx, ghost := context.Background(), uuid.NewString()
	c, err := e.Chat.CreateDirect(ctx, ghost, rawID(t, victim.UserID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Chat.Send(ctx, ghost, c.ID, "g1", "hello from nobody"); err != nil {
		t.Fatal(err)
	}
	sendMsg(t, alice, startDirect(t, alice, victim), "a1", "hello from alice")

	type userView struct{ ID, Username, DisplayName string }
	var out struct {
		Conversations struct {
			Edges []struct {
				Node struct {
					ID          string
					LastMessage struct {
						Body   string
						Sender userView
					}
					Members struct{ Edges []struct{ Node userView } }
				}
			}
		}
	}
	victim.Must(t, `{ conversations(first: 10) { edges { node { id lastMessage { body sender { id username displayName } }
		members(first: 10) { edges { node { id username displayName } } } } } } }`, nil, &out)
	senders := map[string]userView{}
	for _, edge := range out.Conversations.Edges {
		senders[edge.Node.LastMessage.Body] = edge.Node.LastMessage.Sender
		if len(edge.Node.Members.Edges) != 2 {
			t.Fatalf("conversation %s lists %d members, want 2", edge.Node.ID, len(edge.Node.Members.Edges))
		}
	}
	ghostGlobal := ids.Encode(ids.User, ghost)
	if got := senders["hello from nobody"]; got.ID != ghostGlobal || got.DisplayName != "Deleted account" || got.Username != "deleted" {
		t.Fatalf("the missing sender shows as %+v", got)
	}
	if got := senders["hello from alice"]; got.ID != alice.UserID || got.Username != alice.Username {
		t.Fatalf("alice shows as %+v", got)
	}

	var hist struct {
		Messages struct {
			Edges []struct{ Node struct{ Sender userView } }
		}
	}
	victim.Must(t, `query($c: ID!) { messages(conversationId: $c, last: 10) { edges { node { sender { id displayName } } } } }`,
		map[string]any{"c": ids.Encode(ids.Conversation, c.ID)}, &hist)
	if len(hist.Messages.Edges) != 1 || hist.Messages.Edges[0].Node.Sender.DisplayName != "Deleted account" {
		t.Fatalf("history with a missing sender: %+v", hist)
	}
	var lookup struct{ User *userView }
	victim.Must(t, `query($u: ID!) { user(id: $u) { id } }`, map[string]any{"u": ghostGlobal}, &lookup)
	if lookup.User != nil {
		t.Fatalf("looking the missing user up by id gives %+v, want null", lookup.User)
	}
}

func TestPasswordChecksBeyondTheBoundAreRefusedAndCreateNothing(t *testing.T) {
	gate := auth.NewHashGate(auth.HashGateConfig{Max: 1, Wait: 20 * time.Millisecond})
	e := newEmbedded(t, apiOptions{chat: func(c *chat.Config) { c.Hashes = gate }})
	_, url := e.serve(t, server.Config{})
	alice := apitest.SignUp(t, url, "alice")
	anon := &apitest.Client{URL: url}

	leave, err := gate.Enter(context.Background()) // another password check holds the only slot
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, op string
		vars     map[string]any
	}{
		{"signUp", signUpOp, map[string]any{"u": "newcomer", "p": "a long password", "d": "Newcomer"}},
		{"logIn", logInOp, map[string]any{"u": alice.Username, "p": "password-" + alice.Username}},
		{"logIn of no one", logInOp, map[string]any{"u": "nobody_here", "p": "a long password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			e := anon.Refused(t, "RATE_LIMITED", tc.op, tc.vars)
			retry, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(e.Extensions["retryAt"].(string)))
			if err != nil || retry.Before(before) {
				t.Fatalf("retryAt %v (%v), want a time after the request", e.Extensions["retryAt"], err)
			}
		})
	}
	noAccount(t, e.Store, "newcomer")

	leave()
	anon.Must(t, signUpOp, map[string]any{"u": "newcomer", "p": "a long password", "d": "Newcomer"}, nil)
	anon.Must(t, logInOp, map[string]any{"u": alice.Username, "p": "password-" + alice.Username}, nil)
}

func TestSignUpRefusesReservedNamesAndInvisibleOrReorderingDisplayNames(t *testing.T) {
	e := newEmbedded(t, apiOptions{})
	_, url := e.serve(t, server.Config{})
	anon := &apitest.Client{URL: url}
	for _, tc := range []struct {
		name, username, displayName, field string
	}{
		{"admin", "admin", "Admin", "username"},
		{"root in capitals", "ROOT", "Root", "username"},
		{"support with look-alikes", "5upp0rt", "Support", "username"},
		{"system with separators", "sys.tem", "System", "username"},
		{"everyone", "everyone", "Everyone", "username"},
		{"the deleted placeholder", "deleted", "Deleted account", "username"},
		{"right-to-left override", "mallory1", "\u202Egnp.exe", "displayName"},
		{"isolate", "mallory2", "Mal\u2066lory", "displayName"},
		{"zero-width only", "mallory3", "\u200B\u200C\u200D", "displayName"},
		{"Hangul fillers only", "mallory4", "\u3164\u3164", "displayName"},
		{"control character", "mallory5", "Mal\x1blory", "displayName"},
		{"line break", "mallory6", "Mal\nlory", "displayName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := anon.Refused(t, "BAD_USER_INPUT", signUpOp, map[string]any{"u": tc.username, "p": "a long password", "d": tc.displayName})
			if err.Extensions["field"] != tc.field {
				t.Fatalf("field %v, want %s", err.Extensions["field"], tc.field)
			}
			noAccount(t, e.Store, tc.username)
		})
	}
	anon.Must(t, signUpOp, map[string]any{"u": "helpful", "p": "a long password", "d": "Zoë \u200D محمد"}, nil)

	// Password lengths count characters: 256 two-byte letters are fine, 257 are not.
	err := anon.Refused(t, "BAD_USER_INPUT", signUpOp, map[string]any{"u": "longpass", "p": strings.Repeat("ж", 257), "d": "Long"})
	if err.Extensions["field"] != "password" {
		t.Fatalf("field %v, want password", err.Extensions["field"])
	}
	noAccount(t, e.Store, "longpass")
	anon.Must(t, signUpOp, map[string]any{"u": "longpass", "p": strings.Repeat("ж", 256), "d": "Long"}, nil)
	anon.Must(t, logInOp, map[string]any{"u": "longpass", "p": strings.Repeat("ж", 256)}, nil)
}

func TestPasswordsMatchInAnyUnicodeForm(t *testing.T) {
	url := newAPI(t, apiOptions{})
	anon := &apitest.Client{URL: url}
	anon.Must(t, signUpOp, map[string]any{"u": "amelie", "p": "cr\u00e8me br\u00fbl\u00e9e", "d": "Amélie"}, nil) // composed (NFC)
	anon.Must(t, logInOp, map[string]any{"u": "amelie", "p": "cre\u0300me bru\u0302le\u0301e"}, nil)              // decomposed (NFD)
	anon.Refused(t, "UNAUTHENTICATED", logInOp, map[string]any{"u": "amelie", "p": "creme brulee"})
}

func TestInvisibleBodiesLongClientIDsAndBadReactionsAreRefused(t *testing.T) {
	url := newAPI(t, apiOptions{})
	alice, bob := apitest.SignUp(t, url, "alice"), apitest.SignUp(t, url, "bob")
	conv := startDirect(t, alice, bob)
	for _, tc := range []struct{ name, key, body, field string }{
		{"zero-width body", "k1", "\u200B\u2060\uFEFF", "body"},
		{"blank-letter body", "k2", "\u3164 \u2800", "body"},
		{"129-character client id", strings.Repeat("é", 129), "hi", "clientMessageId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := alice.Refused(t, "BAD_USER_INPUT", send, map[string]any{"c": conv, "k": tc.key, "b": tc.body})
			if err.Extensions["field"] != tc.field {
				t.Fatalf("field %v, want %s", err.Extensions["field"], tc.field)
			}
			if h := history(t, bob, conv); len(h) != 0 {
				t.Fatalf("a refused send left %d messages", len(h))
			}
		})
	}
	// 128 characters of two bytes each: the limit counts characters.
	id := sendMsg(t, alice, conv, strings.Repeat("é", 128), "hello").SendMessage.ID

	england := "\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F"
	for _, tc := range []struct{ name, emoji string }{
		{"combining mark", "👍\u0301"},
		{"enclosing mark", "😀\u20DD"},
		{"tag characters", "😀\U000E0041\U000E0042"},
		{"unknown subdivision flag", "\U0001F3F4\U000E0078\U000E0078\U000E0078\U000E007F"},
		{"selector on a letter", "a\uFE0F"},
		{"other variation selector", "😀\uFE00"},
		{"two emoji", "👍👍"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := bob.Refused(t, "BAD_USER_INPUT", addReactionOp, map[string]any{"m": id, "e": tc.emoji})
			if err.Extensions["field"] != "emoji" {
				t.Fatalf("field %v, want emoji", err.Extensions["field"])
			}
			if m := message(t, alice, id); len(m.Reactions) != 0 {
				t.Fatalf("a refused reaction left %+v", m.Reactions)
			}
		})
	}
	for _, e := range []string{england, "👍🏽", "👩‍💻", "🇬🇧", "#️⃣"} {
		bob.Must(t, addReactionOp, map[string]any{"m": id, "e": e}, nil)
	}
	if m := message(t, alice, id); len(m.Reactions) != 5 {
		t.Fatalf("%d reactions after five good ones", len(m.Reactions))
	}
}
