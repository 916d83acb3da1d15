package edge

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the edge's counters: ringcast_limit_rejected_total{limit},
// ringcast_limit_delayed_total{limit}, ringcast_acl_denied_total,
// ringcast_listener_connections and ringcast_tls_reloads_total{result}.
// The server counts the rejections it answers itself (publish_rate,
// header_size, read_timeout, acl denials by X-Forwarded-For) here too.
type Metrics struct {
	rejected *prometheus.CounterVec
	delayed  *prometheus.CounterVec
	denied   prometheus.Counter
	reloads  *prometheus.CounterVec
	ln       atomic.Pointer[Listener]

	// Children resolved once.
	maxConns, maxConnsPerIP prometheus.Counter
}

// NewMetrics registers the edge's metrics into reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringcast_limit_rejected_total",
			Help: "Connections and requests refused by a limit: max_connections and max_connections_per_ip (503), publish_rate (429), header_size (431), read_timeout (the request was not read within limits.read_timeout).",
		}, []string{"limit"}),
		delayed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringcast_limit_delayed_total",
			Help: "WebSocket frames whose reading was paced by a limit (publish_rate: publish_rate_per_ip) rather than refused.",
		}, []string{"limit"}),
		denied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ringcast_acl_denied_total",
			Help: "Connections (by their peer address) and requests (by X-Forwarded-For from a trusted proxy) denied by the acl.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringcast_tls_reloads_total",
			Help: "TLS certificate reloads (SIGHUP) by result: ok, or error (the previous certificate stays in use).",
		}, []string{"result"}),
	}
	open := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ringcast_listener_connections",
		Help: "Client connections the listener holds, upgraded ones included: what limits.max_connections bounds.",
	}, func() float64 {
		if l := m.ln.Load(); l != nil {
			return float64(l.Open())
		}
		return 0
	})
	for _, l := range []string{LimitMaxConnections, LimitMaxConnectionsPerIP, LimitPublishRate, LimitHeaderSize, LimitReadTimeout} {
		m.rejected.WithLabelValues(l)
	}
	m.delayed.WithLabelValues(LimitPublishRate)
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("error")
	m.maxConns = m.rejected.WithLabelValues(LimitMaxConnections)
	m.maxConnsPerIP = m.rejected.WithLabelValues(LimitMaxConnectionsPerIP)
	if reg != nil {
		reg.MustRegister(m.rejected, m.delayed, m.denied, m.reloads, open)
	}
	return m
}

// Rejected returns the counter of refusals by limit, one of the Limit*
// label values.
func (m *Metrics) Rejected(limit string) prometheus.Counter { return m.rejected.WithLabelValues(limit) }

// Delayed returns the counter of frames paced by limit.
func (m *Metrics) Delayed(limit string) prometheus.Counter { return m.delayed.WithLabelValues(limit) }

// Denied counts one ACL denial.
func (m *Metrics) Denied() { m.denied.Inc() }

// Reloaded counts one certificate reload, failed when err is not nil.
func (m *Metrics) Reloaded(err error) {
	if err != nil {
		m.reloads.WithLabelValues("error").Inc()
		return
	}
	m.reloads.WithLabelValues("ok").Inc()
}

// refused counts a connection's refusal.
func (m *Metrics) refused(r Refusal) {
	switch r {
	case Denied:
		m.denied.Inc()
	case MaxConnections:
		m.maxConns.Inc()
	case MaxConnectionsPerIP:
		m.maxConnsPerIP.Inc()
	}
}

// open makes l the listener ringcast_listener_connections reads.
func (m *Metrics) open(l *Listener) { m.ln.Store(l) }
