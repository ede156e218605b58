package gqlws

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFragmentsAroundAPingAreReassembledAndThePingAnswered(t *testing.T) {
	both(t, func(t *testing.T, poll bool) {
		addr, _ := start(t, poll, Config{}, newExecutor(false, 0, nil))
		c := dial(t, addr, nil)
		msg := []byte(initMsg)
		var stream []byte
		stream = append(stream, clientFrame(false, opText, msg[:5], false)...)
		stream = append(stream, clientFrame(true, opPing, []byte("are you there"), false)...)
		stream = append(stream, clientFrame(false, opContinuation, msg[5:12], false)...)
		stream = append(stream, clientFrame(true, opContinuation, msg[12:], false)...)
		// One byte per write: the server sees frames cut anywhere.
		for i := range stream {
			c.write(stream[i : i+1])
		}
		if op, p := c.read(); op != opPong || string(p) != "are you there" {
			t.Fatalf("want a pong echoing the ping, got op %d %q", op, p)
		}
		if m := c.next(); m.Type != "connection_ack" {
			t.Fatalf("want connection_ack, got %+v", m)
		}
	})
}

func TestBytesSentWithTheHandshakeAreRead(t *testing.T) {
	both(t, func(t *testing.T, poll bool) {
		addr, _ := start(t, poll, Config{}, newExecutor(false, 0, nil))
		c := dial(t, addr, append(text(initMsg), text(`{"type":"ping"}`)...))
		if m := c.next(); m.Type != "connection_ack" {
			t.Fatalf("want connection_ack, got %+v", m)
		}
		if m := c.next(); m.Type != "pong" {
			t.Fatalf("want pong, got %+v", m)
		}
	})
}

func TestFramingViolationsCloseTheConnection(t *testing.T) {
	for name, tc := range map[string]struct {
		frame []byte
		code  int
	}{
		"unmasked":              {clientFrame(true, opText, []byte(initMsg), true), closeProtocolError},
		"reserved bit":          {append([]byte{0x80 | 0x40 | opText}, clientFrame(true, opText, []byte(initMsg), false)[1:]...), closeProtocolError},
		"unknown opcode":        {clientFrame(true, 0x3, []byte("x"), false), closeProtocolError},
		"RSV2":                  {append([]byte{0x80 | 0x20 | opText}, clientFrame(true, opText, []byte(initMsg), false)[1:]...), closeProtocolError},
		"fragmented control":    {clientFrame(false, opPing, []byte("x"), false), closeProtocolError},
		"continuation alone":    {clientFrame(true, opContinuation, []byte("x"), false), closeProtocolError},
		"longer than the limit": {clientFrame(true, opText, []byte(`{"type":"ping","payload":"`+strings.Repeat("x", 2000)+`"}`), false), closeTooBig},
	} {
		t.Run(name, func(t *testing.T) {
			both(t, func(t *testing.T, poll bool) {
				addr, tr := start(t, poll, Config{MaxMessageBytes: 1024}, newExecutor(false, 0, nil))
				c := dial(t, addr, nil)
				c.write(tc.frame)
				if code, _ := c.closed(); code != tc.code {
					t.Fatalf("closed with %d, want %d", code, tc.code)
				}
				if _, err := c.br.ReadByte(); err == nil {
					t.Fatal("the connection stayed open")
				}
				if n := tr.Stats().Closes[tc.code]; n != 1 {
					t.Fatalf("closes counted for %d: %d", tc.code, n)
				}
			})
		})
	}
}

func TestThePeersCloseIsAnsweredWithItsCode(t *testing.T) {
	both(t, func(t *testing.T, poll bool) {
		addr, tr := start(t, poll, Config{}, newExecutor(false, 0, nil))
		c := dial(t, addr, text(initMsg))
		c.next()
		c.write(clientFrame(true, opClose, []byte{0x03, 0xe8, 'b', 'y', 'e'}, false))
		if code, _ := c.closed(); code != closeNormal {
			t.Fatalf("answered with %d, want 1000", code)
		}
		if _, err := c.br.ReadByte(); err == nil {
			t.Fatal("the connection stayed open")
		}
		for deadline := time.Now().Add(5 * time.Second); tr.Stats().Connections != 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if n := tr.Stats().Connections; n != 0 {
			t.Fatalf("%d connections still counted", n)
		}
	})
}

func TestSubscriptionResultsArriveInOrderThenComplete(t *testing.T) {
	streams(t, func(t *testing.T, poll, push bool) {
		exec := newExecutor(push, 0, nil)
		if push {
			exec = newExecutor(push, 16, nil)
		}
		addr, _ := start(t, poll, Config{}, exec)
		c := dial(t, addr, text(initMsg))
		c.next()
		c.write(text(`{"id":"s","type":"subscribe","payload":{"query":"subscription { x }"}}`))
		const n = 500
		go func() {
			for i := 0; i < n; i++ {
				exec.send(json.RawMessage(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("y", i))))
			}
			exec.end()
		}()
		for i := 0; i < n; i++ {
			m := c.next()
			var p struct {
				Data struct{ N int } `json:"data"`
			}
			if err := json.Unmarshal(m.Payload, &p); err != nil || m.Type != "next" || m.ID != "s" || p.Data.N != i {
				t.Fatalf("result %d: got %+v (%v)", i, m, err)
			}
		}
		if m := c.next(); m.Type != "complete" || m.ID != "s" {
			t.Fatalf("want complete, got %+v", m)
		}
		if push && exec.taken.Load() != n {
			t.Fatalf("the transport reported %d results taken, want %d", exec.taken.Load(), n)
		}
	})
}

func TestAFailedStreamGetsWhatOnStreamEndSays(t *testing.T) {
	both(t, func(t *testing.T, poll bool) {
		exec := newExecutor(true, 1, errors.New("lost"))
		cfg := Config{OnStreamEnd: func(err error) StreamEnd {
			return StreamEnd{CloseCode: CloseTryAgainLater, Reason: "try again: " + err.Error()}
		}}
		addr, _ := start(t, poll, cfg, exec)
		c := dial(t, addr, text(initMsg))
		c.next()
		c.write(text(`{"id":"s","type":"subscribe","payload":{"query":"subscription { x }"}}`))
		exec.send(json.RawMessage(`{"n":1}`))
		if m := c.next(); m.Type != "next" {
			t.Fatalf("want next, got %+v", m)
		}
		exec.end()
		if code, reason := c.closed(); code != CloseTryAgainLater || reason != "try again: lost" {
			t.Fatalf("closed with %d %q", code, reason)
		}
	})
}

func TestHandshakesThatAreNotWebsocketsAreRefused(t *testing.T) {
	addr, _ := start(t, true, Config{}, newExecutor(false, 0, nil))
	for name, tc := range map[string]struct {
		req  string
		want int
	}{
		"POST":        {strings.Replace(handshake, "GET", "POST", 1), http.StatusMethodNotAllowed},
		"version 8":   {strings.Replace(handshake, "Version: 13", "Version: 8", 1), http.StatusBadRequest},
		"no key":      {strings.Replace(handshake, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "", 1), http.StatusBadRequest},
		"no upgrade":  {strings.Replace(handshake, "Connection: Upgrade", "Connection: keep-alive", 1), http.StatusBadRequest},
		"foreign key": {strings.Replace(handshake, "dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=", 1), http.StatusBadRequest},
	} {
		t.Run(name, func(t *testing.T) {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			_, _ = nc.Write([]byte(tc.req))
			resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestParseFrameWaitsForTheWholeFrame(t *testing.T) {
	f := clientFrame(true, opText, []byte(strings.Repeat("z", 300)), false)
	for i := 0; i < len(f); i++ {
		if _, n, need, code := parseFrame(append([]byte(nil), f[:i]...), 1<<20); n != 0 || code != 0 || need <= i {
			t.Fatalf("%d of %d bytes: n %d need %d code %d", i, len(f), n, need, code)
		}
	}
	got, n, _, code := parseFrame(f, 1<<20)
	if n != len(f) || code != 0 || string(got.payload) != strings.Repeat("z", 300) || !got.fin || got.op != opText {
		t.Fatalf("n %d code %d frame %+v", n, code, got)
	}
}

func TestClosedSocketsLeaveNothingWithThePoller(t *testing.T) {
	p := processPoller()
	if p == nil {
		t.Skip("no poller on this platform")
	}
	addr, tr := start(t, true, Config{}, newExecutor(false, 0, nil))
	var clients []*client
	for i := 0; i < 20; i++ {
		c := dial(t, addr, text(initMsg))
		c.next()
		clients = append(clients, c)
	}
	for _, c := range clients {
		c.nc.Close()
	}
	for deadline := time.Now().Add(5 * time.Second); tr.Stats().Connections != 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := tr.Stats().Connections; n != 0 {
		t.Fatalf("%d connections still counted", n)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		if c.t == tr {
			t.Fatalf("connection %d is still registered", c.id)
		}
	}
}
