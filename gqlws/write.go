package gqlws

import (
	"sync"
	"time"
)

// Writing: every frame is appended to the socket's queue, and one goroutine
// at a time (the flusher: whichever sender found no write in progress)
// writes the whole queue with one write(2). Frames queued by other senders
// while a write is in progress (results of other operations, pongs, pings)
// leave together with the next write rather than one system call each.
// The flusher is never a goroutine started for the purpose: at moderate
// load, waking another thread for every write cost more than the write. A
// sender of results waits while maxQueued bytes are already queued, so a
// peer that stops reading slows its operations down (and the event log
// eventually drops them as slow consumers) instead of growing the queue.
// The queue's buffer comes from a pool and goes back once written: an idle
// socket holds no write buffer.

// maxQueued is how many bytes may wait for one socket before producers of
// results wait.
const maxQueued = 32 << 10

// bufSize is the size of pooled read and write buffers; larger ones are
// made as needed and not pooled beyond maxPooled.
const (
	bufSize   = 4 << 10
	maxPooled = 64 << 10
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, bufSize); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooled {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// compressMin is the shortest message sent compressed when the socket
// negotiated permessage-deflate. Without context takeover a message is
// compressed on its own, and compress/flate spends about as long on a
// 300-byte message as on a 5 KB one (building its Huffman codes), while
// small messages shrink little: a typical event (350-700 bytes) by 27-48 %,
// for two to four times the server's CPU per delivered event; 1.2 KB by
// 63 %, 5.6 KB by 85 % (docs/BENCHMARKS.md, "Websocket compression"). So events
// go out as they are, and pages of history, search results and long
// messages compressed.
const compressMin = 1 << 10

// send queues a text message (the concatenation of parts) and, unless
// another goroutine is already writing the queue, writes it before
// returning. Nothing is sent once the socket is closing, nor for an
// operation the client completed.
func (c *conn) send(o *op, parts ...[]byte) {
	c.sendFrame(o, opText, c.t.cfg.WriteTimeout, parts...)
}

// sendFrame is send for any opcode, with the write deadline to use.
func (c *conn) sendFrame(o *op, opcode byte, timeout time.Duration, parts ...[]byte) {
	if c.enqueueMessage(o, opcode, false, parts) {
		c.flush(timeout)
	}
}

// sendResult queues a result, first waiting while the queue is full, and
// writes it unless another goroutine is writing the queue.
func (c *conn) sendResult(o *op, parts ...[]byte) {
	if c.enqueueMessage(o, opText, true, parts) {
		c.flush(c.t.cfg.WriteTimeout)
	}
}

// enqueueMessage is enqueue for a message the socket may compress: a text
// message of at least compressMin bytes, on a socket that negotiated
// permessage-deflate, is compressed first (outside the socket's lock, into
// a pooled buffer), unless it is longer than the window the client allows.
func (c *conn) enqueueMessage(o *op, opcode byte, wait bool, parts [][]byte) bool {
	if c.deflate == nil || opcode != opText {
		return c.enqueue(o, opcode, wait, false, parts...)
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n < compressMin || n > c.deflate.maxWindow {
		return c.enqueue(o, opcode, wait, false, parts...)
	}
	buf := getBuf()
	*buf = appendDeflate(*buf, parts...)
	flush := c.enqueue(o, opcode, wait, true, *buf)
	putBuf(buf)
	return flush
}

// enqueue appends one frame (with RSV1 set when compressed) and reports
// whether the caller must flush (no flusher is running; the caller is the
// flusher now). With wait it first waits while the queue is full.
func (c *conn) enqueue(o *op, opcode byte, wait, compressed bool, parts ...[]byte) bool {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for wait && c.flushing && c.wq != nil && len(*c.wq) >= maxQueued && !c.wdone && !c.closing.Load() && (o == nil || !o.stopped) {
		if c.wcond == nil {
			c.wcond = sync.NewCond(&c.wmu)
		}
		c.wcond.Wait()
	}
	if c.wdone || c.closing.Load() || (o != nil && o.stopped) {
		return false
	}
	if c.wq == nil {
		c.wq = getBuf()
	}
	b := appendHeaderRSV(*c.wq, opcode, compressed, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	*c.wq = b
	if c.flushing {
		return false
	}
	c.flushing = true
	return true
}

// queueClose queues the close frame, after which nothing more is queued,
// and writes it unless a flusher is running.
func (c *conn) queueClose(payload []byte) {
	c.wmu.Lock()
	if c.wdone {
		c.wmu.Unlock()
		return
	}
	if c.wq == nil {
		c.wq = getBuf()
	}
	*c.wq = append(appendHeader(*c.wq, opClose, len(payload)), payload...)
	c.wdone = true
	start := !c.flushing
	c.flushing = true
	if c.wcond != nil {
		c.wcond.Broadcast()
	}
	c.wmu.Unlock()
	if start {
		c.flush(time.Second)
	}
}

// flush writes the queue until it is empty. A failed write (the peer
// stopped reading within the deadline, or the connection broke) drops the
// socket.
func (c *conn) flush(timeout time.Duration) {
	c.wmu.Lock()
	for c.wq != nil && len(*c.wq) > 0 && !c.finished.Load() {
		q := c.wq
		c.wq = nil
		c.wmu.Unlock()
		c.writeDeadline(timeout)
		_, err := c.nc.Write(*q)
		putBuf(q)
		c.wmu.Lock()
		if c.wcond != nil {
			c.wcond.Broadcast()
		}
		if err != nil {
			c.flushing = false
			c.wmu.Unlock()
			c.abort()
			return
		}
	}
	c.flushing = false
	c.wmu.Unlock()
}

// writeDeadline gives the next write between half and all of timeout. It
// keeps the deadline already set while that leaves at least half: setting
// one for every frame (a timer moved in the runtime's poller) was 2 % of
// the API's CPU delivering to a group of 300 at 150 messages a second.
// Called by the flusher only.
func (c *conn) writeDeadline(timeout time.Duration) {
	now := time.Now()
	if left := c.wdl.Sub(now); left >= timeout/2 && left <= timeout {
		return
	}
	c.wdl = now.Add(timeout)
	_ = c.nc.SetWriteDeadline(c.wdl)
}

// dropQueue discards what was not written; nothing more is queued.
func (c *conn) dropQueue() {
	c.wmu.Lock()
	c.wdone = true
	if c.wq != nil {
		putBuf(c.wq)
		c.wq = nil
	}
	if c.wcond != nil {
		c.wcond.Broadcast()
	}
	c.wmu.Unlock()
}
