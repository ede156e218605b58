package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestProductionServesMetricsOnlyOnTheDebugListener: in production
// /metrics is off the public listener and on the private one.
func TestProductionServesMetricsOnlyOnTheDebugListener(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	debug := freeAddr(t)
	url, _ := startBinary(t, bin, t.TempDir(), append(embedded, "MESSENGER_ENV=production", "MESSENGER_PLAYGROUND=true",
		"MESSENGER_DEBUG_ADDR="+debug, "MESSENGER_METRICS_PUBLIC=", "MESSENGER_PUBLIC_URL=https://api.example.com")...)
	if status, _ := get(t, url+"/graphql?query=%7B__typename%7D"); status != http.StatusOK {
		t.Fatalf("a query: %d", status)
	}
	if status, _ := get(t, url+"/metrics"); status != http.StatusNotFound {
		t.Fatalf("public /metrics in production: %d, want 404", status)
	}
	if status, body := get(t, "http://"+debug+"/metrics"); status != http.StatusOK || !strings.Contains(body, "messenger_graphql_requests_total") {
		t.Fatalf("debug /metrics: %d %.200s", status, body)
	}
	if status, _ := get(t, "http://"+debug+"/debug/pprof/"); status != http.StatusOK {
		t.Fatalf("debug pprof: %d", status)
	}
}
