package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"messenger/server"
)

// refusal is one request the API refuses, and what it answers.
type refusal struct {
	name   string
	method string
	path   string // after /graphql
	body   []byte
	header map[string]string
	status int
	code   string
	// chunked streams the body with no Content-Length, so its size is
	// found while reading.
	chunked bool
}

func refusals(t *testing.T) []refusal {
	big := bytes.Repeat([]byte("x"), 1<<20+1)
	deep := `mutation { sendMessage(input: {conversationId: "c", clientMessageId: "d", body: "x"}) { conversation { lastMessage { conversation { lastMessage { id } } } } } }`
	return []refusal{
		{name: "body over 1 MiB announced", method: http.MethodPost, body: big, header: map[string]string{"Content-Type": "application/json"},
			status: http.StatusRequestEntityTooLarge, code: "BAD_REQUEST"},
		{name: "body over 1 MiB streamed", method: http.MethodPost, body: big, chunked: true, header: map[string]string{"Content-Type": "application/json"},
			status: http.StatusRequestEntityTooLarge, code: "BAD_REQUEST"},
		{name: "unsupported media type", method: http.MethodPost, body: []byte(`{"query":"{ __typename }"}`), header: map[string]string{"Content-Type": "text/plain"},
			status: http.StatusUnsupportedMediaType, code: "BAD_REQUEST"},
		{name: "not acceptable", method: http.MethodPost, body: []byte(`{"query":"{ __typename }"}`), header: map[string]string{"Content-Type": "application/json", "Accept": "text/html"},
			status: http.StatusNotAcceptable, code: "BAD_REQUEST"},
		{name: "method not allowed", method: http.MethodPut, body: []byte(`{"query":"{ __typename }"}`), header: map[string]string{"Content-Type": "application/json"},
			status: http.StatusMethodNotAllowed, code: "METHOD_NOT_ALLOWED"},
		{name: "mutation over GET", method: http.MethodGet, path: "?query=" + strings.ReplaceAll(`mutation{logIn(input:{username:"a",password:"b"}){token}}`, " ", "%20"),
			status: http.StatusMethodNotAllowed, code: "METHOD_NOT_ALLOWED"},
		{name: "body not JSON", method: http.MethodPost, body: []byte(`{"query":`), header: map[string]string{"Content-Type": "application/json"},
			status: http.StatusBadRequest, code: "BAD_REQUEST"},
		{name: "unknown API key", method: http.MethodPost, body: []byte(`{"query":"{ __typename }"}`), header: map[string]string{"Content-Type": "application/json", "X-Api-Key": "no-such-key-at-all"},
			status: http.StatusUnauthorized, code: "UNAUTHENTICATED"},
		{name: "persisted query not found", method: http.MethodPost, header: map[string]string{"Content-Type": "application/json"},
			body:   []byte(`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("ab", 32) + `"}}}`),
			status: http.StatusOK, code: "PERSISTED_QUERY_NOT_FOUND"},
		{name: "query too deep", method: http.MethodPost, header: map[string]string{"Content-Type": "application/json"},
			body: jsonBody(t, map[string]any{"query": deep}), status: http.StatusOK, code: "QUERY_TOO_DEEP"},
		{name: "parse error", method: http.MethodPost, header: map[string]string{"Content-Type": "application/json"},
			body: []byte(`{"query":"{ me { "}`), status: http.StatusOK, code: "GRAPHQL_PARSE_FAILED"},
	}
}

func (r refusal) send(t *testing.T, baseURL, requestID string) (status int, header http.Header, body []byte) {
	t.Helper()
	var rd io.Reader = bytes.NewReader(r.body)
	if r.chunked {
		rd = io.MultiReader(bytes.NewReader(r.body)) // hides the length
	}
	if r.body == nil {
		rd = nil
	}
	req, err := http.NewRequest(r.method, baseURL+"/graphql"+r.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if requestID != "" {
		req.Header.Set("X-Request-Id", requestID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// Every refusal, also those made before GraphQL runs, carries the request's
// id in the X-Request-Id header and in each error's extensions.requestId,
// so an operator can find a client's failed request in the logs.
func TestEveryRefusalCarriesTheRequestID(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) {
		c.Limits.MaxDepth = 5
	}})
	for _, r := range refusals(t) {
		t.Run(r.name, func(t *testing.T) {
			for _, sent := range []string{"", "client-chosen-id.42"} {
				status, header, body := r.send(t, api.URL, sent)
				var out struct {
					Errors []struct {
						Extensions map[string]any `json:"extensions"`
					} `json:"errors"`
				}
				if err := json.Unmarshal(body, &out); err != nil || len(out.Errors) == 0 {
					t.Fatalf("status %d, body %s: not a GraphQL error", status, body)
				}
				ext := out.Errors[0].Extensions
				if status != r.status || ext["code"] != r.code {
					t.Fatalf("got %d %v, want %d %s (%s)", status, ext["code"], r.status, r.code, body)
				}
				id := header.Get("X-Request-Id")
				if id == "" || (sent != "" && id != sent) {
					t.Fatalf("X-Request-Id %q, sent %q", id, sent)
				}
				if ext["requestId"] != id {
					t.Fatalf("extensions.requestId = %v, X-Request-Id = %s: %s", ext["requestId"], id, body)
				}
			}
		})
	}
}
