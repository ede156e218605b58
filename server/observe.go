package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/vektah/gqlparser/v2/ast"

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
// ipHeader when set, for a trusted proxy in front).
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
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, requestInfo{id: id, ip: ip})))
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

// metrics are the API's Prometheus series.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	events    *prometheus.CounterVec
	delivery  prometheus.Histogram
	batches   *prometheus.HistogramVec
	batchTime *prometheus.HistogramVec
}

func newMetrics(ws *gqlws.Transport) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "messenger_graphql_requests_total",
		Help: "GraphQL operations (queries and mutations, and subscription starts) by type, root field and result code (OK or the first error's code).",
	}, []string{"type", "field", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "messenger_graphql_request_duration_seconds",
		Help:    "Time from receiving a query or mutation to its response.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"type", "field"})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "messenger_subscription_events_total",
		Help: "Subscription events sent to clients, by result code (OK or the first error's code).",
	}, []string{"code"})
	m.delivery = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "messenger_message_delivery_seconds",
		Help:    "Time from a message's sentAt to its MessageAdded event being encoded for a subscriber (send to deliver).",
		Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5},
	})
	m.batches = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "messenger_dataloader_batch_size",
		Help:    "Keys per dataloader batch, by loader.",
		Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500},
	}, []string{"loader"})
	m.batchTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "messenger_storage_batch_duration_seconds",
		Help:    "Latency of the store's batched reads made by the dataloaders, by loader.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	}, []string{"loader"})
	stat := func(f func(gqlws.Stats) float64) func() float64 { return func() float64 { return f(ws.Stats()) } }
	m.reg.MustRegister(m.requests, m.duration, m.events, m.delivery, m.batches, m.batchTime,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "messenger_websocket_connections", Help: "Open graphql-transport-ws sockets."},
			stat(func(s gqlws.Stats) float64 { return float64(s.Connections) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "messenger_websocket_operations", Help: "Operations (mostly subscriptions) running on websockets."},
			stat(func(s gqlws.Stats) float64 { return float64(s.Operations) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "messenger_websocket_messages_total", Help: "next messages sent on websockets."},
			stat(func(s gqlws.Stats) float64 { return float64(s.Messages) })),
		&closeCollector{ws: ws, desc: prometheus.NewDesc("messenger_websocket_server_closes_total", "Sockets closed by the server, by close code.", []string{"code"}, nil)},
	)
	return m
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

// observeResponses counts every response (refusals before execution too)
// and times queries and mutations.
func (m *metrics) observeResponses(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	code := "OK"
	if len(resp.Errors) > 0 {
		code = "ERROR"
		if c, ok := resp.Errors[0].Extensions["code"].(string); ok {
			code = c
		}
	}
	typ, field := "unknown", ""
	var start time.Time
	if rc := graphql.GetOperationContext(ctx); rc != nil {
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
		m.events.WithLabelValues(code).Inc()
		return resp
	}
	m.requests.WithLabelValues(typ, field, code).Inc()
	if !start.IsZero() && typ != string(ast.Subscription) {
		m.duration.WithLabelValues(typ, field).Observe(time.Since(start).Seconds())
	}
	return resp
}

// observeDelivery times send to deliver on MessageAdded.message.
func (m *metrics) observeDelivery(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Object == "MessageAdded" && fc.Field.Name == "message" {
		if msg, ok := res.(*storage.Message); ok && msg != nil && !msg.SentAt.IsZero() {
			m.delivery.Observe(time.Since(msg.SentAt).Seconds())
		}
	}
	return res, err
}

// observedStore records the dataloaders' batch sizes and store latency.
type observedStore struct {
	storage.Store
	m *metrics
}

func (s observedStore) observe(loader string, n int, start time.Time) {
	s.m.batches.WithLabelValues(loader).Observe(float64(n))
	s.m.batchTime.WithLabelValues(loader).Observe(time.Since(start).Seconds())
}

func (s observedStore) Users(ctx context.Context, ids []string) (map[string]storage.User, error) {
	defer s.observe("users", len(ids), time.Now())
	return s.Store.Users(ctx, ids)
}

func (s observedStore) Conversations(ctx context.Context, ids []string) (map[string]storage.Conversation, error) {
	defer s.observe("conversations", len(ids), time.Now())
	return s.Store.Conversations(ctx, ids)
}

func (s observedStore) Messages(ctx context.Context, conv string, seqs []int64) (map[int64]storage.Message, error) {
	defer s.observe("messages", len(seqs), time.Now())
	return s.Store.Messages(ctx, conv, seqs)
}

func (s observedStore) ReceiptCounts(ctx context.Context, conv string, seqs []int64) (map[int64]storage.MessageCounts, error) {
	defer s.observe("receipt_counts", len(seqs), time.Now())
	return s.Store.ReceiptCounts(ctx, conv, seqs)
}

func (s observedStore) Reactions(ctx context.Context, conv string, seqs []int64) (map[int64][]storage.ReactionSummary, error) {
	defer s.observe("reactions", len(seqs), time.Now())
	return s.Store.Reactions(ctx, conv, seqs)
}
