// Package apitest is a small GraphQL client for tests that drive the API
// from outside, over real HTTP and real websockets speaking
// graphql-transport-ws. It is used by the end-to-end suites of every backend.
package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// Client talks to one API base URL as one user (or anonymously).
type Client struct {
	// URL is the API's base URL, e.g. http://127.0.0.1:8080.
	URL string
	// Token is sent as a bearer token when set.
	Token string
	// UserID is the signed-in user's global id.
	UserID string
	// Username is the signed-in user's name.
	Username string
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the error's extensions.code.
func (e Error) Code() string {
	c, _ := e.Extensions["code"].(string)
	return c
}

// Response is a GraphQL response.
type Response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Code returns the first error's code, or "".
func (r Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Code()
}

// Do posts one operation and returns the response; transport failures fail t.
func (c *Client) Do(t testing.TB, query string, vars map[string]any) Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	var r Response
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("decoding response (status %d): %v", resp.StatusCode, err)
	}
	r.Status = resp.StatusCode
	return r
}

// Must runs an operation that must succeed and decodes its data into out.
func (c *Client) Must(t testing.TB, query string, vars map[string]any, out any) {
	t.Helper()
	r := c.Do(t, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("operation failed: %+v\n%s", r.Errors, query)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatalf("decoding data %s: %v", r.Data, err)
		}
	}
}

// Refused runs an operation that must fail with code, and returns the error.
func (c *Client) Refused(t testing.TB, code, query string, vars map[string]any) Error {
	t.Helper()
	r := c.Do(t, query, vars)
	if len(r.Errors) == 0 {
		t.Fatalf("expected %s, got data %s", code, r.Data)
	}
	if r.Code() != code {
		t.Fatalf("expected %s, got %+v", code, r.Errors)
	}
	return r.Errors[0]
}

var seq atomic.Int64

// SignUp creates a fresh user with a unique name and returns its client.
func SignUp(t testing.TB, baseURL, prefix string) *Client {
	t.Helper()
	name := fmt.Sprintf("%s%d_%d", prefix, seq.Add(1), rnd())
	c := &Client{URL: baseURL}
	var out struct {
		SignUp struct {
			Token string
			User  struct{ ID, Username string }
		}
	}
	c.Must(t, `mutation($i: SignUpInput!) { signUp(input: $i) { token user { id username } } }`,
		map[string]any{"i": map[string]any{"username": name, "password": "password-" + name, "displayName": strings.ToUpper(name[:1]) + name[1:]}}, &out)
	c.Token, c.UserID, c.Username = out.SignUp.Token, out.SignUp.User.ID, out.SignUp.User.Username
	return c
}
