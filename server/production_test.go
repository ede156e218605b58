package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/persisted"
	"messenger/ratelimit"
	"messenger/server"
)

const gqlJSON = "application/json"

func post(t *testing.T, api *prodAPI, body any, header map[string]string) rawResponse {
	t.Helper()
	h := map[string]string{"Content-Type": gqlJSON}
	for k, v := range header {
		h[k] = v
	}
	return do(t, http.MethodPost, api.URL+"/graphql", jsonBody(t, body), h)
}

func bearer(c *apitest.Client) map[string]string {
	return map[string]string{"Authorization": "Bearer " + c.Token}
}

func sendBody(conv, key string) map[string]any {
	return map[string]any{"query": send, "variables": map[string]any{"c": conv, "k": key, "b": "hi"}}
}

func TestHTTPRefusalsFollowGraphQLOverHTTPAndRunNothing(t *testing.T) {
	api := startProd(t, prodOptions{})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	conv := startDirect(t, alice, bob)
	auth := bearer(alice)

	// A mutation over GET: 405 with Allow: POST.
	q := url.Values{"query": {send}, "variables": {string(jsonBody(t, map[string]any{"c": conv, "k": "get", "b": "x"}))}}
	r := do(t, http.MethodGet, api.URL+"/graphql?"+q.Encode(), nil, auth)
	if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "POST" || r.Code() != "METHOD_NOT_ALLOWED" {
		t.Fatalf("GET mutation: %d Allow=%q %s", r.Status, r.Header.Get("Allow"), r.Body)
	}
	// Unsupported or missing content types: 415.
	for _, ct := range []string{"text/plain", "", "application/x-www-form-urlencoded", "application/json; charset=latin1"} {
		h := map[string]string{"Authorization": auth["Authorization"]}
		if ct != "" {
			h["Content-Type"] = ct
		}
		if r := do(t, http.MethodPost, api.URL+"/graphql", jsonBody(t, sendBody(conv, "ct")), h); r.Status != http.StatusUnsupportedMediaType {
			t.Fatalf("content type %q: status %d %s", ct, r.Status, r.Body)
		}
	}
	// Over 1 MiB: 413, announced or streamed.
	big := sendBody(conv, "big")
	big["variables"].(map[string]any)["pad"] = strings.Repeat("x", 1<<20)
	if r := post(t, api, big, auth); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("big body: status %d", r.Status)
	}
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/graphql", &chunked{data: jsonBody(t, big)})
	req.Header.Set("Content-Type", gqlJSON)
	req.Header.Set("Authorization", auth["Authorization"])
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("big chunked body: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// Bad JSON: 400. A parse error: 400 in graphql-response+json, 200 in
	// application/json, and no data entry.
	if r := do(t, http.MethodPost, api.URL+"/graphql", []byte(`{"query":`), map[string]string{"Content-Type": gqlJSON}); r.Status != 400 {
		t.Fatalf("bad JSON: %d", r.Status)
	}
	parseErr := map[string]any{"query": "mutation { sendMessage("}
	r = post(t, api, parseErr, map[string]string{"Accept": "application/graphql-response+json"})
	if r.Status != 400 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/graphql-response+json") || strings.Contains(string(r.Body), `"data"`) {
		t.Fatalf("parse error (graphql-response+json): %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	r = post(t, api, parseErr, nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || r.Code() != "GRAPHQL_PARSE_FAILED" {
		t.Fatalf("parse error (json): %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	// Nothing acceptable: 406.
	if r := post(t, api, sendBody(conv, "html"), map[string]string{"Accept": "text/html", "Authorization": auth["Authorization"]}); r.Status != http.StatusNotAcceptable {
		t.Fatalf("Accept text/html: %d", r.Status)
	}
	// A subscription over HTTP: 400, it needs a websocket.
	if r := post(t, api, map[string]any{"query": apitest.EventsQuery}, bearer(bob)); r.Status != 400 {
		t.Fatalf("subscription over HTTP: %d %s", r.Status, r.Body)
	}
	if n := lastSeq(t, alice, conv); n != 0 {
		t.Fatalf("a refused request wrote a message: lastSeq = %d", n)
	}
	// And a query over GET works, in both media types.
	r = do(t, http.MethodGet, api.URL+"/graphql?query="+url.QueryEscape("{ me { username } }"), nil, map[string]string{"Authorization": auth["Authorization"], "Accept": "application/graphql-response+json"})
	if r.Status != 200 || !strings.Contains(string(r.Body), alice.Username) || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/graphql-response+json") {
		t.Fatalf("GET query: %d %s", r.Status, r.Body)
	}
}

// chunked hides its length, so the body is streamed without Content-Length.
type chunked struct {
	data []byte
	off  int
}

func (c *chunked) Read(p []byte) (int, error) {
	if c.off >= len(c.data) {
		return 0, io.EOF
	}
	n := copy(p, c.data[c.off:])
	c.off += n
	return n, nil
}

func TestAutomaticPersistedQueries(t *testing.T) {
	api := startProd(t, prodOptions{})
	bob := apitest.SignUp(t, api.URL, "bob")
	query := `query Me { me { username } }`
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": persisted.Hash(query)}}

	r := post(t, api, map[string]any{"extensions": ext}, bearer(bob))
	if r.Code() != "PERSISTED_QUERY_NOT_FOUND" || r.Errors[0].Message != "PersistedQueryNotFound" {
		t.Fatalf("unknown hash: %s", r.Body)
	}
	wrong := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": persisted.Hash("something else")}}
	if r := post(t, api, map[string]any{"query": query, "extensions": wrong}, bearer(bob)); r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("wrong hash: %s", r.Body)
	}
	if r := post(t, api, map[string]any{"query": query, "extensions": ext}, bearer(bob)); !strings.Contains(string(r.Data), bob.Username) {
		t.Fatalf("hash + query: %s", r.Body)
	}
	if r := post(t, api, map[string]any{"extensions": ext}, bearer(bob)); !strings.Contains(string(r.Data), bob.Username) {
		t.Fatalf("hash only, once registered: %s", r.Body)
	}
	// Apollo's useGETForHashedQueries.
	q := url.Values{"operationName": {"Me"}, "extensions": {string(jsonBody(t, ext))}}
	if r := do(t, http.MethodGet, api.URL+"/graphql?"+q.Encode(), nil, bearer(bob)); r.Status != 200 || !strings.Contains(string(r.Data), bob.Username) {
		t.Fatalf("GET with a hash: %d %s", r.Status, r.Body)
	}
	// In a websocket subscribe payload.
	s := acked(t, api.URL, bob.Token)
	s.send(`{"id":"1","type":"subscribe","payload":{"extensions":` + string(jsonBody(t, ext)) + `}}`)
	if m := s.next(); m.Type != "next" || !strings.Contains(string(m.Payload), bob.Username) {
		t.Fatalf("websocket with a hash: %+v", m)
	}
}

// writeManifest builds a manifest from ops and writes it to a file.
func writeManifest(t *testing.T, ops string) (*persisted.Manifest, map[string]string) {
	t.Helper()
	m, err := persisted.BuildManifest(map[string]string{"ops.graphql": ops})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "manifest.json")
	b, _ := json.Marshal(m)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := persisted.LoadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, op := range m.Operations {
		ids[op.Name] = op.ID
	}
	return loaded, ids
}

func TestPartnerKeysRunOnlyTrustedDocuments(t *testing.T) {
	const key = "partner-key-0123456789"
	manifest, ids := writeManifest(t, `query Me { me { username } }
subscription Events { events { __typename ... on MessageAdded { message { body } } } }`)
	api := startProd(t, prodOptions{config: func(c *server.Config) {
		c.Trusted, c.PartnerKeys = manifest, map[string]string{key: "acme"}
	}})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	conv := startDirect(t, alice, bob)
	partner := map[string]string{"Authorization": "Bearer " + alice.Token, "X-Api-Key": key}

	// By id: documentId or the APQ hash.
	if r := post(t, api, map[string]any{"documentId": "sha256:" + ids["Me"]}, partner); !strings.Contains(string(r.Data), alice.Username) {
		t.Fatalf("trusted document by documentId: %s", r.Body)
	}
	apq := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": ids["Me"]}}
	if r := post(t, api, map[string]any{"extensions": apq}, partner); !strings.Contains(string(r.Data), alice.Username) {
		t.Fatalf("trusted document by APQ hash: %s", r.Body)
	}
	// Refused before execution: raw text, an unknown id, APQ registration.
	refused := []map[string]any{
		sendBody(conv, "raw"),
		{"documentId": "sha256:" + persisted.Hash(send), "variables": map[string]any{"c": conv, "k": "unknown", "b": "x"}},
		{"query": send, "variables": map[string]any{"c": conv, "k": "apq", "b": "x"},
			"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": persisted.Hash(send)}}},
	}
	for _, body := range refused {
		if r := post(t, api, body, partner); r.Status != http.StatusForbidden || r.Code() != "PERSISTED_QUERY_NOT_ALLOWED" {
			t.Fatalf("partner request %v: %d %s", body, r.Status, r.Body)
		}
	}
	if r := post(t, api, map[string]any{"query": "{ me { id } }"}, map[string]string{"X-Api-Key": "not-a-key"}); r.Status != http.StatusUnauthorized {
		t.Fatalf("unknown key: %d %s", r.Status, r.Body)
	}
	// The same over a websocket with apiKey in connection_init.
	s := dialRaw(t, api.URL, nil)
	s.send(`{"type":"connection_init","payload":{"Authorization":"Bearer ` + bob.Token + `","apiKey":"` + key + `"}}`)
	if m := s.next(); m.Type != "connection_ack" {
		t.Fatalf("partner socket: %+v", m)
	}
	s.send(sendOp("raw", conv, "ws-raw"))
	if m := s.next(); m.Type != "error" || !strings.Contains(string(m.Payload), "PERSISTED_QUERY_NOT_ALLOWED") {
		t.Fatalf("partner raw subscribe: %+v", m)
	}
	s.send(`{"id":"ev","type":"subscribe","payload":{"documentId":"sha256:` + ids["Events"] + `"}}`)
	time.Sleep(100 * time.Millisecond)
	sendMsg(t, alice, conv, "ok", "hello partner")
	if m := s.next(); m.Type != "next" || !strings.Contains(string(m.Payload), "hello partner") {
		t.Fatalf("partner trusted subscription: %+v", m)
	}
	if n := lastSeq(t, alice, conv); n != 1 {
		t.Fatalf("partner refusals wrote messages: lastSeq = %d, want 1", n)
	}
}

func TestOversizedOperationsAreRefusedBeforeAnyResolver(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) {
		c.Limits.MaxDepth, c.Limits.MaxComplexity, c.Limits.MaxAliases, c.Limits.MaxTokens = 5, 150, 3, 400
	}})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	conv := startDirect(t, alice, bob)
	aliased := func(n int) string {
		var b strings.Builder
		b.WriteString(`mutation($c: ID!) {`)
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, ` m%d: sendMessage(input: {conversationId: $c, clientMessageId: "a%d", body: "x"}) { id }`, i, i)
		}
		return b.String() + "}"
	}
	for code, q := range map[string]string{
		"QUERY_TOO_DEEP":    `mutation($c: ID!) { sendMessage(input: {conversationId: $c, clientMessageId: "d", body: "x"}) { conversation { lastMessage { conversation { lastMessage { id } } } } } }`,
		"QUERY_TOO_COMPLEX": `mutation($c: ID!) { sendMessage(input: {conversationId: $c, clientMessageId: "c", body: "x"}) { readBy(first: 100) { edges { cursor } } } }`,
		"TOO_MANY_ALIASES":  aliased(4),
		"QUERY_TOO_LARGE":   aliased(30),
	} {
		r := post(t, api, map[string]any{"query": q, "variables": map[string]any{"c": conv}}, bearer(alice))
		if r.Code() != code {
			t.Errorf("want %s, got %d %s", code, r.Status, r.Body)
		}
	}
	if n := lastSeq(t, alice, conv); n != 0 {
		t.Fatalf("an oversized mutation ran: lastSeq = %d", n)
	}
	// Within the limits it runs.
	if r := post(t, api, map[string]any{"query": aliased(3), "variables": map[string]any{"c": conv}}, bearer(alice)); len(r.Errors) > 0 {
		t.Fatalf("3 aliases: %s", r.Body)
	}
}

func TestRateLimitsRefuseWithRetryAfterAndWriteNothing(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) {
		c.Limits.Send = ratelimit.Rule{Rate: 0.01, Burst: 2}
		c.Limits.Auth = ratelimit.Rule{Rate: 0.01, Burst: 3}
		c.ClientIPHeader = "X-Real-IP"
	}})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	conv := startDirect(t, alice, bob)
	sendMsg(t, alice, conv, "1", "one")
	sendMsg(t, alice, conv, "2", "two")
	r := post(t, api, sendBody(conv, "3"), bearer(alice))
	retry, _ := r.Errors[0].Extensions["retryAfter"].(float64)
	if r.Status != http.StatusTooManyRequests || r.Code() != "RATE_LIMITED" || retry < 1 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("third send: %d %s (Retry-After %q)", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	if n := lastSeq(t, alice, conv); n != 2 {
		t.Fatalf("a rate-limited send was written: lastSeq = %d", n)
	}
	// Another user has their own bucket.
	sendMsg(t, bob, conv, "b1", "bob's")

	// signUp per IP: the fourth from one address is refused and creates no
	// account (the name is still free from another address).
	signUp := func(ip, name string) rawResponse {
		return post(t, api, map[string]any{"query": `mutation($i: SignUpInput!) { signUp(input: $i) { token } }`,
			"variables": map[string]any{"i": map[string]any{"username": name, "password": "password-123", "displayName": "x"}}},
			map[string]string{"X-Real-IP": ip})
	}
	// alice and bob used two tokens of 127.0.0.1's bucket; use fresh IPs.
	for i := 0; i < 3; i++ {
		if r := signUp("10.0.0.1", fmt.Sprintf("ip1user%d", i)); len(r.Errors) > 0 {
			t.Fatalf("signUp %d: %s", i, r.Body)
		}
	}
	if r := signUp("10.0.0.1", "limitedname"); r.Code() != "RATE_LIMITED" {
		t.Fatalf("fourth signUp from one IP: %s", r.Body)
	}
	if r := signUp("10.0.0.2", "limitedname"); len(r.Errors) > 0 {
		t.Fatalf("the refused signUp created the account: %s", r.Body)
	}
}

func TestProductionHidesTheSchema(t *testing.T) {
	dev := startProd(t, prodOptions{})
	prod := startProd(t, prodOptions{config: func(c *server.Config) { c.Production = true }})
	intro := map[string]any{"query": `{ __schema { queryType { name } } }`}
	if r := post(t, dev, intro, nil); len(r.Errors) > 0 {
		t.Fatalf("development introspection: %s", r.Body)
	}
	if r := post(t, prod, intro, nil); r.Code() != "INTROSPECTION_DISABLED" {
		t.Fatalf("production answered introspection: %s", r.Body)
	}
	typo := map[string]any{"query": `{ mee { id } }`}
	if r := post(t, dev, typo, nil); !strings.Contains(string(r.Body), "Did you mean") {
		t.Fatalf("development without suggestions: %s", r.Body)
	}
	if r := post(t, prod, typo, nil); strings.Contains(string(r.Body), "Did you mean") {
		t.Fatalf("production with suggestions: %s", r.Body)
	}
}

func TestRequestIDsAndMetrics(t *testing.T) {
	api := startProd(t, prodOptions{})
	r := post(t, api, map[string]any{"query": `{ me { id } }`}, map[string]string{"X-Request-Id": "req-123"})
	if r.Header.Get("X-Request-Id") != "req-123" || r.Errors[0].Extensions["requestId"] != "req-123" {
		t.Fatalf("request id: header %q, errors %s", r.Header.Get("X-Request-Id"), r.Body)
	}
	if r := post(t, api, map[string]any{"query": `{ me { id } }`}, nil); r.Header.Get("X-Request-Id") == "" {
		t.Fatal("no request id generated")
	}
	bob := apitest.SignUp(t, api.URL, "bob")
	acked(t, api.URL, bob.Token)
	m := do(t, http.MethodGet, api.URL+"/metrics", nil, nil)
	for _, want := range []string{
		`messenger_graphql_requests_total{code="UNAUTHENTICATED",field="me",type="query"} 2`,
		`messenger_graphql_requests_total{code="OK",field="signUp",type="mutation"} 1`,
		`messenger_websocket_connections 1`,
		`messenger_graphql_request_duration_seconds_bucket`,
	} {
		if !strings.Contains(string(m.Body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(string(m.Body))
	}
}
