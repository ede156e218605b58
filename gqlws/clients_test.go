package gqlws

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"
)

// Real client libraries with compression on: gorilla/websocket (offers
// both no_context_takeover parameters) and coder/websocket in its
// context-takeover mode (offers plain permessage-deflate, so it must obey
// the client_no_context_takeover the server answers with: if it kept its
// window, its second message would not inflate here and the socket would
// close with 1007).

// counted counts the bytes a client reads and writes on the wire.
type counted struct {
	net.Conn
	in, out *atomic.Int64
}

func (c counted) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	return n, err
}

func (c counted) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

// wire counts a client's traffic.
type wire struct{ in, out atomic.Int64 }

func (w *wire) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return counted{nc, &w.in, &w.out}, nil
}

// bigPing is a ping whose payload (echoed in the pong) is 12 KB of JSON
// that compresses well, as a page of messages does.
func bigPing(n int) []byte {
	var items []string
	for i := 0; i < 120; i++ {
		items = append(items, `{"id":"TWVzc2FnZTo`+strings.Repeat("x", i%7)+`","body":"see you at the meeting","seq":`+strconv.Itoa(i)+`}`)
	}
	return []byte(`{"type":"ping","payload":{"n":` + strconv.Itoa(n) + `,"page":[` + strings.Join(items, ",") + `]}}`)
}

func checkPong(t *testing.T, ping, pong []byte) {
	t.Helper()
	var in, out struct{ Payload json.RawMessage }
	_ = json.Unmarshal(ping, &in)
	if err := json.Unmarshal(pong, &out); err != nil || !strings.Contains(string(pong), `"type":"pong"`) || string(out.Payload) != string(in.Payload) {
		t.Fatalf("the pong does not echo the ping: %.80s (%v)", pong, err)
	}
}

func TestGorillaWithCompressionSendsAndReceivesCompressed(t *testing.T) {
	for _, off := range []bool{false, true} {
		t.Run(map[bool]string{false: "on", true: "off"}[off], func(t *testing.T) {
			addr, _ := start(t, true, Config{DisableCompression: off}, newExecutor(false, 0, nil))
			var w wire
			d := websocket.Dialer{Subprotocols: []string{Subprotocol}, EnableCompression: true, NetDialContext: w.dial}
			c, resp, err := d.Dial("ws://"+addr+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := resp.Header.Get("Sec-WebSocket-Extensions") != ""; got == off {
				t.Fatalf("compression negotiated: %v", got)
			}
			w.in.Store(0)
			w.out.Store(0)
			const n = 3
			for i := 0; i < n; i++ {
				ping := bigPing(i)
				if err := c.WriteMessage(websocket.TextMessage, ping); err != nil {
					t.Fatal(err)
				}
				_, pong, err := c.ReadMessage()
				if err != nil {
					t.Fatal(err)
				}
				checkPong(t, ping, pong)
			}
			plain := int64(n * len(bigPing(0)))
			sent, received := w.out.Load(), w.in.Load()
			if !off && (sent > plain/3 || received > plain/3) {
				t.Fatalf("compressed: %d bytes sent and %d received on the wire for %d bytes each way", sent, received, plain)
			}
			if off && received < plain {
				t.Fatalf("uncompressed: %d bytes received for %d", received, plain)
			}
		})
	}
}

func TestCoderWebsocketKeepsToNoContextTakeover(t *testing.T) {
	addr, _ := start(t, true, Config{}, newExecutor(false, 0, nil))
	var w wire
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := coder.Dial(ctx, "ws://"+addr+"/", &coder.DialOptions{
		Subprotocols:    []string{Subprotocol},
		CompressionMode: coder.CompressionContextTakeover,
		HTTPClient:      &http.Client{Transport: &http.Transport{DialContext: w.dial}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "client_no_context_takeover") {
		t.Fatalf("answered %q", ext)
	}
	w.out.Store(0)
	const n = 4
	for i := 0; i < n; i++ {
		ping := bigPing(i % 2) // repeats: a client keeping its window would refer back
		if err := c.Write(ctx, coder.MessageText, ping); err != nil {
			t.Fatal(err)
		}
		_, pong, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		checkPong(t, ping, pong)
	}
	if sent, plain := w.out.Load(), int64(n*len(bigPing(0))); sent > plain/3 {
		t.Fatalf("%d bytes sent for %d: the client did not compress", sent, plain)
	}
}
