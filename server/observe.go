package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"messenger/chat"
	"messenger/gqlws"
	"messenger/storage"
)

type requestInfoKey struct{}

// requestInfo is what the API knows of a request before GraphQL runs.
type requestInfo struct {
	id string
	ip string
}

// withRequestInfo gives every request an id (the client's X-Request-Id
// when it is sane, else a new one), echoed in the response, put in error
// extensions as requestId and in log lines; and the client's IP (from
// ipHeader when set, for a trusted proxy in front). It also continues the
// caller's trace (W3C traceparent) when tracing is on.
func withRequestInfo(ipHeader string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneID(id) {
			id = newID()
		}
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		if ipHeader != "" {
			if h := r.Header.Get(ipHeader); h != "" {
				ip, _, _ = strings.Cut(h, ",")
				ip = strings.TrimSpace(ip)
			}
		}
		// Refusals written before GraphQL runs read the id back from this
		// header (see writeRefusal), so it is set before anything else.
		w.Header().Set("X-Request-Id", id)
		// With tracing off the global propagator is a no-op.
		ctx := otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, requestInfoKey{}, requestInfo{id: id, ip: ip})))
	})
}

func saneID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// requestID is the id of the request ctx belongs to ("" outside one).
func requestID(ctx context.Context) string {
	ri, _ := ctx.Value(requestInfoKey{}).(requestInfo)
	return ri.id
}

func clientIP(ctx context.Context) string {
	ri, _ := ctx.Value(requestInfoKey{}).(requestInfo)
	return ri.ip
}

// Observer holds the API's Prometheus series and times its backends'
// calls (see observe_backends.go). Wrap the backends with one Observer
// before building the chat service and hand the same Observer to New in
// Config.Observer: /metrics then shows them all. One Observer serves one
// Handler. Spans go to OpenTelemetry's global tracer provider (a no-op
// unless package tracing started one).
type Observer struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	events      *prometheus.CounterVec
	delivered   *prometheus.CounterVec
	appended    *prometheus.CounterVec
	delivery    prometheus.Histogram
	batches     *prometheus.HistogramVec
	batchTime   *prometheus.HistogramVec
	backendTime *prometheus.HistogramVec
	backendErrs *prometheus.CounterVec
	tracer      trace.Tracer
	watched     atomic.Bool
}

// NewObserver returns an Observer with its series registered (all zero).
func NewObserver() *Observer {
	o := &Observer{reg: prometheus.NewRegistry(), tracer: otel.Tracer("messenger/server")}
	o.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "messenger_graphql_requests_total",
		Help: "GraphQL operations (queries and mutations, and subscription starts) by type, root field and result code (OK or the first error's code).",
	}, []string{"type", "field", "code"})
	o.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "messenger_graphql_request_duration_seconds",
		Help:    "Time from receiving a query or mutation to its response.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"type", "field"})
	o.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "messenger_subscription_events_total",
		Help: "Subscription events sent to clients, by result code (OK or the first error's code).",
	}, []string{"code"})
	o.delivered = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "messenger_events_delivered_total",
		Help: "Events sent to subscribers, by GraphQL event type (unknown when the client selected no field of it but __typename).",
	}, []string{"type"})
	o.appended = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "messenger_events_appended_total",
		Help: "Events appended to users' event logs (one per recipient), by event type.",
	}, []string{"type"})
	o.delivery = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "messenger_message_delivery_seconds",
		Help:    "Time from a message's sentAt to its MessageAdded event being encoded for a subscriber (send to deliver).",
		Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5},
	})
	o.batches = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "messenger_dataloader_batch_size",
		Help:    "Keys per dataloader batch, by loader.",
		Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500},
	}, []string{"loader"})
	o.batchTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "messenger_storage_batch_duration_seconds",
		Help:    "Latency of the store's batched reads made by the dataloaders, by loader.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	}, []string{"loader"})
	o.backendTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "messenger_backend_call_duration_seconds",
		Help:    "Latency of calls to a backend (storage, event_log, presence, search, blob, redis), by backend and operation.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"backend", "op"})
	o.backendErrs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "messenger_backend_call_errors_total",
		Help: "Failed backend calls (not-found and cancelled calls excluded), by backend and operation.",
	}, []string{"backend", "op"})
	o.reg.MustRegister(o.requests, o.duration, o.events, o.delivered, o.appended, o.delivery, o.batches, o.batchTime,
		o.backendTime, o.backendErrs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return o
}

// watchWebsockets exports ws's gauges and counters; once per Observer.
func (o *Observer) watchWebsockets(ws *gqlws.Transport) {
	if o.watched.Swap(true) {
		panic("server: one Observer was given to two Handlers")
	}
	stat := func(f func(gqlws.Stats) float64) func() float64 { return func() float64 { return f(ws.Stats()) } }
	o.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "messenger_websocket_connections", Help: "Open graphql-transport-ws sockets."},
			stat(func(s gqlws.Stats) float64 { return float64(s.Connections) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "messenger_websocket_operations", Help: "Operations (mostly subscriptions) running on websockets."},
			stat(func(s gqlws.Stats) float64 { return float64(s.Operations) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "messenger_websocket_messages_total", Help: "next messages sent on websockets."},
			stat(func(s gqlws.Stats) float64 { return float64(s.Messages) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "messenger_websocket_results_reused_total", Help: "next messages sent from a rendering shared by the subscribers of one event, without executing the subscription."},
			stat(func(s gqlws.Stats) float64 { return float64(s.Reused) })),
		&closeCollector{ws: ws, desc: prometheus.NewDesc("messenger_websocket_server_closes_total", "Sockets closed by the server, by close code.", []string{"code"}, nil)},
	)
}

// closeCollector exports the transport's close counts.
type closeCollector struct {
	ws   *gqlws.Transport
	desc *prometheus.Desc
}

func (c *closeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c *closeCollector) Collect(ch chan<- prometheus.Metric) {
	for code, n := range c.ws.Stats().Closes {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), strconv.Itoa(code))
	}
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

// eventTypeKey marks a subscription event's response; observeFields notes
// in it the GraphQL type of the event being encoded.
type eventTypeKey struct{}

type eventType struct{ name atomic.Pointer[string] }

// observeResponses counts every response (refusals before execution too),
// times queries and mutations, and counts events delivered by type.
func (o *Observer) observeResponses(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
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
		o.events.WithLabelValues(code).Inc()
		name := "unknown"
		if p := et.name.Load(); p != nil {
			name = *p
		}
		o.delivered.WithLabelValues(name).Inc()
		return resp
	}
	o.requests.WithLabelValues(typ, field, code).Inc()
	if !start.IsZero() && typ != string(ast.Subscription) {
		o.duration.WithLabelValues(typ, field).Observe(time.Since(start).Seconds())
	}
	return resp
}

// reused counts an event the websocket transport sent from a rendering it
// kept (observeResponses and observeFields do not see those), as they
// would have: one event delivered, and for a message its send-to-deliver
// time.
func (o *Observer) reused(_ context.Context, key any) {
	e, ok := key.(chat.Event)
	if !ok {
		return
	}
	o.events.WithLabelValues("OK").Inc()
	o.delivered.WithLabelValues(eventLabel(e.EventType())).Inc()
	if m, ok := e.(*chat.MessageAdded); ok {
		o.messageDelivered(m.Message)
	}
}

// messageDelivered records a message's send-to-deliver time.
func (o *Observer) messageDelivered(msg *storage.Message) {
	if msg != nil && !msg.SentAt.IsZero() {
		o.delivery.Observe(time.Since(msg.SentAt).Seconds())
	}
}

// observeFields times send to deliver on MessageAdded.message, notes the
// type of each subscription event, and records why a subscription was
// refused as it started on its span.
func (o *Observer) observeFields(ctx context.Context, next graphql.Resolver) (any, error) {
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
			o.messageDelivered(msg)
		}
	}
	if err != nil && fc.Object == "Subscription" {
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			span.SetAttributes(attrResultCode.String(errorCode(err)))
		}
	}
	return res, err
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
type operationTracer struct{ tracer trace.Tracer }

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
	span.SetAttributes(attrResultCode.String("OK")) // observeFields overwrites it on a refusal
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
		if id := requestID(ctx); id != "" {
			attrs = append(attrs, attrRequestID.String(id))
		}
		span.SetAttributes(attrs...)
	}
	return ctx, span
}

// observedStore records the dataloaders' batch sizes and store latency.
type observedStore struct {
	storage.Store
	o *Observer
}

func (s observedStore) observe(c call, loader string, n int, err error) {
	d := c.end(err)
	s.o.batches.WithLabelValues(loader).Observe(float64(n))
	s.o.batchTime.WithLabelValues(loader).Observe(d.Seconds())
}

func (s observedStore) Users(ctx context.Context, ids []string) (map[string]storage.User, error) {
	ctx, c := s.o.begin(ctx, "storage", "users")
	res, err := s.Store.Users(ctx, ids)
	s.observe(c, "users", len(ids), err)
	return res, err
}

func (s observedStore) Conversations(ctx context.Context, ids []string) (map[string]storage.Conversation, error) {
	ctx, c := s.o.begin(ctx, "storage", "conversations")
	res, err := s.Store.Conversations(ctx, ids)
	s.observe(c, "conversations", len(ids), err)
	return res, err
}

func (s observedStore) Messages(ctx context.Context, conv string, seqs []int64) (map[int64]storage.Message, error) {
	ctx, c := s.o.begin(ctx, "storage", "messages")
	res, err := s.Store.Messages(ctx, conv, seqs)
	s.observe(c, "messages", len(seqs), err)
	return res, err
}

func (s observedStore) ReceiptCounts(ctx context.Context, conv string, seqs []int64) (map[int64]storage.MessageCounts, error) {
	ctx, c := s.o.begin(ctx, "storage", "receipt_counts")
	res, err := s.Store.ReceiptCounts(ctx, conv, seqs)
	s.observe(c, "receipt_counts", len(seqs), err)
	return res, err
}

func (s observedStore) Reactions(ctx context.Context, conv string, seqs []int64) (map[int64][]storage.ReactionSummary, error) {
	ctx, c := s.o.begin(ctx, "storage", "reactions")
	res, err := s.Store.Reactions(ctx, conv, seqs)
	s.observe(c, "reactions", len(seqs), err)
	return res, err
}
