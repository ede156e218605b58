package gqlws

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// These tests speak raw RFC 6455 to the transport, to reach what a
// well-behaved client library never sends (unmasked or oversized frames,
// fragments with control frames between them, bytes glued to the
// handshake). The protocol above the frames is tested against the real
// API in server/wsproto_test.go.

// executor is a stand-in for gqlgen's: a query answers with its own text;
// a subscription streams what the test sends. A pushed stream starts with
// the transport as the API's resolvers do (results are read when the stream
// says they are ready); otherwise the transport blocks on it.
type executor struct {
	tr        *Transport // set by start
	events    chan json.RawMessage
	streamErr error      // what the stream's Err reports
	push      bool       // push the stream
	readyc    chan *Push // push: the dispatched subscription's Push
	taken     atomic.Int64
}

func newExecutor(push bool, buffer int, streamErr error) *executor {
	return &executor{events: make(chan json.RawMessage, buffer), streamErr: streamErr, push: push, readyc: make(chan *Push, 1)}
}

// send streams d to the subscription (waiting for it to be dispatched).
func (e *executor) send(d json.RawMessage) {
	if !e.push {
		e.events <- d
		return
	}
	p := e.pushed()
	e.events <- d
	p.Ready(nil, "")
}

// end ends the stream.
func (e *executor) end() {
	close(e.events)
	if e.push {
		e.pushed().Closed()
	}
}

func (e *executor) pushed() *Push {
	p := <-e.readyc
	e.readyc <- p
	return p
}

// The executor's stream, as the transport reads it.
func (e *executor) Taken()     { e.taken.Add(1) }
func (e *executor) Skip() any  { e.taken.Add(1); return <-e.events }
func (e *executor) Err() error { return e.streamErr }

func (e *executor) CreateOperationContext(ctx context.Context, p *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	kind := ast.Query
	if strings.HasPrefix(p.Query, "subscription") {
		kind = ast.Subscription
	}
	return &graphql.OperationContext{RawQuery: p.Query, Operation: &ast.OperationDefinition{Operation: kind}}, nil
}

func (e *executor) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	if rc.Operation.Operation != ast.Subscription {
		q, _ := json.Marshal(rc.RawQuery)
		return graphql.OneShot(&graphql.Response{Data: q}), ctx
	}
	ctx = graphql.WithOperationContext(ctx, rc) // as gqlgen's executor does
	if e.push {
		p := e.tr.Push(ctx)
		p.Start(e)
		e.readyc <- p
	}
	return func(ctx context.Context) *graphql.Response {
		select {
		case d, ok := <-e.events:
			if !ok {
				return nil
			}
			return &graphql.Response{Data: d}
		case <-ctx.Done():
			return nil
		}
	}, ctx
}

func (e *executor) DispatchError(ctx context.Context, list gqlerror.List) *graphql.Response {
	return &graphql.Response{Errors: list}
}

// start serves a Transport; poll false reads every socket on a goroutine.
func start(t *testing.T, poll bool, cfg Config, exec *executor) (string, *Transport) {
	t.Helper()
	tr := New(cfg)
	tr.noPoll = !poll
	exec.tr = tr
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tr.Do(w, r, exec) }))
	t.Cleanup(func() { tr.Shutdown(); srv.Close() })
	return srv.Listener.Addr().String(), tr
}

// both runs a test with the poller and with a goroutine per socket.
func both(t *testing.T, f func(t *testing.T, poll bool)) {
	t.Run("poller", func(t *testing.T) { f(t, true) })
	t.Run("goroutine", func(t *testing.T) { f(t, false) })
}

// streams runs a subscription test with the poller and without, each with
// a pushed stream and with one the transport blocks on.
func streams(t *testing.T, f func(t *testing.T, poll, push bool)) {
	both(t, func(t *testing.T, poll bool) {
		t.Run("pushed", func(t *testing.T) { f(t, poll, true) })
		t.Run("blocking", func(t *testing.T) { f(t, poll, false) })
	})
}

type client struct {
	t       *testing.T
	nc      net.Conn
	br      *bufio.Reader
	deflate bool // permessage-deflate was negotiated: read inflates
	rsv1    bool // the last frame read was compressed
}

const handshake = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"

// dial opens a socket; extra is written in the same write as the handshake.
func dial(t *testing.T, addr string, extra []byte) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(append([]byte(handshake), extra...)); err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, nc: nc, br: bufio.NewReader(nc)}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" ||
		resp.Header.Get("Sec-WebSocket-Protocol") != Subprotocol {
		t.Fatalf("handshake answered %d %v", resp.StatusCode, resp.Header)
	}
	return c
}

// clientFrame encodes one client frame (masked unless unmasked).
func clientFrame(fin bool, op byte, payload []byte, unmasked bool) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	mask := byte(0x80)
	if unmasked {
		mask = 0
	}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, mask|byte(n))
	case n <= 0xffff:
		b = append(b, mask|126, byte(n>>8), byte(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, mask|127), uint64(n))
	}
	if unmasked {
		return append(b, payload...)
	}
	key := make([]byte, 4)
	_, _ = rand.Read(key)
	b = append(b, key...)
	p := append([]byte(nil), payload...)
	unmask(key, p)
	return append(b, p...)
}

func text(s string) []byte { return clientFrame(true, opText, []byte(s), false) }

func (c *client) write(b ...[]byte) {
	c.t.Helper()
	for _, p := range b {
		if _, err := c.nc.Write(p); err != nil {
			c.t.Fatal(err)
		}
	}
}

// read returns the next server frame.
func (c *client) read() (op byte, payload []byte) {
	c.t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		c.t.Fatalf("reading a frame: %v", err)
	}
	if h[0]&0x80 == 0 || h[0]&0x70 != 0 && !c.deflate || h[0]&0x30 != 0 || h[1]&0x80 != 0 {
		c.t.Fatalf("server frame not final, with reserved bits or masked: %x", h)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		_, _ = io.ReadFull(c.br, l[:])
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		_, _ = io.ReadFull(c.br, l[:])
		n = binary.BigEndian.Uint64(l[:])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		c.t.Fatal(err)
	}
	c.rsv1 = h[0]&0x40 != 0
	if c.rsv1 {
		payload = clientInflate(c.t, payload)
	}
	return h[0] & 0x0f, payload
}

type message struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// next returns the next protocol message, skipping server pings.
func (c *client) next() message {
	c.t.Helper()
	for {
		op, p := c.read()
		if op == opClose {
			c.t.Fatalf("closed: %d %s", binary.BigEndian.Uint16(p), p[2:])
		}
		var m message
		if err := json.Unmarshal(p, &m); err != nil {
			c.t.Fatalf("%q: %v", p, err)
		}
		if m.Type != "ping" {
			return m
		}
	}
}

// closed expects a close frame and returns its code and reason.
func (c *client) closed() (int, string) {
	c.t.Helper()
	for {
		op, p := c.read()
		if op == opClose {
			if len(p) < 2 {
				return closeNoStatus, ""
			}
			return int(binary.BigEndian.Uint16(p)), string(p[2:])
		}
	}
}

const initMsg = `{"type":"connection_init"}`
