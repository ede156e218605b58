package gqlws

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Connection states.
const (
	stateNew int32 = iota
	stateInit
	stateAcked
)

// closeDrain is how long a socket we closed waits for the peer's close
// frame before its connection is dropped.
const closeDrain = 2 * time.Second

var connIDs atomic.Uint64

// conn is one socket. Reading happens on a goroutine that exists only while
// the socket has something to read (the process's poller starts it; see
// poll_linux.go), or for the socket's whole life where there is no poller.
// Writes come from any goroutine through the queue in write.go. Timers
// (init timeout, credential expiry, close drain) and the Transport's pinger
// may close it.
type conn struct {
	t    *Transport
	nc   net.Conn
	raw  syscall.RawConn // nil: the poller cannot watch it (not a plain socket)
	id   uint64          // the poller's key
	exec graphql.GraphExecutor

	ctx   context.Context // the upgrade request's values; never cancelled
	opCtx context.Context // ctx plus what Init added; set once acked

	state    atomic.Int32
	closing  atomic.Bool // a close frame was queued, or the socket failed
	finished atomic.Bool // the connection is closed
	lastRead atomic.Int64
	pingedAt int64 // owned by the pinger

	// writing (write.go)
	wmu      sync.Mutex
	wcond    *sync.Cond // made when a producer first waits for the queue to drain
	wq       *[]byte    // queued frames; nil while empty
	flushing bool       // a goroutine is writing the queue
	wdone    bool       // the close frame is queued or the socket failed: queue nothing more

	mu        sync.Mutex
	ops       []*op
	opsClosed bool // the socket is closing: start no operation

	timerMu sync.Mutex
	initT   *time.Timer
	expiryT *time.Timer
	drainT  *time.Timer

	// The reader's state: one reader at a time, serialised by rmu (which
	// also orders one reader's writes before the next reader's reads).
	rmu     sync.Mutex
	rbuf    *[]byte // bytes of a partial frame; nil while none
	need    int     // bytes the partial frame at the start of rbuf takes
	frag    []byte  // a fragmented message being assembled
	fragOp  byte
	watched bool    // registered with the poller
	tokens  float64 // inbound message bucket
	filled  int64
}

// op is one running operation.
type op struct {
	id      string
	prefix  []byte // `{"id":"<id>","type":"`
	ctx     context.Context
	cancel  context.CancelFunc
	stopped bool // the client completed it: send nothing more (under wmu)
	reason  atomic.Pointer[func() error]

	// A pushed subscription (see Config.OperationContext) has no
	// goroutine while it waits: its stream says when a result is ready.
	c         *conn
	doc       string                  // operation name and document: the render cache's scope
	taken     func()                  // set by the resolver; nil: not pushed
	skip      func()                  // set by the resolver; nil: never reuse a rendering
	responses graphql.ResponseHandler // set before armed
	rctx      context.Context         // the context responses run in
	armed     atomic.Bool             // responses is set: results may be read
	running   atomic.Bool             // a goroutine is reading results
	qmu       sync.Mutex
	queue     []readied // results the stream has said are ready, in order
	head      int
}

func newConn(t *Transport, nc net.Conn, exec graphql.GraphExecutor, ctx context.Context) *conn {
	now := time.Now().UnixNano()
	c := &conn{t: t, nc: nc, exec: exec, ctx: ctx, id: connIDs.Add(1), tokens: t.cfg.MessageBurst, filled: now}
	switch nc := nc.(type) {
	case *net.TCPConn:
		c.raw, _ = nc.SyscallConn()
	case *net.UnixConn:
		c.raw, _ = nc.SyscallConn()
	}
	c.lastRead.Store(now)
	c.initT = time.AfterFunc(t.cfg.InitTimeout, func() {
		if c.state.Load() == stateNew {
			c.close(CloseInitTimeout, "Connection initialisation timeout")
		}
	})
	return c
}

// start begins reading: through the poller when it can watch the socket,
// else on a goroutine of its own.
func (c *conn) start(pre []byte) {
	p := c.t.poller()
	if len(pre) == 0 && p != nil && c.raw != nil {
		c.rmu.Lock()
		ok := p.watch(c)
		c.rmu.Unlock()
		if ok {
			return
		}
	}
	if len(pre) > 0 {
		b := getBuf()
		*b = append(*b, pre...)
		c.rbuf = b
	}
	go c.serve(p == nil || c.raw == nil)
}

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

// serve reads the socket and handles its frames. With block it runs for
// the socket's whole life; otherwise (the poller saw the socket readable)
// it returns, having re-armed the poller, as soon as no partial frame is
// buffered: an idle socket has no goroutine and no read buffer.
func (c *conn) serve(block bool) {
	c.rmu.Lock()
	read := c.rbuf == nil // bytes that came with the handshake are handled first
	for {
		if read && !c.fill() {
			break
		}
		read = true
		if !c.consume() || c.finished.Load() {
			break
		}
		if block || len(*c.rbuf) > 0 {
			continue // a frame is incomplete: wait for the rest here
		}
		c.release()
		if p := c.t.poller(); p != nil && p.watch(c) {
			c.rmu.Unlock()
			return
		}
		if c.finished.Load() {
			break
		}
		block = true // the poller refused the socket: read it here
	}
	c.release()
	c.rmu.Unlock()
	c.finish()
}

// fill reads what the socket has into rbuf; false when the socket ended.
func (c *conn) fill() bool {
	if c.rbuf == nil {
		c.rbuf = getBuf()
	}
	b := *c.rbuf
	if c.need > cap(b) {
		nb := make([]byte, len(b), c.need)
		copy(nb, b)
		putBuf(c.rbuf)
		c.rbuf, b = &nb, nb
	}
	n, err := c.nc.Read(b[len(b):cap(b)])
	if n > 0 {
		*c.rbuf = b[:len(b)+n]
		c.lastRead.Store(time.Now().UnixNano())
	}
	return err == nil || n > 0
}

// release returns an empty read buffer to the pool.
func (c *conn) release() {
	if c.rbuf != nil && len(*c.rbuf) == 0 {
		putBuf(c.rbuf)
		c.rbuf = nil
	}
}

// consume handles every complete frame in rbuf and keeps the rest; false
// when the socket is done.
func (c *conn) consume() bool {
	b := *c.rbuf
	off := 0
	c.need = 0
	for off < len(b) {
		limit := c.t.cfg.MaxMessageBytes
		if b[off]&0x0f == opContinuation {
			limit -= int64(len(c.frag))
		}
		f, n, need, code := parseFrame(b[off:], limit)
		if code != 0 {
			c.fail(code)
			return false
		}
		if n == 0 {
			c.need = need
			break
		}
		off += n
		if !c.frame(f) {
			return false
		}
	}
	*c.rbuf = b[:copy(b, b[off:])]
	return true
}

// frame handles one frame; false when the socket is done.
func (c *conn) frame(f frame) bool {
	switch f.op {
	case opText, opBinary:
		if c.fragOp != 0 {
			c.fail(closeProtocolError)
			return false
		}
		if !f.fin {
			c.fragOp = f.op
			c.frag = append([]byte(nil), f.payload...)
			return true
		}
		c.message(f.payload)
	case opContinuation:
		if c.fragOp == 0 {
			c.fail(closeProtocolError)
			return false
		}
		c.frag = append(c.frag, f.payload...)
		if f.fin {
			msg := c.frag
			c.frag, c.fragOp = nil, 0
			c.message(msg)
		}
	case opPing:
		c.sendFrame(nil, opPong, time.Second, f.payload)
	case opPong:
	case opClose:
		code := peerCloseCode(f.payload)
		if code == 0 {
			c.fail(closeProtocolError)
			return false
		}
		if c.closing.CompareAndSwap(false, true) {
			// The peer is closing: answer with its code (RFC 6455 5.5.1).
			c.cancelOps()
			echo := closePayload(code, "")
			c.queueClose(echo)
		}
		return false
	}
	return true
}

// message handles one complete data message.
func (c *conn) message(b []byte) {
	if c.closing.Load() {
		return // draining until the peer answers our close
	}
	if !c.allow(time.Now().UnixNano()) {
		c.close(CloseTooManyRequests, "Too many messages")
		return
	}
	c.handle(b)
}

// fail closes the connection after a framing violation.
func (c *conn) fail(code int) {
	reason := "protocol error"
	if code == closeTooBig {
		reason = "message too big"
	}
	c.close(code, reason)
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
		if len(m.Payload) > 0 && !bytes.Equal(m.Payload, jsonNull) {
			c.send(nil, pongPayload, m.Payload, closeBrace)
		} else {
			c.send(nil, msgPong)
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
		o := c.takeOp(*m.ID, nil)
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
	c.initT = nil
	if !expires.IsZero() && !c.closing.Load() {
		c.expiryT = time.AfterFunc(time.Until(expires), func() { c.close(CloseForbidden, "Forbidden: credentials expired") })
	}
	c.timerMu.Unlock()
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
	o := &op{id: id, prefix: prefix, ctx: ctx, cancel: cancel, c: c, doc: p.OperationName + "\x00" + p.Query}
	c.ops = append(c.ops, o)
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

// run executes one operation and reports its results on the socket.
func (c *conn) run(o *op, params *graphql.RawParams) {
	streaming := false
	defer func() {
		if !streaming {
			c.done(o, recover())
		}
	}()
	ctx := graphql.StartOperationTrace(o.ctx)
	if f := c.t.cfg.OperationContext; f != nil {
		ctx = f(ctx, o.ready, func(taken func(), reason func() error, skip func()) {
			o.taken, o.skip = taken, skip
			o.reason.Store(&reason)
		})
	}
	rc, errs := c.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		c.sendErrors(o, resp.Errors)
		return
	}
	responses, ctx := c.exec.DispatchOperation(ctx, rc)
	if rc.Operation != nil && rc.Operation.Operation == ast.Subscription {
		streaming = true
		if o.taken != nil {
			// The resolver registered a pushed stream (while
			// DispatchOperation ran it, on this goroutine): results are
			// read as the stream says they are ready.
			o.responses, o.rctx = responses, ctx
			o.armed.Store(true)
			o.kick()
			return
		}
		// A subscription waits for events for hours: it does so on a
		// fresh goroutine, whose stack has not grown through parsing and
		// validation (a goroutine's stack shrinks only slowly, over
		// garbage collections).
		go func() {
			defer func() { c.done(o, recover()) }()
			c.results(o, ctx, responses)
		}()
		return
	}
	c.results(o, ctx, responses)
}

// done ends an operation's bookkeeping; r is what its goroutine recovered.
func (c *conn) done(o *op, r any) {
	if r != nil {
		c.t.cfg.Logger.Error("websocket operation panicked", "panic", fmt.Sprint(r))
		c.close(CloseInternalServerError, "Internal server error")
	}
	c.mu.Lock()
	c.takeOp(o.id, o)
	c.mu.Unlock()
	o.cancel()
	c.t.nOps.Add(-1)
}

// results sends an operation's results, then complete, or what its
// stream's end calls for.
func (c *conn) results(o *op, ctx context.Context, responses graphql.ResponseHandler) {
	for {
		resp := responses(ctx)
		if resp == nil {
			break
		}
		if !c.next(o, resp) {
			return
		}
	}
	c.endStream(o)
}

// endStream sends what the end of an operation's results calls for:
// complete, or what its stream's failure calls for.
func (c *conn) endStream(o *op) {
	if p := o.reason.Load(); p != nil && o.ctx.Err() == nil {
		if err := (*p)(); err != nil {
			se := c.t.cfg.OnStreamEnd(err)
			if len(se.Errors) > 0 {
				c.sendErrors(o, se.Errors)
				return
			}
			c.close(se.CloseCode, se.Reason)
			return
		}
	}
	c.send(o, o.prefix, completeMsg)
}

// next sends one result. The common result, data alone, is framed as it
// is (gqlgen wrote it as JSON, so encoding/json's validation and
// compaction of it would be wasted); anything else is encoded as a whole.
func (c *conn) next(o *op, resp *graphql.Response) bool {
	if dataOnly(resp) {
		data := resp.Data
		if len(data) == 0 {
			data = jsonNull
		}
		c.sendResult(o, o.prefix, nextData, data, closeBraces)
	} else {
		b, err := json.Marshal(resp)
		if err != nil {
			c.t.cfg.Logger.Error("websocket: encoding a response", "err", err)
			c.close(CloseInternalServerError, "Internal server error")
			return false
		}
		c.sendResult(o, o.prefix, nextPayload, b, closeBrace)
	}
	c.t.nMsgs.Add(1)
	return true
}

func (c *conn) sendErrors(o *op, errs gqlerror.List) {
	b, err := json.Marshal(errs)
	if err != nil {
		b = []byte(`[{"message":"internal error","extensions":{"code":"INTERNAL"}}]`)
	}
	c.send(o, o.prefix, errorPayload, b, closeBrace)
}

// close sends a close frame and ends every operation; the connection is
// dropped when the peer answers, or after closeDrain.
func (c *conn) close(code int, reason string) {
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	c.t.countClose(code)
	c.cancelOps()
	c.timerMu.Lock()
	if !c.finished.Load() {
		c.drainT = time.AfterFunc(closeDrain, c.finish)
	}
	c.timerMu.Unlock()
	c.queueClose(closePayload(code, reason))
}

// abort drops a socket that can no longer be written to.
func (c *conn) abort() {
	if c.closing.CompareAndSwap(false, true) {
		c.t.countClose(closeAbnormal)
	}
	c.finish()
}

// finish closes the connection and releases everything but the reader's
// buffer (its reader, if one runs, releases that as it returns).
func (c *conn) finish() {
	if !c.finished.CompareAndSwap(false, true) {
		return
	}
	c.closing.Store(true)
	c.cancelOps()
	c.timerMu.Lock()
	for _, t := range []*time.Timer{c.initT, c.expiryT, c.drainT} {
		if t != nil {
			t.Stop()
		}
	}
	c.initT, c.expiryT, c.drainT = nil, nil, nil
	c.timerMu.Unlock()
	if p := c.t.poller(); p != nil {
		p.forget(c)
	}
	_ = c.nc.Close()
	c.dropQueue()
	c.t.remove(c)
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
	c.wmu.Lock()
	busy := c.flushing
	c.wmu.Unlock()
	if busy {
		return // a write is in progress: the socket is busy, not idle
	}
	c.sendFrame(nil, opText, time.Second, msgPing)
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
