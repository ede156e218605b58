package gqlws

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// permessage-deflate (RFC 7692), spoken by a raw client: negotiation,
// compressed messages both ways, and what the server refuses.

// chromiumOffer is what Chromium and Firefox send.
const chromiumOffer = "permessage-deflate; client_max_window_bits"

// dialExt opens a socket offering the given Sec-WebSocket-Extensions (none
// when ""), and returns the server's answer to it.
func dialExt(t *testing.T, addr, offer string, extra []byte) (*client, string) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	req := handshake
	if offer != "" {
		req = strings.Replace(handshake, "\r\n\r\n", "\r\nSec-WebSocket-Extensions: "+offer+"\r\n\r\n", 1)
	}
	if _, err := nc.Write(append([]byte(req), extra...)); err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, nc: nc, br: bufio.NewReader(nc)}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake answered %d", resp.StatusCode)
	}
	ext := resp.Header.Get("Sec-WebSocket-Extensions")
	c.deflate = ext != ""
	return c, ext
}

// clientDeflate compresses a message as a client would (the tail stripped).
func clientDeflate(p []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	_, _ = w.Write(p)
	_ = w.Flush()
	return bytes.TrimSuffix(b.Bytes(), deflateTail)
}

// clientInflate inflates a compressed message from the server.
func clientInflate(t *testing.T, p []byte) []byte {
	t.Helper()
	r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader(deflateTail)))
	out, err := io.ReadAll(r)
	if err != nil && err != io.ErrUnexpectedEOF {
		t.Fatalf("the server's compressed message does not inflate: %v", err)
	}
	return out
}

// compressed is a compressed client text frame (RSV1 on the first frame).
func compressed(fin bool, op byte, p []byte) []byte {
	f := clientFrame(fin, op, p, false)
	f[0] |= 0x40
	return f
}

func TestTheServerAnswersDeflateOffersAsRFC7692Says(t *testing.T) {
	const agreed = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	addr, _ := start(t, true, Config{}, newExecutor(false, 0, nil))
	for offer, want := range map[string]string{
		chromiumOffer:        agreed,
		"permessage-deflate": agreed,
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover": agreed, // gorilla/websocket
		"permessage-deflate; client_max_window_bits=10":                              agreed, // the client may limit itself
		"permessage-deflate; server_max_window_bits=10":                              agreed + "; server_max_window_bits=10",
		`permessage-deflate; server_max_window_bits="12"`:                            agreed + "; server_max_window_bits=12",
		// Declined: a window the RFC does not allow, a parameter without
		// its value, with a value it must not have, unknown or repeated.
		"permessage-deflate; server_max_window_bits=7":                                             "",
		"permessage-deflate; server_max_window_bits=010":                                           "",
		"permessage-deflate; server_max_window_bits":                                               "",
		"permessage-deflate; client_max_window_bits=16":                                            "",
		"permessage-deflate; server_no_context_takeover=1":                                         "",
		"permessage-deflate; mystery":                                                              "",
		"permessage-deflate; client_no_context_takeover; client_no_context_takeover":               "",
		"x-webkit-deflate-frame":                                                                   "",
		"permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits": agreed, // the second offer
	} {
		t.Run(offer, func(t *testing.T) {
			_, got := dialExt(t, addr, offer, nil)
			if got != want {
				t.Fatalf("answered %q, want %q", got, want)
			}
		})
	}
}

func TestCompressionCanBeTurnedOff(t *testing.T) {
	addr, _ := start(t, true, Config{DisableCompression: true}, newExecutor(false, 0, nil))
	c, ext := dialExt(t, addr, chromiumOffer, nil)
	if ext != "" {
		t.Fatalf("answered %q with compression off", ext)
	}
	c.write(compressed(true, opText, clientDeflate([]byte(initMsg))))
	if code, _ := c.closed(); code != closeProtocolError {
		t.Fatalf("a compressed frame on a socket without compression closed with %d, want 1002", code)
	}
}

// longQuery is a query whose result (the executor answers with the query's
// text) is long enough to be sent compressed.
var longQuery = "query { " + strings.Repeat("field ", 200) + "}"

func subscribeMsg(id, query string) []byte {
	q, _ := json.Marshal(query)
	return []byte(`{"id":"` + id + `","type":"subscribe","payload":{"query":` + string(q) + `}}`)
}

func TestACompressingClientIsAnsweredCompressed(t *testing.T) {
	both(t, func(t *testing.T, poll bool) {
		addr, _ := start(t, poll, Config{}, newExecutor(false, 0, nil))
		c, _ := dialExt(t, addr, chromiumOffer, nil)
		c.write(compressed(true, opText, clientDeflate([]byte(initMsg))))
		if m := c.next(); m.Type != "connection_ack" || c.rsv1 {
			t.Fatalf("want an uncompressed (short) connection_ack, got %+v compressed=%v", m, c.rsv1)
		}
		// A compressed message in three fragments, RSV1 on the first only.
		z := clientDeflate(subscribeMsg("q", longQuery))
		c.write(compressed(false, opText, z[:5]), clientFrame(false, opContinuation, z[5:9], false), clientFrame(true, opContinuation, z[9:], false))
		m := c.next()
		var data string
		if err := json.Unmarshal(m.Payload, &struct{ Data *string }{&data}); err != nil || m.Type != "next" || data != longQuery {
			t.Fatalf("want the query's text back, got %+v (%v)", m, err)
		}
		if !c.rsv1 {
			t.Fatal("a result of more than compressMin bytes was not compressed")
		}
		if m := c.next(); m.Type != "complete" || c.rsv1 {
			t.Fatalf("want an uncompressed complete, got %+v compressed=%v", m, c.rsv1)
		}
		// Uncompressed messages stay allowed on a compressing socket.
		c.write(text(`{"type":"ping"}`))
		if m := c.next(); m.Type != "pong" {
			t.Fatalf("want pong, got %+v", m)
		}
	})
}

func TestAWindowTheServerCannotKeepToMeansLongResultsGoUncompressed(t *testing.T) {
	addr, _ := start(t, true, Config{}, newExecutor(false, 0, nil))
	c, ext := dialExt(t, addr, "permessage-deflate; server_max_window_bits=11", text(initMsg))
	if !strings.Contains(ext, "server_max_window_bits=11") {
		t.Fatalf("answered %q", ext)
	}
	c.next()
	c.write(text(string(subscribeMsg("long", strings.Repeat(longQuery, 2))))) // a result of about 2.5 KB: over 2,048
	if m := c.next(); m.Type != "next" || c.rsv1 {
		t.Fatalf("a result longer than the 2 KiB window was compressed: %+v", m)
	}
	c.next() // complete
	// About 1.2 KB: within the window, over compressMin.
	c.write(text(string(subscribeMsg("short", longQuery))))
	if m := c.next(); m.Type != "next" || !c.rsv1 {
		t.Fatalf("a result within the window (over compressMin) was not compressed: %+v", m)
	}
}

func TestCompressedFramesOutOfPlaceAreRefused(t *testing.T) {
	small := clientDeflate([]byte(initMsg))
	bomb := clientDeflate([]byte(`{"type":"ping","payload":"` + strings.Repeat("a", 10<<20) + `"}`))
	for name, tc := range map[string]struct {
		frames [][]byte
		code   int
	}{
		"RSV1 on a continuation":             {[][]byte{clientFrame(false, opText, []byte(`{"type":`), false), compressed(true, opContinuation, []byte(`"ping"}`))}, closeProtocolError},
		"RSV1 on a ping":                     {[][]byte{compressed(true, opPing, []byte("x"))}, closeProtocolError},
		"not deflate data":                   {[][]byte{compressed(true, opText, []byte{0xff, 0xff, 0xff, 0xff, 0xff})}, closeInvalidData},
		"inflates to non-UTF-8":              {[][]byte{compressed(true, opText, clientDeflate([]byte(`{"type":"ping","payload":"`+"\xc0\xaf"+`"}`)))}, closeInvalidData},
		"a deflate bomb":                     {[][]byte{compressed(true, opText, bomb)}, closeTooBig},
		"a bomb in fragments":                {[][]byte{compressed(false, opText, bomb[:len(bomb)/2]), clientFrame(true, opContinuation, bomb[len(bomb)/2:], false)}, closeTooBig},
		"compressed, then text in its place": {[][]byte{compressed(false, opText, small[:3]), text(initMsg)}, closeProtocolError},
	} {
		t.Run(name, func(t *testing.T) {
			both(t, func(t *testing.T, poll bool) {
				addr, _ := start(t, poll, Config{}, newExecutor(false, 0, nil))
				c, _ := dialExt(t, addr, chromiumOffer, nil)
				c.write(tc.frames...)
				if code, _ := c.closed(); code != tc.code {
					t.Fatalf("closed with %d, want %d", code, tc.code)
				}
			})
		})
	}
	if len(bomb) > 64<<10 {
		t.Fatalf("the bomb is %d bytes compressed: it would be refused unread", len(bomb))
	}
}

func TestInflateStopsAtTheLimit(t *testing.T) {
	z := clientDeflate(bytes.Repeat([]byte("a"), 1<<20))
	out, err := inflate(nil, z, 1000)
	if err != errInflatedTooBig || len(out) != 1001 {
		t.Fatalf("inflated %d bytes (%v), want the limit plus one and errInflatedTooBig", len(out), err)
	}
	out, err = inflate(nil, z, 1<<20)
	if err != nil || len(out) != 1<<20 {
		t.Fatalf("at the limit: %d bytes, %v", len(out), err)
	}
}
