package observe

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Tracer returns the gqlgen extension that traces operations (see
// operationTracer); use it before every other extension.
func (g *GraphQL) Tracer() graphql.HandlerExtension {
	return operationTracer{tracer: g.o.tracer, requestID: g.cfg.RequestID}
}

// Span attributes of GraphQL operations besides the semantic conventions'.
const (
	attrResultCode = attribute.Key("messenger.result_code")
	attrRequestID  = attribute.Key("messenger.request_id")
)

// operationTracer is the gqlgen extension that makes one span per GraphQL
// operation, named "<type> <operation name>" ("graphql" for a request
// refused before its document was understood), with the operation type,
// result code and request id as attributes. A query or mutation's span
// lasts until its response is complete, a subscription's until it has
// started (an event stream lasts hours: its events get no span); a refusal
// before execution gets a span too. Inside these spans the backend calls
// become child spans.
type operationTracer struct {
	tracer    trace.Tracer
	requestID func(context.Context) string
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = operationTracer{}

func (operationTracer) ExtensionName() string                   { return "OperationTracer" }
func (operationTracer) Validate(graphql.ExecutableSchema) error { return nil }

// subscriptionTracedKey marks the responses of a subscription whose start
// was traced: its events.
type subscriptionTracedKey struct{}

func (t operationTracer) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	rc := graphql.GetOperationContext(ctx)
	if rc.Operation == nil || rc.Operation.Operation != ast.Subscription {
		return next(ctx) // traced as its response is made
	}
	ctx, span := t.start(ctx, rc)
	span.SetAttributes(attrResultCode.String("OK")) // Fields overwrites it on a refusal
	h := next(context.WithValue(ctx, subscriptionTracedKey{}, true))
	span.End()
	return h
}

func (t operationTracer) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if ctx.Value(subscriptionTracedKey{}) != nil || !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	ctx, span := t.start(ctx, graphql.GetOperationContext(ctx))
	defer span.End()
	resp := next(ctx)
	if resp != nil && span.IsRecording() {
		code := responseCode(resp)
		span.SetAttributes(attrResultCode.String(code))
		if code == "INTERNAL" || code == "UNAVAILABLE" {
			span.SetStatus(codes.Error, code)
		}
	}
	return resp
}

func (t operationTracer) start(ctx context.Context, rc *graphql.OperationContext) (context.Context, trace.Span) {
	name, typ, opName := "graphql", "", ""
	if op := rc.Operation; op != nil {
		typ, opName = string(op.Operation), op.Name
		name = typ
		if opName != "" {
			name += " " + opName
		}
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}
	if !rc.Stats.OperationStart.IsZero() {
		opts = append(opts, trace.WithTimestamp(rc.Stats.OperationStart))
	}
	ctx, span := t.tracer.Start(ctx, name, opts...)
	if span.IsRecording() {
		attrs := make([]attribute.KeyValue, 0, 3)
		if typ != "" {
			attrs = append(attrs, semconv.GraphQLOperationTypeKey.String(typ))
		}
		if opName != "" {
			attrs = append(attrs, semconv.GraphQLOperationName(opName))
		}
		if id := t.requestID(ctx); id != "" {
			attrs = append(attrs, attrRequestID.String(id))
		}
		span.SetAttributes(attrs...)
	}
	return ctx, span
}
