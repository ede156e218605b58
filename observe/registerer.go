package observe

import "github.com/prometheus/client_golang/prometheus"

// Registerer is where other areas (push) register their own series, so
// that /metrics shows them beside the Observer's.
func (o *Observer) Registerer() prometheus.Registerer { return o.reg }
