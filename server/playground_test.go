package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The playground is one handler behind both of its patterns and reads its
// assets per request (issue #24): both paths still serve the page.
func TestPlaygroundIsServedAtBothPaths(t *testing.T) {
	url := newAPI(t, apiOptions{})
	for _, p := range []string{"/playground", "/playground/"} {
		res, err := http.Get(url + p)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(string(body)), "<html") {
			t.Fatalf("GET %s: %d, %v, %.80q; want the playground page", p, res.StatusCode, err, body)
		}
	}
}
