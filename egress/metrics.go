package egress

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/ringcast/ringcast/internal/httpx"
)

// Transports, the label values of the delivery metrics.
const (
	TransportWS       = "ws"       // WebSocket subscribers
	TransportSSE      = "sse"      // server-sent events subscribers
	TransportHTTP     = "http"     // GET /messages
	TransportWebhook  = "webhook"  // webhook destinations
	TransportWSClient = "wsclient" // outbound WebSocket destinations
)

var transports = []string{TransportWS, TransportSSE, TransportHTTP, TransportWebhook, TransportWSClient}

// latencySampleEvery is how many batches of one subscriber share one
// latency observation.
const latencySampleEvery = 16

// metrics are egress's collectors, every child resolved once.
type metrics struct {
	delivered   map[string]prometheus.Counter
	latency     map[string]prometheus.Observer
	subscribers *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	delivered := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ringcast_messages_delivered_total",
		Help: "Messages written to a subscriber's socket (or answered by GET /messages), by transport.",
	}, []string{"transport"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ringcast_delivery_latency_seconds",
		Help:    "Time from a message's acceptance to its write to a subscriber's socket, sampled: one message in every 16 batches of a subscriber, live messages only.",
		Buckets: prometheus.ExponentialBuckets(50e-6, 2.5, 12),
	}, []string{"transport"})
	subscribers := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ringcast_subscribers",
		Help: "Connected subscribers, by transport.",
	}, []string{"transport"})
	if reg != nil {
		reg.MustRegister(delivered, latency, subscribers)
	}
	m := &metrics{
		delivered:   make(map[string]prometheus.Counter, len(transports)),
		latency:     make(map[string]prometheus.Observer, len(transports)),
		subscribers: subscribers,
	}
	for _, t := range transports {
		m.delivered[t] = delivered.WithLabelValues(t)
		m.latency[t] = latency.WithLabelValues(t)
	}
	return m
}

// DeliveredCounter returns the ringcast_messages_delivered_total child of
// a transport (one of the Transport constants), for destinations that
// deliver outside Egress. It panics on an unknown transport.
func (e *Egress) DeliveredCounter(transport string) prometheus.Counter {
	c, ok := e.m.delivered[transport]
	if !ok {
		panic("BUG: egress: unknown transport " + transport)
	}
	return c
}

// DeliveryLatency returns the ringcast_delivery_latency_seconds child of a
// transport (one of the Transport constants). Observe it sampled, not for
// every message. It panics on an unknown transport.
func (e *Egress) DeliveryLatency(transport string) prometheus.Observer {
	o, ok := e.m.latency[transport]
	if !ok {
		panic("BUG: egress: unknown transport " + transport)
	}
	return o
}

// transport holds the resolved metric children of one subscriber transport.
type transport struct {
	delivered   prometheus.Counter
	latency     prometheus.Observer
	subscribers prometheus.Gauge
	open        prometheus.Gauge // ringcast_connections{kind}
}

func (m *metrics) transport(name string, open prometheus.Gauge) *transport {
	return &transport{
		delivered:   m.delivered[name],
		latency:     m.latency[name],
		subscribers: m.subscribers.WithLabelValues(name),
		open:        open,
	}
}

// opened counts a connection that became a subscriber. Its TCP open was
// counted by the server when it was accepted.
func (t *transport) opened() {
	t.open.Inc()
	t.subscribers.Inc()
}

// closed counts a subscriber connection that ended, isErr when the peer
// vanished or a socket operation failed.
func (t *transport) closed(c *httpx.ConnMetrics, isErr bool) {
	c.Closed.Inc()
	if isErr {
		c.Errors.Inc()
	}
	t.open.Dec()
	t.subscribers.Dec()
}
