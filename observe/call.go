package observe

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"messenger/blob"
	"messenger/realtime"
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
