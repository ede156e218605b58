package push

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"messenger/storage"
)

// Metrics counts the pipeline's work: pushes sent, failed (the provider
// refused or the device is gone), retried and dropped (after the last
// attempt, or no provider), by provider and reason; the queue's depth;
// and the send-to-push latency. Totals are also kept for tests and the
// benchmark.
type Metrics struct {
	sentC, failedC, retriedC, droppedC *prometheus.CounterVec
	decidedC, skippedC                 *prometheus.CounterVec
	noDeviceC                          prometheus.Counter
	latency                            *prometheus.HistogramVec
	depth                              func(context.Context) (int64, error)

	// Sent, Failed, Retried and Dropped are running totals.
	Sent, Failed, Retried, Dropped atomic.Int64
	// NoDevice counts the messages that wrote no push job: none of their
	// recipients had a registered device.
	NoDevice atomic.Int64
}

// NewMetrics makes the metrics and registers them with reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sentC: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "messenger_push_sent_total",
			Help: "Notifications accepted by a push provider."}, []string{"provider"}),
		failedC: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "messenger_push_failed_total",
			Help: "Notifications refused for good (gone devices, refused payloads)."}, []string{"provider", "reason"}),
		retriedC: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "messenger_push_retried_total",
			Help: "Transient failures put back for a later attempt."}, []string{"provider", "reason"}),
		droppedC: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "messenger_push_dropped_total",
			Help: "Notifications given up after the last attempt, or with no provider configured."}, []string{"provider", "reason"}),
		decidedC: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "messenger_push_decisions_total",
			Help: "Per-member decisions about new messages, by verdict."}, []string{"verdict"}),
		skippedC: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "messenger_push_skipped_total",
			Help: "Deliveries with nothing to send (device unregistered, message recalled, already sent)."}, []string{"reason"}),
		noDeviceC: prometheus.NewCounter(prometheus.CounterOpts{Name: "messenger_push_no_device_total",
			Help: "New messages that queued no push job: no recipient had a registered device."}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "messenger_push_latency_seconds",
			Help:    "From a message's send to its provider's acceptance.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}}, []string{"provider"}),
	}
	if reg != nil {
		reg.MustRegister(m.sentC, m.failedC, m.retriedC, m.droppedC, m.decidedC, m.skippedC, m.noDeviceC, m.latency,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "messenger_push_queue_depth",
				Help: "Push jobs not yet done (ready, delayed or in hand)."}, m.queueDepth))
	}
	return m
}

func (m *Metrics) queueDepth() float64 {
	if m.depth == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	n, err := m.depth(ctx)
	if err != nil {
		return -1
	}
	return float64(n)
}

func (m *Metrics) noDevice() {
	m.NoDevice.Add(1)
	m.noDeviceC.Inc()
}

func (m *Metrics) sent(p storage.Platform, latency time.Duration) {
	m.Sent.Add(1)
	m.sentC.WithLabelValues(string(p)).Inc()
	m.latency.WithLabelValues(string(p)).Observe(latency.Seconds())
}

func (m *Metrics) failed(p storage.Platform, reason string) {
	m.Failed.Add(1)
	m.failedC.WithLabelValues(string(p), reason).Inc()
}

func (m *Metrics) retried(p storage.Platform, reason string) {
	m.Retried.Add(1)
	m.retriedC.WithLabelValues(string(p), reason).Inc()
}

func (m *Metrics) dropped(p storage.Platform, reason string) {
	m.Dropped.Add(1)
	m.droppedC.WithLabelValues(string(p), reason).Inc()
}

func (m *Metrics) decided(v Verdict) { m.decidedC.WithLabelValues(string(v)).Inc() }

func (m *Metrics) skipped(reason string) { m.skippedC.WithLabelValues(reason).Inc() }
