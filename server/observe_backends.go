package server

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"messenger/blob"
	"messenger/presence"
	"messenger/realtime"
	"messenger/search"
	"messenger/storage"
)

// call is one backend call being observed.
type call struct {
	o           *Observer
	backend, op string
	start       time.Time
	span        trace.Span // nil outside a traced request
}

var (
	attrBackend = attribute.Key("messenger.backend")
	attrOp      = attribute.Key("messenger.op")
)

// begin starts observing a call. Inside a traced operation (a recording
// span in ctx) the call becomes a child span; elsewhere (background work,
// tracing off) it only costs the clock read, so no call makes a trace of
// its own.
func (o *Observer) begin(ctx context.Context, backend, op string) (context.Context, call) {
	c := call{o: o, backend: backend, op: op, start: time.Now()}
	if trace.SpanFromContext(ctx).IsRecording() {
		ctx, c.span = o.tracer.Start(ctx, backend+" "+op, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attrBackend.String(backend), attrOp.String(op)))
	}
	return ctx, c
}

// end records the call's latency and, when err is a failure of the
// backend, an error; it returns the latency.
func (c call) end(err error) time.Duration {
	d := time.Since(c.start)
	c.o.backendTime.WithLabelValues(c.backend, c.op).Observe(d.Seconds())
	failed := backendFailed(err)
	if failed {
		c.o.backendErrs.WithLabelValues(c.backend, c.op).Inc()
	}
	if c.span != nil {
		if failed {
			c.span.SetStatus(codes.Error, err.Error())
		}
		c.span.End()
	}
	return d
}

// backendFailed tells failures of a backend from answers: not found, a
// refused input and the caller's own cancellation are not failures.
func backendFailed(err error) bool {
	switch {
	case err == nil,
		errors.Is(err, context.Canceled),
		errors.Is(err, redis.Nil),
		errors.Is(err, storage.ErrNotFound),
		errors.Is(err, blob.ErrNotFound), errors.Is(err, blob.ErrTooLarge), errors.Is(err, blob.ErrBadKey),
		errors.Is(err, realtime.ErrBadCursor), errors.Is(err, realtime.ErrCursorExpired):
		return false
	}
	return true
}

// Log wraps an event log: appends, signals and subscription starts are
// timed (backend "event_log"), and appended events counted by type.
func (o *Observer) Log(l realtime.Log) realtime.Log { return observedLog{Log: l, o: o} }

type observedLog struct {
	realtime.Log
	o *Observer
}

var _ realtime.Log = observedLog{}

func (l observedLog) Append(ctx context.Context, userIDs []string, e realtime.Event) error {
	ctx, c := l.o.begin(ctx, "event_log", "append")
	err := l.Log.Append(ctx, userIDs, e)
	c.end(err)
	if err == nil {
		l.o.appended.WithLabelValues(eventLabel(e.Type)).Add(float64(len(userIDs)))
	}
	return err
}

func (l observedLog) Signal(ctx context.Context, userIDs []string, e realtime.Event) error {
	ctx, c := l.o.begin(ctx, "event_log", "signal")
	err := l.Log.Signal(ctx, userIDs, e)
	c.end(err)
	return err
}

func (l observedLog) Subscribe(ctx context.Context, userID, after string, sink realtime.Sink) (func(), error) {
	// The stream outlives the span: it keeps the caller's ctx.
	_, c := l.o.begin(ctx, "event_log", "subscribe")
	resume, err := l.Log.Subscribe(ctx, userID, after, sink)
	c.end(err)
	return resume, err
}

// eventLabel bounds the type label: event types are names the code
// chose, but a label must never grow with data.
func eventLabel(t string) string {
	if t == "" || len(t) > 40 {
		return "other"
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return "other"
		}
	}
	return t
}

// Presence wraps a presence tracker (backend "presence").
func (o *Observer) Presence(t presence.Tracker) presence.Tracker {
	return observedPresence{Tracker: t, o: o}
}

type observedPresence struct {
	presence.Tracker
	o *Observer
}

var _ presence.Tracker = observedPresence{}

func (p observedPresence) Connect(ctx context.Context, userID string) (string, bool, error) {
	ctx, c := p.o.begin(ctx, "presence", "connect")
	h, first, err := p.Tracker.Connect(ctx, userID)
	c.end(err)
	return h, first, err
}

func (p observedPresence) Disconnect(ctx context.Context, userID, handle string, at time.Time) (bool, error) {
	ctx, c := p.o.begin(ctx, "presence", "disconnect")
	last, err := p.Tracker.Disconnect(ctx, userID, handle, at)
	c.end(err)
	return last, err
}

func (p observedPresence) State(ctx context.Context, userID string) (bool, *time.Time, error) {
	ctx, c := p.o.begin(ctx, "presence", "state")
	online, seen, err := p.Tracker.State(ctx, userID)
	c.end(err)
	return online, seen, err
}

// Index wraps a search index: writes, watermark reads and searches are
// timed (backend "search"); rebuilds pass through untimed.
func (o *Observer) Index(idx search.Rebuilder) search.Rebuilder {
	return observedIndex{Rebuilder: idx, o: o}
}

type observedIndex struct {
	search.Rebuilder
	o *Observer
}

var _ search.Rebuilder = observedIndex{}

func (x observedIndex) Apply(ctx context.Context, b search.Batch) error {
	ctx, c := x.o.begin(ctx, "search", "apply")
	err := x.Rebuilder.Apply(ctx, b)
	c.end(err)
	return err
}

func (x observedIndex) Watermarks(ctx context.Context, conversationIDs []string) (map[string]int64, error) {
	ctx, c := x.o.begin(ctx, "search", "watermarks")
	res, err := x.Rebuilder.Watermarks(ctx, conversationIDs)
	c.end(err)
	return res, err
}

func (x observedIndex) WatermarkedConversations(ctx context.Context, afterID string, limit int) ([]string, error) {
	ctx, c := x.o.begin(ctx, "search", "watermarked_conversations")
	res, err := x.Rebuilder.WatermarkedConversations(ctx, afterID, limit)
	c.end(err)
	return res, err
}

func (x observedIndex) SearchMessages(ctx context.Context, q search.MessageQuery) (search.MessagePage, error) {
	ctx, c := x.o.begin(ctx, "search", "search_messages")
	res, err := x.Rebuilder.SearchMessages(ctx, q)
	c.end(err)
	return res, err
}

func (x observedIndex) SearchUsers(ctx context.Context, q search.UserQuery) (search.UserPage, error) {
	ctx, c := x.o.begin(ctx, "search", "search_users")
	res, err := x.Rebuilder.SearchUsers(ctx, q)
	c.end(err)
	return res, err
}

// Blobs wraps a blob store (backend "blob"). Get is timed until the
// object is open, not while the caller reads it.
func (o *Observer) Blobs(s blob.Store) blob.Store { return observedBlobs{Store: s, o: o} }

type observedBlobs struct {
	blob.Store
	o *Observer
}

var _ blob.Store = observedBlobs{}

func (b observedBlobs) Put(ctx context.Context, key string, r io.Reader, max int64, contentType string) (int64, error) {
	ctx, c := b.o.begin(ctx, "blob", "put")
	n, err := b.Store.Put(ctx, key, r, max, contentType)
	c.end(err)
	return n, err
}

func (b observedBlobs) Get(ctx context.Context, key string) (io.ReadCloser, blob.Info, error) {
	ctx, c := b.o.begin(ctx, "blob", "get")
	rc, info, err := b.Store.Get(ctx, key)
	c.end(err)
	return rc, info, err
}

func (b observedBlobs) Stat(ctx context.Context, key string) (blob.Info, error) {
	ctx, c := b.o.begin(ctx, "blob", "stat")
	info, err := b.Store.Stat(ctx, key)
	c.end(err)
	return info, err
}

func (b observedBlobs) Delete(ctx context.Context, key string) error {
	ctx, c := b.o.begin(ctx, "blob", "delete")
	err := b.Store.Delete(ctx, key)
	c.end(err)
	return err
}

func (b observedBlobs) PresignGet(ctx context.Context, key string, ttl time.Duration, opts blob.GetOptions) (string, error) {
	ctx, c := b.o.begin(ctx, "blob", "presign_get")
	u, err := b.Store.PresignGet(ctx, key, ttl, opts)
	c.end(err)
	return u, err
}

func (b observedBlobs) PresignPost(ctx context.Context, key string, max int64, ttl time.Duration) (blob.PostForm, error) {
	ctx, c := b.o.begin(ctx, "blob", "presign_post")
	f, err := b.Store.PresignPost(ctx, key, max, ttl)
	c.end(err)
	return f, err
}

// RedisHook times a go-redis client's commands (backend "redis", op the
// command's name, "pipeline" for a pipeline or transaction, "dial" for a
// new connection): add it with client.AddHook.
func (o *Observer) RedisHook() redis.Hook { return redisHook{o: o} }

type redisHook struct{ o *Observer }

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, c := h.o.begin(ctx, "redis", "dial")
		conn, err := next(ctx, network, addr)
		c.end(err)
		return conn, err
	}
}

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		op := commandLabel(cmd.Name())
		ctx, c := h.o.begin(ctx, "redis", op)
		if c.span != nil {
			c.span.SetAttributes(semconv.DBSystemNameRedis, semconv.DBOperationName(op))
		}
		err := next(ctx, cmd)
		c.end(tolerated(op, err))
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		op := "pipeline"
		if len(cmds) > 0 && !slices.ContainsFunc(cmds, func(c redis.Cmder) bool { return !handshake(c.Name()) }) {
			op = "handshake"
		}
		ctx, c := h.o.begin(ctx, "redis", op)
		if c.span != nil {
			c.span.SetAttributes(semconv.DBSystemNameRedis, attribute.Int("db.operation.batch.size", len(cmds)))
		}
		err := next(ctx, cmds)
		if op == "handshake" {
			err = tolerated("client", err)
		}
		c.end(err)
		return err
	}
}

// handshake names the commands go-redis sends on a new connection.
func handshake(name string) bool {
	switch strings.ToLower(name) {
	case "hello", "client", "auth", "select":
		return true
	}
	return false
}

// tolerated drops the error Redis answers to a handshake command it does
// not know (CLIENT SETINFO before Redis 7.2, HELLO on old servers), and
// NOSCRIPT to an EVALSHA of a script it has not cached yet: go-redis
// carries on without the first and sends the script with EVAL after the
// second, so neither is a failure.
func tolerated(op string, err error) error {
	var reply redis.Error
	switch {
	case handshake(op) && errors.As(err, &reply):
		return nil
	case op == "evalsha" && errors.As(err, &reply) && strings.HasPrefix(reply.Error(), "NOSCRIPT"):
		return nil
	}
	return err
}

// commandLabel bounds the op label: command names are chosen by the
// code, but anything odd becomes "other".
func commandLabel(name string) string {
	name = strings.ToLower(name)
	if name == "" || len(name) > 24 {
		return "other"
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r == '_' || r == '.') {
			return "other"
		}
	}
	return name
}
