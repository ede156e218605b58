// Package gqlws serves GraphQL over websockets with the graphql-transport-ws
// protocol (github.com/enisdenjo/graphql-ws, PROTOCOL.md), as a gqlgen
// transport that drives gqlgen's executor. It speaks RFC 6455 itself.
//
// It is built to hold tens of thousands of mostly idle sockets. An idle
// socket has no goroutine of its own and no buffers: on Linux one epoll
// instance per process watches every idle socket, and a goroutine exists
// only while a socket has something to read (poll_linux.go; elsewhere each
// socket has a reading goroutine). Read and write buffers come from a pool
// and go back as soon as they are empty. Writes are queued and written by
// whichever goroutine finds no write in progress, so results produced
// during a write leave together in one system call (write.go). Timers serve
// the init timeout and token expiry, and one pinger serves all sockets of a
// Transport. What remains per idle subscription is what the operation
// itself holds (gqlgen's per-operation state) and the event stream behind
// it; a pushed subscription (below) holds no goroutine.
//
// Compression: a client that offers permessage-deflate (RFC 7692) gets it,
// without context takeover in either direction, so every message is
// compressed and inflated on its own with a pooled compressor or
// decompressor, and an idle socket holds neither (deflate.go). Messages of
// at least 1 KiB go out compressed (shorter ones gain too little for the
// CPU, see compressMin); a compressed message from the client is cut off
// once it inflates past MaxMessageBytes.
//
// # Pushed subscriptions: how an event reaches a socket
//
// A gqlgen subscription resolver returns a channel, and gqlgen's executor
// reads it by blocking. A resolver whose stream can say when a value is on
// the channel pushes instead, in three steps, all on the goroutine that
// dispatches the operation:
//
//  1. it asks the transport for the operation's Push (Transport.Push);
//  2. it opens its stream, which calls Push.Ready after each value it puts
//     on the channel and Push.Closed after closing it;
//  3. just before returning the channel it calls Push.Start with its
//     Stream, which the transport calls back as it reads.
//
// From then on the transport reads the channel only after a Ready, on a
// goroutine that exits when nothing is ready, so an idle subscription costs
// no goroutine. A resolver that never calls Start (it failed, or does not
// push) is read by a goroutine of its own that blocks on the channel.
//
// In this API the stream is chat's subscription, and the resolver
// (resolvers/stream.go) connects chat.Receiver to Push and chat's
// subscription to Stream.
//
// # Close codes
//
// The protocol's close codes, plus 1013 and 1001, and RFC 6455's 1002,
// 1007 and 1009 for framing errors:
//
//	4400  invalid message (bad JSON, unknown type, missing id)
//	4401  subscribe before connection_ack
//	4403  connection_init refused, or the credentials expired while open
//	4406  the client did not ask for the graphql-transport-ws subprotocol
//	4408  no connection_init within InitTimeout
//	4409  "Subscriber for <id> already exists"
//	4429  a second connection_init; too many subscriptions or messages
//	4500  internal error
//	1013  try again later: a subscription's event stream failed in a way a
//	      reconnect (resuming from the last cursor) fixes, or (when Init
//	      returns a CloseError saying so) the credentials cannot be checked now
//	1001  going away: server shutdown, or the peer stopped answering pings
//	1002  a frame broke RFC 6455 (unmasked, reserved bits, bad fragmentation,
//	      RSV1 without permessage-deflate or on a control frame or continuation)
//	1007  a text message (or a close frame's reason) that is not UTF-8, or a
//	      compressed message that does not inflate
//	1009  a message longer than MaxMessageBytes (after inflating)
package gqlws

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Subprotocol is the only websocket subprotocol served.
const Subprotocol = "graphql-transport-ws"

// Close codes sent by the server.
const (
	CloseGoingAway           = 1001
	CloseTryAgainLater       = 1013
	CloseBadRequest          = 4400
	CloseUnauthorized        = 4401
	CloseForbidden           = 4403
	CloseSubprotocol         = 4406
	CloseInitTimeout         = 4408
	CloseSubscriberExists    = 4409
	CloseTooManyRequests     = 4429
	CloseInternalServerError = 4500
)

// InitFunc authenticates a connection from its connection_init payload (nil
// when the client sent none). It returns the context operations on this
// socket run in, and when the credentials expire (zero: never); the socket
// is closed with 4403 then. An error refuses the connection with 4403, or
// with the code of a *CloseError it is or wraps.
type InitFunc func(ctx context.Context, payload map[string]any) (context.Context, time.Time, error)

// CloseError, returned by an InitFunc, refuses the connection with Code and
// Reason instead of 4403: 1013 (CloseTryAgainLater) tells the client that
// its credentials could not be checked now and that it should reconnect
// later with the same ones.
type CloseError struct {
	Code   int
	Reason string
}

// Error says how the socket is to be closed.
func (e *CloseError) Error() string { return "gqlws: close " + strconv.Itoa(e.Code) + ": " + e.Reason }

// StreamEnd says what to do when an operation's event stream failed. Either
// Errors is set (sent as an `error` message for that operation; the socket
// stays open) or CloseCode is (the socket is closed with it and Reason).
type StreamEnd struct {
	Errors    gqlerror.List
	CloseCode int
	Reason    string
}

// Config configures a Transport. Zero values are the documented defaults.
type Config struct {
	// Init authenticates connection_init. Default: accept everyone.
	Init InitFunc
	// CheckOrigin decides whether to accept the upgrade request's Origin;
	// a refusal answers 403. Default: no Origin header, or one whose host is
	// the request's Host.
	CheckOrigin func(r *http.Request) bool
	// InitTimeout is how long a socket may wait before connection_init
	// (default 10 s).
	InitTimeout time.Duration
	// PingInterval is how often the server pings; a peer that sent nothing
	// since the previous ping is dropped (default 20 s).
	PingInterval time.Duration
	// WriteTimeout bounds one write to the socket (default 10 s).
	WriteTimeout time.Duration
	// MaxMessageBytes caps one inbound message (default 64 KiB).
	MaxMessageBytes int64
	// MaxOperations caps the operations active at once on one socket
	// (default 100); one more closes the socket with 4429.
	MaxOperations int
	// MessageRate and MessageBurst bound inbound messages per socket, as a
	// token bucket (default 20/s, burst 100); exceeding it closes with 4429.
	MessageRate  float64
	MessageBurst float64
	// DisableCompression turns permessage-deflate (RFC 7692) off. By
	// default a client that offers it gets it, without context takeover
	// either way: messages of at least 1 KiB go out compressed, and the
	// compressor and decompressor are pooled, so an idle socket holds
	// neither (deflate.go).
	DisableCompression bool
	// ReadBufferSize is ignored: reads use pooled 4 KiB buffers, held only
	// while a socket has a partial frame. Kept for compatibility.
	ReadBufferSize int
	// OnReuse, when set, is called for each result sent from a kept
	// rendering (see Push.Ready; extensions and field middleware that
	// observe results do not see those), with the operation's context and
	// the value taken off the subscription's channel in its place.
	OnReuse func(ctx context.Context, value any)
	// OnAck, when set, is called once a connection_init was accepted,
	// with the context Init returned and a function that closes the
	// socket with a code and a reason (safe to call from any goroutine,
	// any number of times). The function OnAck returns is called once
	// when the socket has finished. The server uses it to close the
	// sockets of a session that ended (4403).
	OnAck func(ctx context.Context, close func(code int, reason string)) (release func())
	// OnStreamEnd maps a failed stream's reason to what the client is told.
	// Default: close with 4500.
	OnStreamEnd func(err error) StreamEnd
	// Logger receives connection-level problems (default slog.Default()).
	Logger *slog.Logger
}

// Stats are a Transport's live counts.
type Stats struct {
	// Connections is the number of open sockets.
	Connections int64
	// Operations is the number of operations running (subscriptions and
	// in-flight single-result operations).
	Operations int64
	// Messages is the number of next messages sent since start.
	Messages int64
	// Reused is how many of them were sent from a kept rendering instead
	// of an execution (see Push.Ready).
	Reused int64
	// Closes counts sockets closed by the server, by close code.
	Closes map[int]int64
}

// Transport is a gqlgen transport for graphql-transport-ws.
type Transport struct {
	cfg    Config
	noPoll bool // tests: read every socket on a goroutine of its own

	mu    sync.Mutex
	conns map[*conn]struct{}
	once  sync.Once
	stop  chan struct{}
	down  bool

	nConns, nOps, nMsgs, nReused atomic.Int64
	renders                      renderCache
	dispatching                  sync.Map // *graphql.OperationContext -> *op, while DispatchOperation runs
	closeMu                      sync.Mutex
	closes                       map[int]int64
}

var _ graphql.Transport = (*Transport)(nil)

// New returns a Transport. Its pinger starts with the first socket.
func New(cfg Config) *Transport {
	if cfg.Init == nil {
		cfg.Init = func(ctx context.Context, _ map[string]any) (context.Context, time.Time, error) {
			return ctx, time.Time{}, nil
		}
	}
	if cfg.CheckOrigin == nil {
		cfg.CheckOrigin = SameHost
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.InitTimeout, 10*time.Second)
	def(&cfg.PingInterval, 20*time.Second)
	def(&cfg.WriteTimeout, 10*time.Second)
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 64 << 10
	}
	if cfg.MaxOperations <= 0 {
		cfg.MaxOperations = 100
	}
	if cfg.MessageRate <= 0 {
		cfg.MessageRate = 20
	}
	if cfg.MessageBurst <= 0 {
		cfg.MessageBurst = 100
	}
	if cfg.OnStreamEnd == nil {
		cfg.OnStreamEnd = func(error) StreamEnd {
			return StreamEnd{CloseCode: CloseInternalServerError, Reason: "Internal server error"}
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Transport{cfg: cfg, conns: map[*conn]struct{}{}, stop: make(chan struct{}), closes: map[int]int64{}}
}

// poller returns the process's poller, or nil when sockets are read by a
// goroutine each.
func (t *Transport) poller() *poller {
	if t.noPoll {
		return nil
	}
	return processPoller()
}

// Supports reports whether r asks for a websocket upgrade.
func (t *Transport) Supports(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// Do upgrades the request and starts watching the socket. It returns at
// once, so that the HTTP server's per-request state (its buffers, the
// request, a stack grown by the middleware) is released: an idle socket
// keeps only its own state. The socket's context keeps the request
// context's values but not its cancellation; Shutdown closes every socket.
// The subprotocol is checked after the upgrade, so that a client that did
// not ask for it learns why (4406) rather than seeing a failed handshake.
func (t *Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	nc, pre, proto, deflate, err := upgrade(w, r, t.cfg.CheckOrigin, !t.cfg.DisableCompression)
	if err != nil {
		return // the handshake was refused with an HTTP error
	}
	c := newConn(t, nc, exec, context.WithoutCancel(r.Context()), deflate)
	if proto != Subprotocol {
		c.close(CloseSubprotocol, "Subprotocol not acceptable")
	} else if !t.add(c) {
		c.close(CloseGoingAway, "server shutting down")
	}
	c.start(pre)
}

// Shutdown closes every socket with 1001 and stops the pinger. New sockets
// are closed at once.
func (t *Transport) Shutdown() {
	t.mu.Lock()
	if t.down {
		t.mu.Unlock()
		return
	}
	t.down = true
	close(t.stop)
	conns := make([]*conn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	for _, c := range conns {
		c.close(CloseGoingAway, "server shutting down")
	}
}

// Stats returns the live counts.
func (t *Transport) Stats() Stats {
	s := Stats{Connections: t.nConns.Load(), Operations: t.nOps.Load(), Messages: t.nMsgs.Load(), Reused: t.nReused.Load(), Closes: map[int]int64{}}
	t.closeMu.Lock()
	for k, v := range t.closes {
		s.Closes[k] = v
	}
	t.closeMu.Unlock()
	return s
}

func (t *Transport) add(c *conn) bool {
	t.once.Do(func() { go t.pinger() })
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.down {
		return false
	}
	t.conns[c] = struct{}{}
	t.nConns.Add(1)
	return true
}

func (t *Transport) remove(c *conn) {
	t.mu.Lock()
	if _, ok := t.conns[c]; ok {
		delete(t.conns, c)
		t.nConns.Add(-1)
	}
	t.mu.Unlock()
}

func (t *Transport) countClose(code int) {
	t.closeMu.Lock()
	t.closes[code]++
	t.closeMu.Unlock()
}

// pinger is the one goroutine that keeps every socket alive: each
// PingInterval it drops the sockets that sent nothing since the previous
// ping and pings the others. A ping that cannot be written within a second
// (the peer stopped reading) drops the socket too.
func (t *Transport) pinger() {
	tick := time.NewTicker(t.cfg.PingInterval)
	defer tick.Stop()
	var batch []*conn
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		batch = batch[:0]
		t.mu.Lock()
		for c := range t.conns {
			batch = append(batch, c)
		}
		t.mu.Unlock()
		now := time.Now().UnixNano()
		for _, c := range batch {
			c.heartbeat(now)
		}
		clear(batch)
	}
}
