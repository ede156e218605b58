package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"

	"messenger/server"
)

// TestReadyzListsWhatIsDegradedAndStaysReady: a part that works in a
// reduced way (a search index being rebuilt) is listed in /readyz's body,
// which stays 200 so load balancers keep sending traffic; a dependency
// that is down still makes it 503.
func TestReadyzListsWhatIsDegradedAndStaysReady(t *testing.T) {
	var mu sync.Mutex
	var degraded []string
	var down error
	_, url := newEmbedded(t, apiOptions{}).serve(t, server.Config{
		Ready: func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			return down
		},
		Degraded: func() []string {
			mu.Lock()
			defer mu.Unlock()
			return degraded
		},
	})
	readyz := func() (int, string) {
		t.Helper()
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := readyz(); code != http.StatusOK || body != "ready\n" {
		t.Fatalf("healthy: %d %q", code, body)
	}
	mu.Lock()
	degraded = []string{"search: rebuilding the index"}
	mu.Unlock()
	if code, body := readyz(); code != http.StatusOK || body != "ready\nsearch: rebuilding the index\n" {
		t.Fatalf("degraded: %d %q", code, body)
	}
	mu.Lock()
	down = errors.New("redis: connection refused")
	mu.Unlock()
	if code, body := readyz(); code != http.StatusServiceUnavailable || body != "not ready: redis: connection refused\n" {
		t.Fatalf("dependency down: %d %q", code, body)
	}
}
