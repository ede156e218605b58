package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// api posts GraphQL operations over keep-alive HTTP connections.
type api struct {
	url  string // base URL, e.g. http://127.0.0.1:8080
	http *http.Client
}

func newAPI(base string, conns int, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *api {
	tr := &http.Transport{
		DialContext:         dial,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
	}
	return &api{url: strings.TrimRight(base, "/"), http: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// gqlError is a failed operation: its code is the first GraphQL error's
// extensions.code, or "HTTP_<status>" / "TRANSPORT" when there was none.
type gqlError struct {
	Code, Message string
}

func (e *gqlError) Error() string { return e.Code + ": " + e.Message }

// do runs one operation as token ("" for anonymous) and decodes data into
// out (when non-nil).
func (a *api) do(ctx context.Context, token, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json, application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return &gqlError{Code: "TRANSPORT", Message: err.Error()}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return &gqlError{Code: "TRANSPORT", Message: err.Error()}
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return &gqlError{Code: fmt.Sprintf("HTTP_%d", resp.StatusCode), Message: truncate(string(raw), 200)}
	}
	if len(r.Errors) > 0 {
		code, _ := r.Errors[0].Extensions["code"].(string)
		if code == "" {
			code = fmt.Sprintf("HTTP_%d", resp.StatusCode)
		}
		return &gqlError{Code: code, Message: r.Errors[0].Message}
	}
	if out != nil {
		return json.Unmarshal(r.Data, out)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// errorCounts counts failures by code.
type errorCounts struct {
	mu sync.Mutex
	m  map[string]int64
	// first keeps one example message per code for the report.
	first map[string]string
}

func (e *errorCounts) add(err error) {
	if err == nil {
		return
	}
	code, msg := "OTHER", err.Error()
	if ge, ok := err.(*gqlError); ok {
		code, msg = ge.Code, ge.Message
	} else if ce, ok := err.(codedError); ok {
		code = ce.code
	}
	e.addCode(code, msg)
}

func (e *errorCounts) addCode(code, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m, e.first = map[string]int64{}, map[string]string{}
	}
	e.m[code]++
	if _, ok := e.first[code]; !ok {
		e.first[code] = truncate(msg, 200)
	}
}

func (e *errorCounts) snapshot() (map[string]int64, map[string]string, int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out, ex := map[string]int64{}, map[string]string{}
	var n int64
	for k, v := range e.m {
		out[k] = v
		n += v
	}
	for k, v := range e.first {
		ex[k] = v
	}
	return out, ex, n
}

func (e *errorCounts) String() string {
	m, _, n := e.snapshot()
	if n == 0 {
		return "0"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%d", k, m[k])
	}
	return fmt.Sprintf("%d(%s)", n, strings.Join(parts, ","))
}

// codedError is a client-side failure with a code for the error table
// (WS_DIAL, WS_CLOSE_4403, TIMEOUT, ...).
type codedError struct{ code, msg string }

func (e codedError) Error() string { return e.code + ": " + e.msg }
