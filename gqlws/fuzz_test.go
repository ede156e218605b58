package gqlws

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz tests of everything that reads a client's bytes: frames, the
// messages they assemble into (fragments, permessage-deflate, UTF-8), the
// opening handshake with its extension offers, and graphql-transport-ws
// messages. `go test` runs their seeds; `go test -fuzz FuzzX ./gqlws/`
// explores. Crashers found so far are seeds below (and regular tests).

func FuzzParseFrame(f *testing.F) {
	f.Add(clientFrame(true, opText, []byte(initMsg), false), int64(1024))
	f.Add(clientFrame(false, opContinuation, bytes.Repeat([]byte("z"), 300), false), int64(1<<20))
	f.Add(clientFrame(true, opPing, []byte("x"), false), int64(0))
	f.Add(compressed(true, opText, clientDeflate([]byte(initMsg))), int64(64))
	f.Add([]byte{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1}, int64(1<<62))
	f.Add([]byte{0x81, 0xfe}, int64(10))
	f.Fuzz(func(t *testing.T, b []byte, limit int64) {
		orig := bytes.Clone(b)
		fr, n, need, code := parseFrame(b, limit)
		switch {
		case code != 0:
			if n != 0 || code != closeProtocolError && code != closeTooBig {
				t.Fatalf("code %d with n %d", code, n)
			}
		case n == 0:
			if need <= len(b) {
				t.Fatalf("incomplete, but needs %d of the %d bytes it has", need, len(b))
			}
		default:
			if n > len(b) || int64(len(fr.payload)) > max(limit, 0) || n != need {
				t.Fatalf("n %d need %d payload %d of %d bytes, limit %d", n, need, len(fr.payload), len(b), limit)
			}
			if fr.op >= opClose && (!fr.fin || len(fr.payload) > 125) {
				t.Fatal("a long or fragmented control frame was accepted")
			}
			// Unmasking twice gives the bytes back.
			hdr := n - len(fr.payload)
			unmask(b[hdr-4:hdr], fr.payload)
			if !bytes.Equal(b, orig) {
				t.Fatal("unmasking is not its own inverse")
			}
			// Any prefix is incomplete, never an error.
			if _, pn, pneed, pcode := parseFrame(bytes.Clone(orig[:n-1]), limit); pn != 0 || pcode != 0 || pneed <= n-1 {
				t.Fatalf("a prefix of a valid frame: n %d need %d code %d", pn, pneed, pcode)
			}
		}
	})
}

// FuzzAssemble reads a stream of client frames as a socket does and checks
// what comes out: every message within the limit, every text message
// UTF-8.
func FuzzAssemble(f *testing.F) {
	var seeds [][]byte
	seeds = append(seeds, bytes.Join([][]byte{clientFrame(false, opText, []byte(`{"ty`), false), clientFrame(true, opPing, nil, false), clientFrame(true, opContinuation, []byte(`pe":"ping"}`), false)}, nil))
	z := clientDeflate([]byte(`{"type":"ping","payload":"` + strings.Repeat("€", 100) + `"}`))
	seeds = append(seeds, bytes.Join([][]byte{compressed(false, opText, z[:4]), clientFrame(true, opContinuation, z[4:], false)}, nil))
	seeds = append(seeds, compressed(true, opText, clientDeflate(bytes.Repeat([]byte("a"), 5000))))
	seeds = append(seeds, clientFrame(true, opText, []byte("\xe2\x82\x28"), false))
	for _, s := range seeds {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, stream []byte, deflate bool) {
		a := assembler{limit: 1024, deflate: deflate}
		defer a.release()
		for len(stream) > 0 {
			fr, n, _, code := parseFrame(stream, a.frameLimit(stream[0]))
			if code != 0 || n == 0 {
				return
			}
			stream = stream[n:]
			if fr.op >= opClose {
				continue
			}
			op, msg, code := a.data(fr)
			if code != 0 {
				if code != closeProtocolError && code != closeInvalidData && code != closeTooBig {
					t.Fatalf("unexpected close code %d", code)
				}
				return
			}
			if op == 0 {
				continue
			}
			if int64(len(msg)) > a.limit {
				t.Fatalf("a message of %d bytes passed a limit of %d", len(msg), a.limit)
			}
			if op == opText && !utf8.Valid(msg) {
				t.Fatal("a text message that is not UTF-8 passed")
			}
		}
	})
}

func FuzzNegotiateDeflate(f *testing.F) {
	for _, s := range []string{
		chromiumOffer, "permessage-deflate", "permessage-deflate; server_max_window_bits=10",
		`permessage-deflate; server_max_window_bits="12", permessage-deflate`,
		"permessage-deflate; client_max_window_bits=16", "x-webkit-deflate-frame, permessage-deflate;;",
		`permessage-deflate; a="b,c"; client_no_context_takeover`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, offer string) {
		h := http.Header{"Sec-Websocket-Extensions": {offer}}
		p, resp, ok := negotiateDeflate(h)
		if !ok {
			if resp != "" {
				t.Fatalf("declined, but answered %q", resp)
			}
			return
		}
		if p.maxWindow < 1<<8 || p.maxWindow > 1<<15 {
			t.Fatalf("window %d", p.maxWindow)
		}
		if !strings.Contains(resp, "client_no_context_takeover") || !strings.Contains(resp, "server_no_context_takeover") || strings.Contains(resp, "client_max_window_bits") {
			t.Fatalf("answered %q", resp)
		}
		// The answer, read back as an offer, is accepted as it is.
		p2, resp2, ok2 := negotiateDeflate(http.Header{"Sec-Websocket-Extensions": {resp}})
		if !ok2 || p2 != p || resp2 != resp {
			t.Fatalf("the answer %q read back: %v %q %+v", resp, ok2, resp2, p2)
		}
	})
}

// FuzzHandshake runs the opening handshake on whatever request parses.
func FuzzHandshake(f *testing.F) {
	f.Add(handshake)
	f.Add(strings.Replace(handshake, "\r\n\r\n", "\r\nSec-WebSocket-Extensions: "+chromiumOffer+"\r\n\r\n", 1))
	f.Add(strings.Replace(handshake, "Version: 13", "Version: 8, 13", 1))
	f.Add("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://y\r\n\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return
		}
		w := &hijacker{header: http.Header{}}
		nc, _, proto, deflate, err := upgrade(w, r, SameHost, true)
		if err != nil {
			if w.status < 400 || w.status > 599 || w.conn.out.Len() > 0 {
				t.Fatalf("refused with status %d, %d bytes on the connection", w.status, w.conn.out.Len())
			}
			return
		}
		resp, rerr := http.ReadResponse(bufio.NewReader(&w.conn.out), r)
		if nc == nil || rerr != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("accepted, but answered %v %v", resp, rerr)
		}
		if proto != "" && proto != Subprotocol || (resp.Header.Get("Sec-Websocket-Protocol") != "") != (proto != "") {
			t.Fatalf("subprotocol %q, header %q", proto, resp.Header.Get("Sec-Websocket-Protocol"))
		}
		if (resp.Header.Get("Sec-Websocket-Extensions") != "") != (deflate != nil) {
			t.Fatalf("extensions %q with deflate %v", resp.Header.Get("Sec-Websocket-Extensions"), deflate)
		}
	})
}

// hijacker is a ResponseWriter whose connection records what is written.
type hijacker struct {
	header http.Header
	status int
	conn   fakeConn
}

func (h *hijacker) Header() http.Header { return h.header }
func (h *hijacker) WriteHeader(s int)   { h.status = s }
func (h *hijacker) Write(p []byte) (int, error) {
	if h.status == 0 {
		h.status = 200
	}
	return len(p), nil
}
func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return &h.conn, bufio.NewReadWriter(bufio.NewReader(strings.NewReader("")), bufio.NewWriter(&h.conn)), nil
}

type fakeConn struct {
	net.Conn
	out bytes.Buffer
}

func (c *fakeConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *fakeConn) Close() error                     { return nil }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }

func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		initMsg, `{"type":"connection_init","payload":{"Authorization":"Bearer x"}}`, `{"type":"ping","payload":{"a":1}}`,
		`{"type":"ping","payload":null}`, `{"id":"1","type":"subscribe","payload":{"query":"subscription { events { cursor } }","variables":{"after":"x"}}}`,
		`{"id":"1","type":"complete"}`, `{"id":"","type":"subscribe","payload":{}}`, `{"type":"subscribe","payload":"x"}`,
		`{"type":"` + strings.Repeat("é", 40) + `"}`, `[]`, `{"type":"connection_init","payload":[1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, code, reason := decodeMessage(b)
		if code != 0 {
			if code != CloseBadRequest || !utf8.ValidString(reason) || len(reason) > 123 {
				t.Fatalf("closed with %d %q", code, reason)
			}
			return
		}
		switch m.typ {
		case "connection_init", "ping", "pong", "complete":
		case "subscribe":
			if m.id == "" || m.sub == nil {
				t.Fatalf("a subscribe without id or payload passed: %+v", m)
			}
		default:
			t.Fatalf("unknown type %q passed", m.typ)
		}
		if (m.typ == "complete" || m.typ == "subscribe") && m.id == "" {
			t.Fatal("no id")
		}
	})
}
