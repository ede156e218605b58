//go:build linux

package gqlws

import (
	"errors"
	"log/slog"
	"sync"
	"syscall"
	"time"
)

// poller is the process's one epoll instance. A socket with nothing to read
// is registered with it, one-shot, and has no goroutine: when the socket
// becomes readable the poller starts conn.serve, which reads what came and
// re-registers the socket once no partial frame is left. Level-triggered
// re-registration reports data that arrived in between at once.
//
// Sockets are known to the poller by a connection id (never by the file
// descriptor, whose number a closed socket's successor may reuse), and
// every epoll_ctl runs inside RawConn.Control, which keeps the descriptor
// from being closed meanwhile.
type poller struct {
	fd    int
	mu    sync.Mutex
	conns map[uint64]*conn
}

var (
	pollOnce sync.Once
	thePoll  *poller
)

// processPoller returns the process's poller, started on first use; nil if
// epoll is unavailable (sockets are then read by a goroutine each).
func processPoller() *poller {
	pollOnce.Do(func() {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			slog.Warn("gqlws: epoll unavailable: one reading goroutine per websocket", "err", err)
			return
		}
		thePoll = &poller{fd: fd, conns: map[uint64]*conn{}}
		go thePoll.run()
	})
	return thePoll
}

// watch registers c (again) for one readiness notification; false if it
// cannot be watched (closed, or epoll refused it). The caller holds c.rmu.
func (p *poller) watch(c *conn) bool {
	if c.raw == nil {
		return false
	}
	if !c.watched {
		p.mu.Lock()
		p.conns[c.id] = c
		p.mu.Unlock()
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: int32(uint32(c.id)), Pad: int32(uint32(c.id >> 32))}
	op := syscall.EPOLL_CTL_MOD
	if !c.watched {
		op = syscall.EPOLL_CTL_ADD
	}
	var err error
	if cerr := c.raw.Control(func(fd uintptr) { err = syscall.EpollCtl(p.fd, op, int(fd), &ev) }); cerr != nil || err != nil {
		if !c.watched {
			p.forget(c)
		}
		return false
	}
	c.watched = true
	if c.finished.Load() {
		p.forget(c) // finish may have forgotten c before it was added
	}
	return true
}

// forget drops c; closing its descriptor removes it from the epoll set.
func (p *poller) forget(c *conn) {
	p.mu.Lock()
	delete(p.conns, c.id)
	p.mu.Unlock()
}

func (p *poller) run() {
	events := make([]syscall.EpollEvent, 256)
	var ready []*conn
	for {
		n, err := syscall.EpollWait(p.fd, events, -1)
		if err != nil {
			if !errors.Is(err, syscall.EINTR) {
				slog.Error("gqlws: epoll_wait failed", "err", err)
				time.Sleep(10 * time.Millisecond)
			}
			continue
		}
		p.mu.Lock()
		for _, ev := range events[:n] {
			if c := p.conns[uint64(uint32(ev.Fd))|uint64(uint32(ev.Pad))<<32]; c != nil {
				ready = append(ready, c)
			}
		}
		p.mu.Unlock()
		for _, c := range ready {
			go c.serve(false)
		}
		clear(ready)
		ready = ready[:0]
	}
}
