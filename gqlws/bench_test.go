package gqlws

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

// BenchmarkResults: one subscription per socket on -sockets sockets (1
// and 100), results of a typical event's size sent to them in turn; a
// client per socket reads them. One op is one result delivered.
func BenchmarkResults(b *testing.B) {
	for _, sockets := range []int{1, 100} {
		b.Run(map[int]string{1: "1socket", 100: "100sockets"}[sockets], func(b *testing.B) {
			benchResults(b, sockets)
		})
	}
}

func benchResults(b *testing.B, sockets int) {
	tr := New(Config{})
	execs := make([]*executor, sockets)
	var next sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.Lock()
		e := newExecutor(true, 16, nil)
		e.tr = tr
		execs[n] = e
		n++
		next.Unlock()
		tr.Do(w, r, e)
	}))
	defer srv.Close()
	defer tr.Shutdown()
	d := websocket.Dialer{Subprotocols: []string{Subprotocol}}
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	data := json.RawMessage(`{"events":{"__typename":"MessageAdded","cursor":"ZWU3ZjJmMGE4ZjlkLjEyMzQ1","message":{"id":"TWVzc2FnZTowMTkzYjdlMi1hYmNkLTc4OTAtYWJjZC0wMTIzNDU2Nzg5YWI=","seq":12345,"body":"` + strings.Repeat("x", 80) + `"}}}`)
	var wg sync.WaitGroup
	per := make([]int, sockets)
	for i := range per {
		per[i] = b.N / sockets
		if i < b.N%sockets {
			per[i]++
		}
	}
	for i := 0; i < sockets; i++ {
		c, _, err := d.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"connection_init"}`))
		if _, m, err := c.ReadMessage(); err != nil || !strings.Contains(string(m), "connection_ack") {
			b.Fatalf("no ack: %s %v", m, err)
		}
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"id":"1","type":"subscribe","payload":{"query":"subscription { events { __typename } }"}}`))
		wg.Add(1)
		go func(c *websocket.Conn, want int) {
			defer wg.Done()
			for got := 0; got < want; {
				if _, m, err := c.ReadMessage(); err != nil {
					b.Error(err)
					return
				} else if strings.Contains(string(m), `"next"`) {
					got++
				}
			}
		}(c, per[i])
	}
	next.Lock()
	targets := append([]*executor(nil), execs...)
	next.Unlock()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		targets[i%sockets].send(data)
	}
	wg.Wait()
}

// BenchmarkDeflateSizes: compressing one result on its own (no context
// takeover), for results of one to 50 messages of history; the ratio is
// compressed size over size. It decides compressMin.
func BenchmarkDeflateSizes(b *testing.B) {
	bodies := []string{"on my way", "Are we still on for lunch tomorrow? I can bring the notes from Monday's meeting.", "ok",
		"Just pushed the fix for the login bug, can someone review it before the release tonight?", "Thanks! That works for me.", "lol"}
	for _, n := range []int{1, 2, 4, 8, 20, 50} {
		var items []string
		for i := 0; i < n; i++ {
			items = append(items, fmt.Sprintf(`{"node":{"id":"TWVzc2FnZTowMTkzYjdlMi1hYmNkLTc4OTAtYWJj%04d","seq":%d,"body":%q,"sentAt":"2026-12-04T17:00:%02d.123456Z","sender":{"id":"VXNlcjowMTkzYjdlMi1hYmNkLTc4OTAtYWJjZC0wMTIz%04d","displayName":"Member %d"}},"cursor":"ZWU3ZjJm%06d"}`,
				i, 1000+i, bodies[i%len(bodies)], i%60, i%7, i%7, i))
		}
		result := []byte(`{"id":"1","type":"next","payload":{"data":{"messages":{"edges":[` + strings.Join(items, ",") + `],"pageInfo":{"hasPreviousPage":true}}}}}`)
		b.Run(fmt.Sprint(len(result), "B"), func(b *testing.B) {
			var out []byte
			b.SetBytes(int64(len(result)))
			for i := 0; i < b.N; i++ {
				out = appendDeflate(out[:0], result)
			}
			b.ReportMetric(float64(len(out))/float64(len(result)), "ratio")
		})
	}
}
