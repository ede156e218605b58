package server_test

import (
	"strings"
	"testing"

	"messenger/apitest"
	"messenger/persisted"
	"messenger/server"
)

func apq(query string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": persisted.Hash(query)}}
}

// TestAPQRegistersOnlyDocumentsThatParseValidateAndFit: registering is
// free and anonymous, so only what could run is kept: a document that
// does not parse, does not validate against the schema, breaks a limit or
// is over the size cap is refused and its hash stays unknown.
func TestAPQRegistersOnlyDocumentsThatParseValidateAndFit(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) {
		c.Limits.MaxDepth = 3
		c.APQMaxDocumentBytes = 2 << 10
	}})
	bob := apitest.SignUp(t, api.URL, "bob")
	for _, tc := range []struct{ name, query, code string }{
		{"does not parse", `{ me { id }`, "GRAPHQL_PARSE_FAILED"},
		{"unknown field", `{ me { id password } }`, "GRAPHQL_VALIDATION_FAILED"},
		{"unknown argument type", `query($x: Nope) { me { id } }`, "GRAPHQL_VALIDATION_FAILED"},
		{"too deep", `{ conversations(first: 1) { edges { node { id } } } }`, "QUERY_TOO_DEEP"},
		{"over the size cap", `{ me { id } } # ` + strings.Repeat("x", 3<<10), "QUERY_TOO_LARGE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, api, map[string]any{"query": tc.query, "extensions": apq(tc.query)}, bearer(bob))
			if r.Code() != tc.code {
				t.Fatalf("registering: want %s, got %.300s", tc.code, r.Body)
			}
			if r := post(t, api, map[string]any{"extensions": apq(tc.query)}, bearer(bob)); r.Code() != "PERSISTED_QUERY_NOT_FOUND" {
				t.Fatalf("the refused document was registered: %.300s", r.Body)
			}
		})
	}
	// A large document still runs when sent as text.
	big := `{ me { username } } # ` + strings.Repeat("x", 3<<10)
	if r := post(t, api, map[string]any{"query": big}, bearer(bob)); !strings.Contains(string(r.Data), bob.Username) {
		t.Fatalf("a document over the APQ cap sent as text: %.300s", r.Body)
	}
	// A document that fits is registered, also when its variables were
	// wrong the first time (it parsed and validated; it runs once they are
	// right).
	good := `query($f: Int) { me { username } conversations(first: $f) { edges { cursor } } }`
	if r := post(t, api, map[string]any{"query": good, "extensions": apq(good), "variables": map[string]any{"f": "x"}}, bearer(bob)); r.Code() == "" {
		t.Fatalf("a bad variable: %.300s", r.Body)
	}
	if r := post(t, api, map[string]any{"query": good, "extensions": apq(good)}, bearer(bob)); !strings.Contains(string(r.Data), bob.Username) {
		t.Fatalf("registering a good document: %.300s", r.Body)
	}
	if r := post(t, api, map[string]any{"extensions": apq(good)}, bearer(bob)); !strings.Contains(string(r.Data), bob.Username) {
		t.Fatalf("the registered document by hash: %.300s", r.Body)
	}
}
