package redisengine

import "github.com/prometheus/client_golang/prometheus"

// Operations, the op label of the engine's metrics.
const (
	opPublish   = iota // the publish script
	opRead             // history and catch-up reads
	opStats            // topic stats and listings
	opSubscribe        // pub/sub subscriptions lost or refused
	opPing             // the health check
	numOps
)

var opNames = [numOps]string{"publish", "read", "stats", "subscribe", "ping"}

// metrics are the engine's collectors, children resolved once.
type metrics struct {
	up      prometheus.Gauge
	errors  [numOps]prometheus.Counter
	latency [numOps]prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) *metrics {
	up := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ringcast_engine_up",
		Help: "1 while the engine's store (Redis) answers, else 0.",
	})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ringcast_engine_errors_total",
		Help: "Failed engine operations, by operation.",
	}, []string{"op"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ringcast_engine_latency_seconds",
		Help:    "Duration of engine operations (Redis round trips), by operation.",
		Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16),
	}, []string{"op"})
	m := &metrics{up: up}
	for i, op := range opNames {
		m.errors[i] = errs.WithLabelValues(op)
		m.latency[i] = lat.WithLabelValues(op)
	}
	if reg != nil {
		reg.MustRegister(up, errs, lat)
	}
	return m
}
