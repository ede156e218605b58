package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"messenger/apitest"
)

// BenchmarkSendMessage measures sendMessage through the real HTTP handler
// (JSON decode, auth, validation, durable write with fsync off, fan-out to
// both members' logs), with parallel clients.
func BenchmarkSendMessage(b *testing.B) {
	url := newAPI(&testing.T{}, apiOptions{})
	alice, bob := apitest.SignUp(b, url, "alice"), apitest.SignUp(b, url, "bob")
	var conv struct{ CreateDirectConversation struct{ ID string } }
	alice.Must(b, direct, map[string]any{"u": bob.UserID}, &conv)
	var n atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body, _ := json.Marshal(map[string]any{"query": send, "variables": map[string]any{
				"c": conv.CreateDirectConversation.ID, "k": fmt.Sprint(n.Add(1)), "b": "benchmark message"}})
			req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+alice.Token)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var r apitest.Response
			_ = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if len(r.Errors) > 0 {
				b.Fatal(r.Errors)
			}
		}
	})
}

// BenchmarkSendToReceive measures the time from posting sendMessage to the
// MessageAdded event arriving on the recipient's websocket, one at a time.
func BenchmarkSendToReceive(b *testing.B) {
	url := newAPI(&testing.T{}, apiOptions{})
	alice, bob := apitest.SignUp(b, url, "alice"), apitest.SignUp(b, url, "bob")
	var conv struct{ CreateDirectConversation struct{ ID string } }
	alice.Must(b, direct, map[string]any{"u": bob.UserID}, &conv)
	events := bob.Subscribe(context.Background(), b, "")
	time.Sleep(50 * time.Millisecond) // let the subscription start
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		alice.Must(b, send, map[string]any{"c": conv.CreateDirectConversation.ID, "k": fmt.Sprint(i), "b": "ping"}, nil)
		events.NextOfType(b, "MessageAdded")
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
