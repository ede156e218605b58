package observe

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/trace"

	"messenger/chat"
	"messenger/storage"
)

// GraphQLConfig is what the GraphQL hooks need to know of the server that
// installs them. Zero values are the documented defaults.
type GraphQLConfig struct {
	// RequestID returns the id of the request ctx belongs to ("" for
	// none), set on operations' spans (default: no request id on spans).
	RequestID func(ctx context.Context) string
	// ErrorCode is the extensions.code the server's error presenter gives
	// err, set on the span of a subscription refused as it started
	// (default: INTERNAL for every error).
	ErrorCode func(err error) string
}

// GraphQL counts, times and traces the operations of one gqlgen handler
// into its Observer. Install its parts in this order: Tracer first (its
// span covers the other extensions), then Responses with AroundResponses,
// Fields with AroundFields, and Reused as the websocket transport's
// OnReuse.
type GraphQL struct {
	o   *Observer
	cfg GraphQLConfig
}

// GraphQL returns the hooks that record a GraphQL handler's operations.
func (o *Observer) GraphQL(cfg GraphQLConfig) *GraphQL {
	if cfg.RequestID == nil {
		cfg.RequestID = func(context.Context) string { return "" }
	}
	if cfg.ErrorCode == nil {
		cfg.ErrorCode = func(error) string { return "INTERNAL" }
	}
	return &GraphQL{o: o, cfg: cfg}
}

// responseCode is a response's result code: OK, or its first error's code.
func responseCode(resp *graphql.Response) string {
	if len(resp.Errors) == 0 {
		return "OK"
	}
	if c, ok := resp.Errors[0].Extensions["code"].(string); ok {
		return c
	}
	return "ERROR"
}

// eventTypeKey marks a subscription event's response; Fields notes
// in it the GraphQL type of the event being encoded.
type eventTypeKey struct{}

type eventType struct{ name atomic.Pointer[string] }

// Responses counts every response (refusals before execution too),
// times queries and mutations, and counts events delivered by type.
func (g *GraphQL) Responses(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	var rc *graphql.OperationContext
	if graphql.HasOperationContext(ctx) {
		rc = graphql.GetOperationContext(ctx)
	}
	var et *eventType
	if rc != nil && rc.Operation != nil && rc.Operation.Operation == ast.Subscription {
		et = &eventType{}
		ctx = context.WithValue(ctx, eventTypeKey{}, et)
	}
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	code := responseCode(resp)
	typ, field := "unknown", ""
	var start time.Time
	if rc != nil {
		start = rc.Stats.OperationStart
		if rc.Operation != nil {
			typ = string(rc.Operation.Operation)
			for _, sel := range rc.Operation.SelectionSet {
				if f, ok := sel.(*ast.Field); ok {
					field = f.Name
					break
				}
			}
		}
	}
	if typ == string(ast.Subscription) && resp.Data != nil {
		g.o.events.WithLabelValues(code).Inc()
		name := "unknown"
		if p := et.name.Load(); p != nil {
			name = *p
		}
		g.o.delivered.WithLabelValues(name).Inc()
		return resp
	}
	g.o.requests.WithLabelValues(typ, field, code).Inc()
	if !start.IsZero() && typ != string(ast.Subscription) {
		g.o.duration.WithLabelValues(typ, field).Observe(time.Since(start).Seconds())
	}
	return resp
}

// Reused counts an event the websocket transport sent from a rendering it
// kept (Responses and Fields do not see those), as they
// would have: one event delivered, and for a message its send-to-deliver
// time.
func (g *GraphQL) Reused(_ context.Context, key any) {
	e, ok := key.(chat.Event)
	if !ok {
		return
	}
	g.o.events.WithLabelValues("OK").Inc()
	g.o.delivered.WithLabelValues(eventLabel(e.EventType())).Inc()
	if m, ok := e.(*chat.MessageAdded); ok {
		g.o.messageDelivered(m.Message)
	}
}

// messageDelivered records a message's send-to-deliver time.
func (o *Observer) messageDelivered(msg *storage.Message) {
	if msg != nil && !msg.SentAt.IsZero() {
		o.delivery.Observe(time.Since(msg.SentAt).Seconds())
	}
}

// Fields times send to deliver on MessageAdded.message, notes the
// type of each subscription event, and records why a subscription was
// refused as it started on its span.
func (g *GraphQL) Fields(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc != nil && fc.Parent == nil {
		// Only an event's own fields have no parent field (root fields
		// have their operation type's): the first one names the event.
		if et, ok := ctx.Value(eventTypeKey{}).(*eventType); ok {
			et.name.CompareAndSwap(nil, &fc.Object)
		}
	}
	res, err := next(ctx)
	if fc == nil {
		return res, err
	}
	if fc.Object == "MessageAdded" && fc.Field.Name == "message" {
		if msg, ok := res.(*storage.Message); ok {
			g.o.messageDelivered(msg)
		}
	}
	if err != nil && fc.Object == "Subscription" {
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			span.SetAttributes(attrResultCode.String(g.cfg.ErrorCode(err)))
		}
	}
	return res, err
}
