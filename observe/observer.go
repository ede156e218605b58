// Package observe holds the API's Prometheus series and OpenTelemetry
// spans: an Observer, the wrappers that time every backend's calls (event
// log, presence, search index, blobs, the dataloaders' store reads, Redis
// commands), and the hooks that count and trace GraphQL operations and
// websockets. cmd/api wraps each backend with one Observer as it wires them
// and hands the same Observer to the server, which serves its series on
// /metrics and installs its GraphQL hooks.
package observe

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// Observer holds the API's Prometheus series and times its backends'
// calls. Wrap the backends with one Observer before building the chat
// service and hand the same Observer to the server: /metrics then shows
// them all. One Observer serves one server handler. Spans go to
// OpenTelemetry's global tracer provider (a no-op unless package tracing
// started one).
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

// New returns an Observer with its series registered (all zero).
func New() *Observer {
	o := &Observer{reg: prometheus.NewRegistry(), tracer: otel.Tracer(tracerName)}
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

// MetricsHandler serves the Observer's series in Prometheus's format: the
// API's /metrics, or the same on a private listener (see
// server.Config.HideMetrics).
func (o *Observer) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{})
}

// tracerName is the instrumentation scope of the API's spans; it predates
// this package and is kept so that trace queries filtering on it still
// match.
const tracerName = "messenger/server"
