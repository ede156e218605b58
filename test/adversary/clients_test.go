package adversary

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/cql"
)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// fakeIP is a random address in 10.0.0.0/8: with the shared instance's
// MESSENGER_CLIENT_IP_HEADER, each caller that sends it as X-Real-IP gets
// per-IP rate-limit buckets of its own.
func fakeIP() string {
	return fmt.Sprintf("10.%d.%d.%d", mrand.IntN(256), mrand.IntN(256), 1+mrand.IntN(254))
}

// post sends one GraphQL operation with extra headers and returns the
// response; it does not touch a testing.T, so goroutines may call it. A
// response that is not JSON is an error naming its status.
func post(ctx context.Context, url, token string, hdr map[string]string, body any) (apitest.Response, error) {
	var r apitest.Response
	b, err := json.Marshal(body)
	if err != nil {
		return r, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", bytes.NewReader(b))
	if err != nil {
		return r, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return r, fmt.Errorf("reading the response: %w", err)
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("status %d, body %.300q: %w", resp.StatusCode, raw, err)
	}
	r.Status = resp.StatusCode
	return r, nil
}

// op is a GraphQL request body.
func op(query string, vars map[string]any) map[string]any {
	return map[string]any{"query": query, "variables": vars}
}

// mustPost is post that fails t on a transport error.
func mustPost(t testing.TB, url, token string, hdr map[string]string, body any) apitest.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := post(ctx, url, token, hdr, body)
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	return r
}

// signUp creates a user with a random name, from a random client IP (so
// sign-ups never spend the auth bucket a test measures), and returns its
// client; its password is password(name).
func signUp(t testing.TB, in *instance, prefix string) *apitest.Client {
	t.Helper()
	name := prefix + "_" + randomHex(5)
	r := mustPost(t, in.URL, "", map[string]string{"X-Real-IP": fakeIP()}, op(
		`mutation($i: SignUpInput!) { signUp(input: $i) { token user { id username } } }`,
		map[string]any{"i": map[string]any{"username": name, "password": password(name), "displayName": "Adversary " + prefix}}))
	if len(r.Errors) > 0 {
		t.Fatalf("signUp %s: %+v", name, r.Errors)
	}
	var out struct {
		SignUp struct {
			Token string
			User  struct{ ID, Username string }
		}
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatalf("signUp %s: %s: %v", name, r.Data, err)
	}
	return &apitest.Client{URL: in.URL, Token: out.SignUp.Token, UserID: out.SignUp.User.ID, Username: out.SignUp.User.Username}
}

func password(username string) string { return "pw-" + username + "-correct horse" }

// group creates a group of owner and members and returns its id.
func group(t testing.TB, owner *apitest.Client, members ...*apitest.Client) string {
	t.Helper()
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.UserID
	}
	var out struct{ CreateGroup struct{ ID string } }
	owner.Must(t, `mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }`,
		map[string]any{"i": map[string]any{"title": "adversary " + randomHex(3), "memberIds": ids}}, &out)
	return out.CreateGroup.ID
}

// direct creates the direct conversation of a and b and returns its id.
func direct(t testing.TB, a, b *apitest.Client) string {
	t.Helper()
	var out struct{ CreateDirectConversation struct{ ID string } }
	a.Must(t, `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`, map[string]any{"u": b.UserID}, &out)
	return out.CreateDirectConversation.ID
}

const sendMutation = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq clientMessageId } }`

// sendInput is sendMessage's input.
func sendInput(conv, clientID, body string) map[string]any {
	return map[string]any{"i": map[string]any{"conversationId": conv, "clientMessageId": clientID, "body": body}}
}

// historyMessage is a message as history lists it.
type historyMessage struct {
	ID, Body, ClientMessageID string
	Seq                       int
}

// history pages forward through a conversation's whole history.
func history(t testing.TB, c *apitest.Client, conv string) []historyMessage {
	t.Helper()
	var all []historyMessage
	var after any
	for {
		var out struct {
			Messages struct {
				Edges []struct {
					Node historyMessage
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		c.Must(t, `query($c: ID!, $after: String) { messages(conversationId: $c, first: 100, after: $after) {
			edges { node { id seq body clientMessageId } } pageInfo { hasNextPage endCursor } } }`,
			map[string]any{"c": conv, "after": after}, &out)
		for _, e := range out.Messages.Edges {
			all = append(all, e.Node)
		}
		if !out.Messages.PageInfo.HasNextPage || len(out.Messages.Edges) == 0 {
			return all
		}
		after = out.Messages.PageInfo.EndCursor
	}
}

// dropKeyspace removes a test's keyspace from the shared Cassandra; a
// failure is only logged.
func dropKeyspace(logf func(string, ...any), hosts, keyspace string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := cql.Open(ctx, cql.Config{Hosts: strings.Split(hosts, ","), Keyspace: keyspace, StartupTimeout: 30 * time.Second})
	if err != nil {
		logf("opening %s to drop it: %v", keyspace, err)
		return
	}
	defer s.Close()
	if err := s.Query("DROP KEYSPACE IF EXISTS " + keyspace).WithContext(ctx).Exec(); err != nil {
		logf("dropping %s: %v", keyspace, err)
	}
}
