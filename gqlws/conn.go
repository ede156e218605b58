package gqlws

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Connection states.
const (
	stateNew int32 = iota
	stateInit
	stateAcked
)

// conn is one socket. Its reader is the goroutine that called Do; writes
// come from any goroutine under wmu; timers (init timeout, credential
// expiry) and the Transport's pinger may close it.
type conn struct {
	t    *Transport
	ws   *websocket.Conn
	exec graphql.GraphExecutor

	ctx    context.Context // the socket's life; cancelled when it closes
	cancel context.CancelFunc
	opCtx  context.Context // ctx plus what Init added; set once acked

	state    atomic.Int32
	closing  atomic.Bool
	lastRead atomic.Int64 // unix nanos of the last inbound message
	pingedAt int64        // owned by the pinger

	wmu sync.Mutex

	mu  sync.Mutex
	ops map[string]*op

	timerMu sync.Mutex
	initT   *time.Timer
	expiryT *time.Timer

	// token bucket for inbound messages; owned by the reader
	tokens float64
	filled int64
}

// op is one running operation.
type op struct {
	id      string
	cancel  context.CancelFunc
	stopped bool // the client completed it: send nothing more (under wmu)
	end     atomic.Pointer[error]
}

func newConn(t *Transport, ws *websocket.Conn, exec graphql.GraphExecutor, parent context.Context) *conn {
	ctx, cancel := context.WithCancel(parent)
	c := &conn{t: t, ws: ws, exec: exec, ctx: ctx, cancel: cancel, tokens: t.cfg.MessageBurst, filled: time.Now().UnixNano()}
	ws.SetReadLimit(t.cfg.MaxMessageBytes)
	c.lastRead.Store(c.filled)
	c.initT = time.AfterFunc(t.cfg.InitTimeout, func() {
		if c.state.Load() == stateNew {
			c.close(CloseInitTimeout, "Connection initialisation timeout")
		}
	})
	return c
}

var (
	msgAck  = []byte(`{"type":"connection_ack"}`)
	msgPing = []byte(`{"type":"ping"}`)
	msgPong = []byte(`{"type":"pong"}`)
)

type inbound struct {
	ID      *string         `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

type subscribePayload struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
	Extensions    map[string]any `json:"extensions"`
	DocumentID    string         `json:"documentId"`
}

// DocumentIDKey is the extensions key under which a subscribe payload's
// top-level documentId (trusted documents) is handed to the executor.
const DocumentIDKey = "documentId"

func (c *conn) readLoop() {
	defer c.finish()
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return // peer closed, deadline after our close, or a broken socket
		}
		now := time.Now().UnixNano()
		c.lastRead.Store(now)
		if c.closing.Load() {
			continue // draining until the peer answers our close
		}
		if !c.allow(now) {
			c.close(CloseTooManyRequests, "Too many messages")
			continue
		}
		c.handle(b)
	}
}

// finish releases everything once the reader has stopped.
func (c *conn) finish() {
	c.closing.Store(true)
	c.cancel()
	c.stopTimers()
	_ = c.ws.NetConn().Close()
}

func (c *conn) stopTimers() {
	c.timerMu.Lock()
	defer c.timerMu.Unlock()
	c.initT.Stop()
	if c.expiryT != nil {
		c.expiryT.Stop()
	}
}

// allow takes one token from the socket's message bucket.
func (c *conn) allow(now int64) bool {
	c.tokens += float64(now-c.filled) / 1e9 * c.t.cfg.MessageRate
	c.filled = now
	if c.tokens > c.t.cfg.MessageBurst {
		c.tokens = c.t.cfg.MessageBurst
	}
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

func (c *conn) handle(b []byte) {
	var m inbound
	if err := json.Unmarshal(b, &m); err != nil || m.Type == "" {
		c.close(CloseBadRequest, "Invalid message received")
		return
	}
	switch m.Type {
	case "connection_init":
		c.init(m.Payload)
	case "ping":
		if len(m.Payload) > 0 && !bytes.Equal(m.Payload, []byte("null")) {
			c.write(nil, envelope("", "pong", m.Payload))
		} else {
			c.write(nil, msgPong)
		}
	case "pong":
	case "subscribe":
		if c.state.Load() != stateAcked {
			c.close(CloseUnauthorized, "Unauthorized")
			return
		}
		if m.ID == nil || *m.ID == "" {
			c.close(CloseBadRequest, "Invalid message received: subscribe needs an id")
			return
		}
		var p subscribePayload
		if err := json.Unmarshal(m.Payload, &p); err != nil || len(m.Payload) == 0 || m.Payload[0] != '{' {
			c.close(CloseBadRequest, "Invalid message received: subscribe payload")
			return
		}
		c.subscribe(*m.ID, &p)
	case "complete":
		if m.ID == nil || *m.ID == "" {
			c.close(CloseBadRequest, "Invalid message received: complete needs an id")
			return
		}
		c.mu.Lock()
		o := c.ops[*m.ID]
		delete(c.ops, *m.ID)
		c.mu.Unlock()
		if o != nil {
			c.wmu.Lock()
			o.stopped = true
			c.wmu.Unlock()
			o.cancel()
		}
	default:
		c.close(CloseBadRequest, "Invalid message received: unknown type "+truncate(m.Type))
	}
}

func (c *conn) init(payload json.RawMessage) {
	if !c.state.CompareAndSwap(stateNew, stateInit) {
		c.close(CloseTooManyRequests, "Too many initialisation requests")
		return
	}
	var p map[string]any
	if len(payload) > 0 {
		if err := json.Unmarshal(payload, &p); err != nil {
			c.close(CloseBadRequest, "Invalid message received: connection_init payload must be an object")
			return
		}
	}
	ctx, expires, err := c.t.cfg.Init(c.ctx, p)
	if err != nil {
		c.close(CloseForbidden, "Forbidden")
		return
	}
	c.opCtx = ctx
	c.timerMu.Lock()
	c.initT.Stop()
	if !expires.IsZero() && !c.closing.Load() {
		c.expiryT = time.AfterFunc(time.Until(expires), func() { c.close(CloseForbidden, "Forbidden: credentials expired") })
	}
	c.timerMu.Unlock()
	c.state.Store(stateAcked)
	c.write(nil, msgAck)
}

func (c *conn) subscribe(id string, p *subscribePayload) {
	c.mu.Lock()
	if _, dup := c.ops[id]; dup {
		c.mu.Unlock()
		c.close(CloseSubscriberExists, "Subscriber for "+truncate(id)+" already exists")
		return
	}
	if len(c.ops) >= c.t.cfg.MaxOperations {
		c.mu.Unlock()
		c.close(CloseTooManyRequests, "Too many operations")
		return
	}
	ctx, cancel := context.WithCancel(c.opCtx)
	o := &op{id: id, cancel: cancel}
	if c.ops == nil {
		c.ops = map[string]*op{}
	}
	c.ops[id] = o
	c.mu.Unlock()

	params := &graphql.RawParams{Query: p.Query, OperationName: p.OperationName, Variables: p.Variables, Extensions: p.Extensions}
	if p.DocumentID != "" {
		if params.Extensions == nil {
			params.Extensions = map[string]any{}
		}
		params.Extensions[DocumentIDKey] = p.DocumentID
	}
	params.ReadTime = graphql.TraceTiming{Start: graphql.Now(), End: graphql.Now()}
	c.t.nOps.Add(1)
	go c.run(ctx, o, params)
}

// run executes one operation and reports its results on the socket.
func (c *conn) run(ctx context.Context, o *op, params *graphql.RawParams) {
	defer func() {
		if r := recover(); r != nil {
			c.t.cfg.Logger.Error("websocket operation panicked", "panic", fmt.Sprint(r))
			c.close(CloseInternalServerError, "Internal server error")
		}
		c.mu.Lock()
		if c.ops[o.id] == o {
			delete(c.ops, o.id)
		}
		c.mu.Unlock()
		o.cancel()
		c.t.nOps.Add(-1)
	}()
	ctx = graphql.StartOperationTrace(ctx)
	if f := c.t.cfg.OperationContext; f != nil {
		ctx = f(ctx, func(err error) { o.end.Store(&err) })
	}
	rc, errs := c.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		c.sendErrors(o, resp.Errors)
		return
	}
	responses, ctx := c.exec.DispatchOperation(ctx, rc)
	for {
		resp := responses(ctx)
		if resp == nil {
			break
		}
		b, err := json.Marshal(resp)
		if err != nil {
			c.t.cfg.Logger.Error("websocket: encoding a response", "err", err)
			c.close(CloseInternalServerError, "Internal server error")
			return
		}
		c.write(o, envelope(o.id, "next", b))
		c.t.nMsgs.Add(1)
	}
	if p := o.end.Load(); p != nil && *p != nil {
		se := c.t.cfg.OnStreamEnd(*p)
		if len(se.Errors) > 0 {
			c.sendErrors(o, se.Errors)
			return
		}
		c.close(se.CloseCode, se.Reason)
		return
	}
	c.write(o, envelope(o.id, "complete", nil))
}

func (c *conn) sendErrors(o *op, errs gqlerror.List) {
	b, err := json.Marshal(errs)
	if err != nil {
		b = []byte(`[{"message":"internal error","extensions":{"code":"INTERNAL"}}]`)
	}
	c.write(o, envelope(o.id, "error", b))
}

// envelope builds {"id":…,"type":…,"payload":…} around an encoded payload.
func envelope(id, typ string, payload []byte) []byte {
	b := make([]byte, 0, len(payload)+len(id)+40)
	if id != "" {
		b = append(b, `{"id":`...)
		idj, _ := json.Marshal(id)
		b = append(b, idj...)
		b = append(b, `,"type":"`...)
	} else {
		b = append(b, `{"type":"`...)
	}
	b = append(b, typ...)
	b = append(b, '"')
	if len(payload) > 0 {
		b = append(b, `,"payload":`...)
		b = append(b, payload...)
	}
	return append(b, '}')
}

// write sends one message unless the socket is closing or o was completed
// by the client. A failed write (the peer stopped reading) ends the socket.
func (c *conn) write(o *op, msg []byte) {
	c.writeWithin(o, msg, c.t.cfg.WriteTimeout)
}

func (c *conn) writeWithin(o *op, msg []byte, timeout time.Duration) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closing.Load() || (o != nil && o.stopped) {
		return
	}
	_ = c.ws.SetWriteDeadline(time.Now().Add(timeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
		c.abort()
	}
}

// abort drops a socket that can no longer be written to.
func (c *conn) abort() {
	if c.closing.CompareAndSwap(false, true) {
		c.t.countClose(1006)
		c.cancel()
		_ = c.ws.NetConn().Close()
	}
}

// close sends a close frame and ends every operation; the reader then
// drains until the peer answers (or for 2 s) and releases the socket.
func (c *conn) close(code int, reason string) {
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	c.t.countClose(code)
	c.cancel()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	_ = c.ws.SetReadDeadline(time.Now().Add(2 * time.Second))
}

// heartbeat runs on the pinger: it drops a socket that sent nothing since
// the previous ping, and pings the others.
func (c *conn) heartbeat(now int64) {
	if c.closing.Load() || c.state.Load() != stateAcked {
		return
	}
	if c.pingedAt != 0 && c.lastRead.Load() < c.pingedAt {
		c.close(CloseGoingAway, "no pong")
		return
	}
	c.pingedAt = now
	if !c.wmu.TryLock() {
		return // a write is in progress: the socket is busy, not idle
	}
	c.wmu.Unlock()
	c.writeWithin(nil, msgPing, time.Second)
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
