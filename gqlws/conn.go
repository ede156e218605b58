package gqlws

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/99designs/gqlgen/graphql"
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

	// deflate is set when permessage-deflate was negotiated (deflate.go):
	// text messages of at least compressMin bytes go out compressed.
	deflate *deflateParams

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
	wdl      time.Time  // the write deadline last set (by the flusher: one at a time)
	wdone    bool       // the close frame is queued or the socket failed: queue nothing more

	mu        sync.Mutex
	ops       []*op
	opsClosed bool // the socket is closing: start no operation

	timerMu sync.Mutex
	initT   *time.Timer
	expiryT *time.Timer
	drainT  *time.Timer
	// onFinish undoes Config.OnAck's registration; called once the socket
	// has finished.
	onFinish func()

	// The reader's state: one reader at a time, serialised by rmu (which
	// also orders one reader's writes before the next reader's reads).
	rmu     sync.Mutex
	rbuf    *[]byte   // bytes of a partial frame; nil while none
	need    int       // bytes the partial frame at the start of rbuf takes
	asm     assembler // fragments, inflating, UTF-8
	watched bool      // registered with the poller
	tokens  float64   // inbound message bucket
	filled  int64
}

func newConn(t *Transport, nc net.Conn, exec graphql.GraphExecutor, ctx context.Context, deflate *deflateParams) *conn {
	now := time.Now().UnixNano()
	c := &conn{t: t, nc: nc, exec: exec, ctx: ctx, id: connIDs.Add(1), tokens: t.cfg.MessageBurst, filled: now, deflate: deflate}
	c.asm = assembler{limit: t.cfg.MaxMessageBytes, deflate: deflate != nil}
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
		f, n, need, code := parseFrame(b[off:], c.asm.frameLimit(b[off]))
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
	if f.rsv1 && f.op >= opClose {
		c.fail(closeProtocolError) // permessage-deflate never compresses control frames
		return false
	}
	switch f.op {
	case opText, opBinary, opContinuation:
		op, msg, code := c.asm.data(f)
		if code != 0 {
			c.fail(code)
			return false
		}
		if op != 0 {
			c.message(msg)
			c.asm.release()
		}
	case opPing:
		c.sendFrame(nil, opPong, time.Second, f.payload)
	case opPong:
	case opClose:
		code, fail := peerClose(f.payload)
		if fail != 0 {
			c.fail(fail)
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
	switch code {
	case closeTooBig:
		reason = "message too big"
	case closeInvalidData:
		reason = "invalid UTF-8 or compressed data"
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
	release := c.onFinish
	c.onFinish = nil
	c.timerMu.Unlock()
	if release != nil {
		release()
	}
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
