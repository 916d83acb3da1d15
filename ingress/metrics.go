package ingress

import (
	"fmt"
	"math/rand/v2"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringcast/ringcast/internal/httpx"
)

// Transports, the label values of ringcast_messages_published_total and
// ringcast_publish_duration_seconds.
const (
	TransportHTTP   = "http"
	TransportBatch  = "batch"
	TransportWS     = "ws"
	TransportSource = "source" // configured sources (published only, no duration)
)

// codeInternal labels a refusal for an error the broker is not documented
// to return; it answers 500. Its counter is made on first use only, so the
// series does not exist while it has never happened.
const codeInternal = "internal"

// wsSampleMask makes one WebSocket frame in 64 observe its publish duration:
// a histogram shared by every core costs about 110 ns per Observe.
const wsSampleMask = 63

// metrics are the ingress collectors, children resolved once.
type metrics struct {
	publishedHTTP, publishedBatch, publishedWS prometheus.Counter
	publishedSource                            prometheus.Counter
	durationHTTP, durationBatch, durationWS    prometheus.Observer
	rejected                                   *prometheus.CounterVec
	rejectedBy                                 map[string]prometheus.Counter // read-only after newMetrics
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	published := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ringcast_messages_published_total",
		Help: "Messages accepted from publishers, by transport (http, batch, ws, source).",
	}, []string{"transport"})
	rejected := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ringcast_publish_rejected_total",
		Help: "Publish requests and WebSocket frames refused, by error code.",
	}, []string{"code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ringcast_publish_duration_seconds",
		Help: "Time to handle a publish: every HTTP and batch request, one WebSocket frame in 64.",
		// 1 µs to 16.8 s, so that waits on block subscribers up to the
		// publish timeout show.
		Buckets: prometheus.ExponentialBuckets(1e-6, 4, 13),
	}, []string{"transport"})
	if reg != nil {
		for _, c := range []prometheus.Collector{published, rejected, duration} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("ingress: cannot register metrics: %w", err)
			}
		}
	}
	m := &metrics{
		publishedHTTP:   published.WithLabelValues(TransportHTTP),
		publishedBatch:  published.WithLabelValues(TransportBatch),
		publishedWS:     published.WithLabelValues(TransportWS),
		publishedSource: published.WithLabelValues(TransportSource),
		durationHTTP:    duration.WithLabelValues(TransportHTTP),
		durationBatch:   duration.WithLabelValues(TransportBatch),
		durationWS:      duration.WithLabelValues(TransportWS),
		rejected:        rejected,
		rejectedBy:      map[string]prometheus.Counter{},
	}
	for _, code := range []string{
		httpx.CodeBadTopic, httpx.CodeBadRequest, httpx.CodeNotFound, httpx.CodeMethodNotAllowed,
		httpx.CodeTooLarge, httpx.CodeUnauthorized, httpx.CodeForbidden, httpx.CodeBackpressure,
		httpx.CodeDraining,
	} {
		m.rejectedBy[code] = rejected.WithLabelValues(code)
	}
	return m, nil
}

// rejectedCounter returns the refusal counter for code.
func (m *metrics) rejectedCounter(code string) prometheus.Counter {
	if c, ok := m.rejectedBy[code]; ok {
		return c
	}
	return m.rejected.WithLabelValues(code)
}

// sampleWS reports whether this WebSocket frame observes its duration.
func sampleWS() bool { return rand.Uint32()&wsSampleMask == 0 }

// RejectedCounter returns the ringcast_publish_rejected_total child for
// code, so the router can count its own refusals (bad_topic, draining,
// method_not_allowed, not_found) on publish routes.
func (i *Ingress) RejectedCounter(code string) prometheus.Counter {
	return i.m.rejectedCounter(code)
}
