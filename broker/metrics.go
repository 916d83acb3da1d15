package broker

import "github.com/prometheus/client_golang/prometheus"

// DropReason labels ringcast_messages_dropped_total.
const (
	ReasonDropOldest = "drop_oldest"
	ReasonDisconnect = "disconnect"
)

// metrics are the broker's collectors, children resolved once.
type metrics struct {
	droppedOldest     prometheus.Counter
	droppedDisconnect prometheus.Counter
	lag               prometheus.Histogram
	topicsRemoved     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, topics func() float64) *metrics {
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ringcast_messages_dropped_total",
		Help: "Messages a subscriber missed, by reason.",
	}, []string{"reason"})
	m := &metrics{
		droppedOldest:     dropped.WithLabelValues(ReasonDropOldest),
		droppedDisconnect: dropped.WithLabelValues(ReasonDisconnect),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ringcast_subscriber_lag_messages",
			Help:    "Messages published but not yet read by a subscriber (head seq minus cursor), sampled every 64 reads.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10),
		}),
		topicsRemoved: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ringcast_topics_removed_total",
			Help: "Topics removed after being idle.",
		}),
	}
	if reg != nil {
		reg.MustRegister(dropped, m.lag, m.topicsRemoved, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ringcast_topics",
			Help: "Topics that exist.",
		}, topics))
	}
	return m
}
