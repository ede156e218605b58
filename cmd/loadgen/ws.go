package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// eventsQuery is what every load-generator socket subscribes to: lean on
// purpose (a real client selects more), so the numbers measure the event
// path rather than field resolvers. Override with -query.
const eventsQuery = `subscription($after: String) { events(after: $after) { __typename cursor ... on MessageAdded { message { id seq body } } } }`

// netDialer dials TCP from several loopback source addresses in turn
// (127.0.0.1, 127.0.0.2, ...), so tens of thousands of sockets to one
// server port do not exhaust one source address's ephemeral ports.
type netDialer struct {
	sources []net.Addr
	next    atomic.Uint64
}

func newNetDialer(target string, n int) *netDialer {
	d := &netDialer{}
	host, _, _ := net.SplitHostPort(target)
	if ip := net.ParseIP(host); ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return d // not an IPv4 loopback target: let the kernel pick
	}
	for i := 1; i <= n; i++ {
		d.sources = append(d.sources, &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(i))})
	}
	return d
}

func (d *netDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := net.Dialer{Timeout: 10 * time.Second}
	if len(d.sources) > 0 {
		nd.LocalAddr = d.sources[d.next.Add(1)%uint64(len(d.sources))]
	}
	return nd.DialContext(ctx, network, addr)
}

type bufPool struct{ sync.Pool }

func (p *bufPool) Get() any  { return p.Pool.Get() }
func (p *bufPool) Put(v any) { p.Pool.Put(v) }

// wsClient opens graphql-transport-ws subscriptions.
type wsClient struct {
	url   string
	query string
	d     websocket.Dialer
}

func newWSClient(base, query string, nd *netDialer) *wsClient {
	return &wsClient{
		url:   "ws" + strings.TrimPrefix(strings.TrimRight(base, "/"), "http") + "/graphql",
		query: query,
		d: websocket.Dialer{
			NetDialContext:   nd.DialContext,
			HandshakeTimeout: 15 * time.Second,
			Subprotocols:     []string{"graphql-transport-ws"},
			ReadBufferSize:   2048,
			WriteBufferSize:  512,
			WriteBufferPool:  &bufPool{},
		},
	}
}

// sub is one socket carrying one events subscription.
type sub struct {
	c      *websocket.Conn
	wmu    sync.Mutex
	closed atomic.Bool
}

// phases of opening a subscription, measured from the start of the dial.
type openTimes struct {
	Dialed, Acked time.Duration
}

// open dials, authenticates with connection_init and subscribes to events
// (after the cursor, when set). It returns once the server acknowledged the
// connection and the subscribe message is written; events then go to onNext
// (the raw "next" message) from the socket's own reader goroutine, and
// onEnd runs once when the socket ends for a reason other than close().
func (w *wsClient) open(ctx context.Context, token, after string, onNext func([]byte), onEnd func(error)) (*sub, openTimes, error) {
	var t openTimes
	start := time.Now()
	c, resp, err := w.d.DialContext(ctx, w.url, http.Header{})
	if err != nil {
		code := "WS_DIAL"
		if resp != nil {
			code = fmt.Sprintf("WS_DIAL_HTTP_%d", resp.StatusCode)
		}
		return nil, t, codedError{code, err.Error()}
	}
	t.Dialed = time.Since(start)
	s := &sub{c: c}
	c.SetReadLimit(1 << 20)
	init, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}})
	if err := s.write(init); err != nil {
		c.Close()
		return nil, t, codedError{"WS_WRITE", err.Error()}
	}
	deadline := time.Now().Add(15 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = c.SetReadDeadline(deadline)
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			c.Close()
			return nil, t, closeError(err)
		}
		if bytes.Contains(b, []byte(`"connection_ack"`)) {
			break
		}
		if bytes.Contains(b, []byte(`"ping"`)) {
			_ = s.write([]byte(`{"type":"pong"}`))
		}
	}
	t.Acked = time.Since(start)
	_ = c.SetReadDeadline(time.Time{})
	vars := map[string]any{}
	if after != "" {
		vars["after"] = after
	}
	subMsg, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": w.query, "variables": vars}})
	if err := s.write(subMsg); err != nil {
		c.Close()
		return nil, t, codedError{"WS_WRITE", err.Error()}
	}
	go s.read(onNext, onEnd)
	return s, t, nil
}

func (s *sub) write(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return s.c.WriteMessage(websocket.TextMessage, b)
}

var (
	tagNext  = []byte(`"type":"next"`)
	tagPing  = []byte(`"type":"ping"`)
	tagError = []byte(`"type":"error"`)
	tagDone  = []byte(`"type":"complete"`)
)

func (s *sub) read(onNext func([]byte), onEnd func(error)) {
	var buf bytes.Buffer
	end := func(err error) {
		if !s.closed.Load() && onEnd != nil {
			onEnd(err)
		}
		s.c.Close()
	}
	for {
		_, r, err := s.c.NextReader()
		if err != nil {
			end(closeError(err))
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			end(closeError(err))
			return
		}
		b := buf.Bytes()
		switch {
		case bytes.Contains(b, tagNext):
			if onNext != nil {
				onNext(b)
			}
		case bytes.Contains(b, tagPing):
			_ = s.write([]byte(`{"type":"pong"}`))
		case bytes.Contains(b, tagError):
			end(codedError{"SUB_" + errorCode(b), truncate(string(b), 300)})
			return
		case bytes.Contains(b, tagDone):
			end(codedError{"SUB_COMPLETE", "server completed the subscription"})
			return
		}
	}
}

// close ends the socket from the client side without calling onEnd.
func (s *sub) close() {
	if s.closed.Swap(true) {
		return
	}
	s.wmu.Lock()
	_ = s.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	s.wmu.Unlock()
	s.c.Close()
}

func closeError(err error) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return codedError{"WS_CLOSE_" + strconv.Itoa(ce.Code), ce.Text}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return codedError{"WS_TIMEOUT", err.Error()}
	}
	return codedError{"WS_READ", err.Error()}
}

// errorCode pulls extensions.code out of an error or next payload.
func errorCode(b []byte) string {
	i := bytes.Index(b, []byte(`"code":"`))
	if i < 0 {
		return "ERROR"
	}
	rest := b[i+8:]
	if j := bytes.IndexByte(rest, '"'); j > 0 {
		return string(rest[:j])
	}
	return "ERROR"
}

// stamp is what a load-generator message body carries: the time the send
// was scheduled (not when it happened: see the open-loop driver), the
// message's index in the run and the index of the user it is meant for
// (-1 for every member of a group).
type stamp struct {
	intended int64 // unix ns
	index    int64
	target   int64
}

func (s stamp) body() string {
	return "lg:" + strconv.FormatInt(s.intended, 10) + ":" + strconv.FormatInt(s.index, 10) + ":" + strconv.FormatInt(s.target, 10) + ":"
}

var tagBody = []byte(`"body":"lg:`)

// parseStamp finds a load-generator body in a raw "next" message without
// decoding the JSON (the receiving side must stay cheap: it shares the
// machine with the server).
func parseStamp(b []byte) (stamp, bool) {
	i := bytes.Index(b, tagBody)
	if i < 0 {
		return stamp{}, false
	}
	rest := b[i+len(tagBody):]
	var v [3]int64
	for k := 0; k < 3; k++ {
		j := bytes.IndexByte(rest, ':')
		if j <= 0 {
			return stamp{}, false
		}
		n, err := strconv.ParseInt(string(rest[:j]), 10, 64)
		if err != nil {
			return stamp{}, false
		}
		v[k], rest = n, rest[j+1:]
	}
	return stamp{intended: v[0], index: v[1], target: v[2]}, true
}

var tagCursor = []byte(`"cursor":"`)

// parseCursor returns the event's cursor from a raw "next" message.
func parseCursor(b []byte) string {
	i := bytes.Index(b, tagCursor)
	if i < 0 {
		return ""
	}
	rest := b[i+len(tagCursor):]
	if j := bytes.IndexByte(rest, '"'); j >= 0 {
		return string(rest[:j])
	}
	return ""
}
