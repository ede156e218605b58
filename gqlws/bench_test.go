package gqlws

import (
	"encoding/json"
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
