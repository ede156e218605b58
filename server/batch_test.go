package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"messenger/apitest"
	"messenger/server"
)

// postBatch posts a JSON array of operations and decodes the array.
func postBatch(t *testing.T, api *prodAPI, items []any, header map[string]string) (rawResponse, []apitest.Response) {
	t.Helper()
	r := post(t, api, items, header)
	var out []apitest.Response
	if r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, &out); err != nil {
			t.Fatalf("a batch's answer is not an array: %d %.300s", r.Status, r.Body)
		}
	}
	return r, out
}

func TestBatchedOperationsRunInOrderEachUnderEveryLimit(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) {
		c.Limits.Send = slow(3)
		c.Limits.MaxBatch = 5
	}})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	conv := startDirect(t, alice, bob)

	// Queries and mutations, answered in order; a malformed item gets its
	// own error and the others still run.
	r, out := postBatch(t, api, []any{
		map[string]any{"query": `{ me { username } }`},
		sendBody(conv, "b1"),
		"not an operation",
		map[string]any{"query": `query($c: ID!) { conversation(id: $c) { lastSeq } }`, "variables": map[string]any{"c": conv}},
	}, bearer(alice))
	if r.Status != http.StatusOK || len(out) != 4 {
		t.Fatalf("batch of 4: %d %.300s", r.Status, r.Body)
	}
	if !strings.Contains(string(out[0].Data), alice.Username) || len(out[1].Errors) > 0 || out[2].Code() != "BAD_REQUEST" ||
		!strings.Contains(string(out[3].Data), `"lastSeq":1`) {
		t.Fatalf("batch answers: %.600s", r.Body)
	}

	// Rate limits draw from the same bucket for every item: 2 tokens left.
	items := []any{}
	for i := 0; i < 4; i++ {
		items = append(items, sendBody(conv, fmt.Sprint("r", i)))
	}
	r, out = postBatch(t, api, items, bearer(alice))
	if len(out) != 4 || len(out[0].Errors)+len(out[1].Errors) > 0 || out[2].Code() != "RATE_LIMITED" || out[3].Code() != "RATE_LIMITED" {
		t.Fatalf("4 sends with 2 tokens left: %.600s", r.Body)
	}
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("a batch with rate-limited items has no Retry-After")
	}
	if n := lastSeq(t, alice, conv); n != 3 {
		t.Fatalf("lastSeq = %d, want 3", n)
	}

	// The batch's length is capped; an empty batch is refused.
	long := make([]any, 6)
	for i := range long {
		long[i] = map[string]any{"query": `{ me { id } }`}
	}
	for name, items := range map[string][]any{"6 operations": long, "empty": {}} {
		if r, _ := postBatch(t, api, items, bearer(alice)); r.Status != http.StatusBadRequest || r.Code() != "BAD_REQUEST" {
			t.Fatalf("%s: %d %.300s", name, r.Status, r.Body)
		}
	}
}

// TestABatchIsHeldToTheLimitsOfOneOperation: aliases, cost and tokens add
// up over a batch's operations, so splitting a refused operation into a
// batch gains nothing; password checks count across items.
func TestABatchIsHeldToTheLimitsOfOneOperation(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) {
		c.Limits.MaxAliases, c.Limits.MaxComplexity, c.Limits.MaxTokens = 3, 120, 100
	}})
	bob := apitest.SignUp(t, api.URL, "bob")
	for _, tc := range []struct {
		name  string
		query string
		code  string
	}{
		{"aliases", `{ a: me { id } b: me { id } }`, "TOO_MANY_ALIASES"},                   // 2 + 2 > 3
		{"cost", `{ conversations(first: 50) { edges { cursor } } }`, "QUERY_TOO_COMPLEX"}, // 101 + 101 > 120
		{"tokens", `{ me {` + strings.Repeat(" id", 50) + ` } }`, "QUERY_TOO_LARGE"},       // 56 + 56 > 100
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, out := postBatch(t, api, []any{map[string]any{"query": tc.query}, map[string]any{"query": tc.query}}, bearer(bob))
			if len(out) != 2 || len(out[0].Errors) > 0 || out[1].Code() != tc.code {
				t.Fatalf("two halves of a whole over the limit: %.600s", r.Body)
			}
		})
	}
}

func TestPasswordChecksAddUpOverABatch(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) {
		c.Limits.Auth = slow(4)
		c.ClientIPHeader = "X-Real-IP"
	}})
	bob := apitest.SignUp(t, api.URL, "bob")
	// 6 logIns in 2 items of 3 (in fragments) from one IP with a burst of 4.
	login := `mutation { ...L } fragment L on Mutation {` + logIns(3, bob.Username, "password-"+bob.Username) + ` }`
	r, out := postBatch(t, api, []any{map[string]any{"query": login}, map[string]any{"query": login}}, map[string]string{"X-Real-IP": "10.7.0.1"})
	if len(out) != 2 || out[0].Code() != "UNAUTHENTICATED" || out[1].Code() != "RATE_LIMITED" || out[1].Data != nil {
		t.Fatalf("6 password checks in a batch, burst 4: %.600s", r.Body)
	}
}
