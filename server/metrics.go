package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsHandler serves the Observer's series in Prometheus's format: the
// API's /metrics, or the same on a private listener (see
// Config.HideMetrics).
func (o *Observer) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{})
}
