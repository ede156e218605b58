package adversary

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"messenger/apitest"
	"messenger/ids"
	"messenger/media/mediatest"
)

// mint signs a token for the storage user id sub and session sid (none
// when "") with the shared instance's key, as anyone holding the key (a key
// shared between environments, restored from a backup) could.
func mint(t *testing.T, sub, sid string) string {
	t.Helper()
	now := time.Now()
	claims := jwt.MapClaims{"sub": sub, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if sid != "" {
		claims["sid"] = sid
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(sharedSecret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// sessionOf reads the session id out of a token the API issued.
func sessionOf(t *testing.T, token string) string {
	t.Helper()
	var claims jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &claims); err != nil {
		t.Fatal(err)
	}
	sid, _ := claims["sid"].(string)
	return sid
}

// A correctly signed token for a user who does not exist is refused over
// HTTP and on a websocket; its bearer cannot reach anyone, and the user it
// tried to reach still lists their conversations.
func TestTokenOfAUserWhoDoesNotExistIsRefused(t *testing.T) {
	t.Parallel()
	in := shared(t)
	victim := signUp(t, in, "victim")

	// The control: a token minted for a real user works, so the minting is right.
	realID, err := ids.DecodeAs(ids.User, victim.UserID)
	if err != nil {
		t.Fatal(err)
	}
	minted := &apitest.Client{URL: in.URL, Token: mint(t, realID, sessionOf(t, victim.Token))}
	var me struct{ Me struct{ ID string } }
	minted.Must(t, `{ me { id } }`, nil, &me)
	if me.Me.ID != victim.UserID {
		t.Fatalf("a minted token of %s is %s", victim.UserID, me.Me.ID)
	}

	// A token without a session (as every token was before sessions), or
	// with a session that was never opened, is refused even for a real user.
	for name, tok := range map[string]string{"no session": mint(t, realID, ""), "unknown session": mint(t, realID, uuid.NewString())} {
		if r := (&apitest.Client{URL: in.URL, Token: tok}).Do(t, `{ me { id } }`, nil); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("me with a real user's token with %s: %s %+v", name, r.Data, r.Errors)
		}
	}

	ghost := &apitest.Client{URL: in.URL, Token: mint(t, uuid.NewString(), uuid.NewString())}
	if r := ghost.Do(t, `{ me { id } }`, nil); r.Code() != "UNAUTHENTICATED" {
		t.Errorf("me with a ghost's token: %s %+v", r.Data, r.Errors)
	}
	if r := ghost.Do(t, `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`, map[string]any{"u": victim.UserID}); r.Code() != "UNAUTHENTICATED" {
		t.Errorf("a ghost opened a conversation with a real user: %s %+v", r.Data, r.Errors)
	}

	// On a websocket the token is refused at connection_init (4403).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s, err := subscribe(ctx, in.URL, ghost.Token, messagesQuery, nil); err == nil {
		s.close()
		t.Errorf("a websocket with a ghost's token was acknowledged")
	}

	var list struct {
		Conversations struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	r := victim.Do(t, `{ conversations(first: 20) { edges { node { id members { edges { node { id username } } } } } } }`, nil)
	if len(r.Errors) > 0 || json.Unmarshal(r.Data, &list) != nil {
		t.Fatalf("the victim's conversations: %s %+v", r.Data, r.Errors)
	}
	if n := len(list.Conversations.Edges); n != 0 {
		t.Errorf("the victim has %d conversations nobody real opened", n)
	}
}

// Display names cannot reorder or hide text: bidi overrides and
// isolates, control characters and names of only invisible characters are
// refused, as is a message body of only invisible characters.
func TestInvisibleAndReorderingTextIsRefused(t *testing.T) {
	t.Parallel()
	in := shared(t)
	for name, display := range map[string]string{
		"right-to-left override": "Alice\u202Egnp.exe",
		"left-to-right isolate":  "Bob\u2066x\u2069",
		"control character":      "Carol\u0007",
		"only zero-width":        "\u200B\u200C\u200D",
	} {
		t.Run("display name with "+name, func(t *testing.T) {
			username := "hyg_" + randomHex(5)
			r := mustPost(t, in.URL, "", map[string]string{"X-Real-IP": fakeIP()}, op(
				`mutation($i: SignUpInput!) { signUp(input: $i) { token } }`,
				map[string]any{"i": map[string]any{"username": username, "password": password(username), "displayName": display}}))
			if r.Code() != "BAD_USER_INPUT" {
				t.Fatalf("display name %+q: %s %+v", display, r.Data, r.Errors)
			}
		})
	}
	t.Run("body of only zero-width characters", func(t *testing.T) {
		a, b := signUp(t, in, "hyg"), signUp(t, in, "hyg")
		conv := direct(t, a, b)
		a.Refused(t, "BAD_USER_INPUT", sendMutation, sendInput(conv, "zw", "\u200B\u2060\uFEFF"))
	})
	t.Run("file name with a right-to-left override", func(t *testing.T) {
		c := signUp(t, in, "hyg")
		r := upload(t, c, "invoice\u202Efdp.png", mediatest.PNG(3, 3))
		if len(r.Errors) == 0 && strings.Contains(string(r.Data), "\u202E") {
			t.Fatalf("a file name keeps its right-to-left override: %s", r.Data)
		}
	})
}
