package httpx

import "github.com/prometheus/client_golang/prometheus"

// Connection kinds, the label values of ringcast_connections.
const (
	KindHTTP = "http"
	KindWS   = "ws"
	KindSSE  = "sse"
)

// ConnMetrics counts connections; the server, ingress and egress share one.
// Events count TCP connections: the server counts each accepted one open,
// and a close is counted by whoever closes it, the server or, for a
// hijacked (upgraded or streaming) connection, its new owner.
type ConnMetrics struct {
	Open   map[string]prometheus.Gauge // by kind: http, ws, sse
	Opened prometheus.Counter          // event="open", by the server only
	Closed prometheus.Counter          // event="close"
	Errors prometheus.Counter          // event="error"
}

// NewConnMetrics registers ringcast_connections and
// ringcast_connection_events_total into reg (nil: not registered).
func NewConnMetrics(reg prometheus.Registerer) *ConnMetrics {
	open := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ringcast_connections",
		Help: "Open connections by kind: http (every TCP connection), ws and sse (upgraded or streaming requests).",
	}, []string{"kind"})
	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ringcast_connection_events_total",
		Help: "Connection events: open, close, error.",
	}, []string{"event"})
	if reg != nil {
		reg.MustRegister(open, events)
	}
	m := &ConnMetrics{
		Open:   map[string]prometheus.Gauge{},
		Opened: events.WithLabelValues("open"),
		Closed: events.WithLabelValues("close"),
		Errors: events.WithLabelValues("error"),
	}
	for _, k := range []string{KindHTTP, KindWS, KindSSE} {
		m.Open[k] = open.WithLabelValues(k)
	}
	return m
}
