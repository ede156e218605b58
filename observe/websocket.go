package observe

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"messenger/gqlws"
)

// WatchWebsockets exports ws's gauges and counters (open sockets, running
// operations, messages sent, results reused, closes by code). It is called
// once per Observer, as the server builds its one websocket transport: a
// second call panics, since the series of two transports would collide.
func (o *Observer) WatchWebsockets(ws *gqlws.Transport) {
	if o.watched.Swap(true) {
		panic("observe: one Observer was given to two websocket transports (two server Handlers)")
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
