package gqlws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"
	"unique"

	"github.com/99designs/gqlgen/graphql"
)

var (
	msgAck  = []byte(`{"type":"connection_ack"}`)
	msgPing = []byte(`{"type":"ping"}`)
	msgPong = []byte(`{"type":"pong"}`)

	pongPayload  = []byte(`{"type":"pong","payload":`)
	nextData     = []byte(`next","payload":{"data":`)
	nextPayload  = []byte(`next","payload":`)
	errorPayload = []byte(`error","payload":`)
	completeMsg  = []byte(`complete"}`)
	closeBrace   = []byte(`}`)
	closeBraces  = []byte(`}}`)
	jsonNull     = []byte(`null`)
)

// The graphql-transport-ws protocol above the frames: decoding the
// client's messages and acting on them.

// clientMsg is one decoded message from the client.
type clientMsg struct {
	typ     string
	id      string            // subscribe, complete
	payload json.RawMessage   // ping: echoed in the pong; nil when absent or null
	init    map[string]any    // connection_init: its payload (nil when absent)
	sub     *subscribePayload // subscribe
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

// decodeMessage decodes one message and checks its shape, as the
// protocol's reference server does before acting on it: a non-zero code
// (4400) closes the socket with reason.
func decodeMessage(b []byte) (m clientMsg, code int, reason string) {
	var raw struct {
		ID      *string         `json:"id"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(b, &raw); err != nil || raw.Type == "" {
		return m, CloseBadRequest, "Invalid message received"
	}
	m.typ = raw.Type
	if raw.ID != nil {
		m.id = *raw.ID
	}
	if len(raw.Payload) > 0 && !bytes.Equal(raw.Payload, jsonNull) {
		m.payload = raw.Payload
	}
	switch m.typ {
	case "connection_init":
		if m.payload != nil {
			if err := json.Unmarshal(m.payload, &m.init); err != nil || m.payload[0] != '{' {
				return m, CloseBadRequest, "Invalid message received: connection_init payload must be an object"
			}
		}
	case "ping", "pong":
	case "subscribe":
		if m.id == "" {
			return m, CloseBadRequest, "Invalid message received: subscribe needs an id"
		}
		m.sub = new(subscribePayload)
		if m.payload == nil || m.payload[0] != '{' || json.Unmarshal(m.payload, m.sub) != nil {
			return m, CloseBadRequest, "Invalid message received: subscribe payload"
		}
	case "complete":
		if m.id == "" {
			return m, CloseBadRequest, "Invalid message received: complete needs an id"
		}
	default:
		return m, CloseBadRequest, "Invalid message received: unknown type " + truncate(m.typ)
	}
	return m, 0, ""
}

// handle acts on one message.
func (c *conn) handle(b []byte) {
	m, code, reason := decodeMessage(b)
	if code != 0 {
		c.close(code, reason)
		return
	}
	switch m.typ {
	case "connection_init":
		c.init(m.init)
	case "ping":
		if m.payload != nil {
			c.send(nil, pongPayload, m.payload, closeBrace)
		} else {
			c.send(nil, msgPong)
		}
	case "subscribe":
		if c.state.Load() != stateAcked {
			c.close(CloseUnauthorized, "Unauthorized")
			return
		}
		c.subscribe(m.id, m.sub)
	case "complete":
		c.mu.Lock()
		o := c.takeOp(m.id, nil)
		c.mu.Unlock()
		if o != nil {
			c.wmu.Lock()
			o.stopped = true
			c.wmu.Unlock()
			o.cancel()
		}
	}
}

func (c *conn) init(p map[string]any) {
	if !c.state.CompareAndSwap(stateNew, stateInit) {
		c.close(CloseTooManyRequests, "Too many initialisation requests")
		return
	}
	ctx, expires, err := c.t.cfg.Init(c.ctx, p)
	if err != nil {
		code, reason := CloseForbidden, "Forbidden"
		var ce *CloseError
		if errors.As(err, &ce) {
			code, reason = ce.Code, ce.Reason
		}
		c.close(code, reason)
		return
	}
	c.opCtx = ctx
	c.timerMu.Lock()
	c.initT.Stop()
	c.initT = nil
	if !expires.IsZero() && !c.closing.Load() {
		c.expiryT = time.AfterFunc(time.Until(expires), func() { c.close(CloseForbidden, "Forbidden: credentials expired") })
	}
	c.timerMu.Unlock()
	if on := c.t.cfg.OnAck; on != nil {
		release := on(ctx, c.close)
		c.timerMu.Lock()
		if c.finished.Load() { // finished meanwhile: nothing will call it
			c.timerMu.Unlock()
			release()
		} else {
			c.onFinish = release
			c.timerMu.Unlock()
		}
	}
	c.state.Store(stateAcked)
	c.send(nil, msgAck)
}

// takeOp removes the operation id (only if it is o, when o is set) from
// the socket's list; c.mu is held.
func (c *conn) takeOp(id string, o *op) *op {
	for i, x := range c.ops {
		if x.id == id && (o == nil || x == o) {
			c.ops[i] = c.ops[len(c.ops)-1]
			c.ops[len(c.ops)-1] = nil
			c.ops = c.ops[:len(c.ops)-1]
			return x
		}
	}
	return nil
}

func (c *conn) subscribe(id string, p *subscribePayload) {
	c.mu.Lock()
	if c.opsClosed {
		c.mu.Unlock()
		return
	}
	for _, x := range c.ops {
		if x.id == id {
			c.mu.Unlock()
			c.close(CloseSubscriberExists, "Subscriber for "+truncate(id)+" already exists")
			return
		}
	}
	if len(c.ops) >= c.t.cfg.MaxOperations {
		c.mu.Unlock()
		c.close(CloseTooManyRequests, "Too many operations")
		return
	}
	// The operation's context is cancelled by the socket (cancelOps), not
	// through a parent context: a child of a cancellable parent costs the
	// parent a map of children for as long as it runs.
	ctx, cancel := context.WithCancel(context.WithoutCancel(c.opCtx))
	idJSON, _ := json.Marshal(id)
	prefix := make([]byte, 0, len(idJSON)+16)
	prefix = append(append(append(prefix, `{"id":`...), idJSON...), `,"type":"`...)
	// Thousands of sockets subscribe with the same document: they share
	// one copy of it (and of the render cache's scope) instead of each
	// keeping the one decoded from its message (≈ 2 × the document's
	// bytes per idle subscription, issue #24).
	query := unique.Make(p.Query)
	o := &op{id: id, prefix: prefix, ctx: ctx, cancel: cancel, c: c, query: query, doc: unique.Make(p.OperationName + "\x00" + p.Query)}
	c.ops = append(c.ops, o)
	c.mu.Unlock()

	params := &graphql.RawParams{Query: query.Value(), OperationName: p.OperationName, Variables: p.Variables, Extensions: p.Extensions}
	if p.DocumentID != "" {
		if params.Extensions == nil {
			params.Extensions = map[string]any{}
		}
		params.Extensions[DocumentIDKey] = p.DocumentID
	}
	params.ReadTime = graphql.TraceTiming{Start: graphql.Now(), End: graphql.Now()}
	c.t.nOps.Add(1)
	go c.run(o, params)
}

// cancelOps ends every operation and lets no new one start.
func (c *conn) cancelOps() {
	c.mu.Lock()
	ops := c.ops
	c.ops, c.opsClosed = nil, true
	c.mu.Unlock()
	for _, o := range ops {
		o.cancel()
	}
}

// truncate cuts a client's string to at most 64 bytes for a close reason,
// between characters: a close reason must be UTF-8.
func truncate(s string) string {
	if len(s) <= 64 {
		return s
	}
	s = s[:64]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
