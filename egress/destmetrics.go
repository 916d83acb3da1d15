package egress

import (
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Results, the label values of ringcast_destination_deliveries_total.
const (
	ResultSuccess    = "success"     // delivered
	ResultRetry      = "retry"       // a try failed and the message will be tried again
	ResultDeadLetter = "dead_letter" // published to the dead letter topic
	ResultDropped    = "dropped"     // lost: skipped by drop-oldest, or could not be dead-lettered
)

// destMetrics are the per-destination collectors, labelled by destination
// name (configuration bounds their number).
type destMetrics struct {
	reg        prometheus.Registerer
	deliveries *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	up         *prometheus.GaugeVec
}

// newDestMetrics makes the destination collectors and registers them in
// reg, unless reg is nil.
func newDestMetrics(reg prometheus.Registerer) (*destMetrics, error) {
	dm := &destMetrics{
		reg: reg,
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringcast_destination_deliveries_total",
			Help: "Messages a destination handled, by result: success, retry (a failed try that will be retried), dead_letter, dropped.",
		}, []string{"destination", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ringcast_destination_latency_seconds",
			Help: "Time from a message's acceptance to its confirmed delivery by a destination (a success answer, or the pong after a WebSocket frame), retries included.",
			// 1 ms to about 70 minutes: retries of a destination that is
			// down for a while show.
			Buckets: prometheus.ExponentialBuckets(1e-3, 4, 12),
		}, []string{"destination"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ringcast_destination_up",
			Help: "1 while a destination's last request or connection worked, else 0.",
		}, []string{"destination"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{dm.deliveries, dm.latency, dm.up} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("egress: cannot register the destination metrics (NewDestinations is called once per Egress): %w", err)
			}
		}
	}
	return dm, nil
}

// children resolves the metric children of the destination name; the
// transport's delivered counter and latency observer are shared by every
// destination of the type.
func (dm *destMetrics) children(name string, delivered prometheus.Counter, latency prometheus.Observer) destChildren {
	return destChildren{
		success:            dm.deliveries.WithLabelValues(name, ResultSuccess),
		retry:              dm.deliveries.WithLabelValues(name, ResultRetry),
		deadLetter:         dm.deliveries.WithLabelValues(name, ResultDeadLetter),
		dropped:            dm.deliveries.WithLabelValues(name, ResultDropped),
		latency:            dm.latency.WithLabelValues(name),
		up:                 dm.up.WithLabelValues(name),
		transportDelivered: delivered,
		transportLatency:   latency,
		sample:             new(atomic.Uint32),
	}
}

// registerLag registers ringcast_destination_lag_messages of the
// destination name, computed by lag at each scrape.
func (dm *destMetrics) registerLag(name string, lag func() float64) error {
	if dm.reg == nil {
		return nil
	}
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "ringcast_destination_lag_messages",
		Help:        "Messages published to a destination's topics and not yet delivered or dead-lettered.",
		ConstLabels: prometheus.Labels{"destination": name},
	}, lag)
	if err := dm.reg.Register(g); err != nil {
		return fmt.Errorf("cannot register its lag gauge: %w", err)
	}
	return nil
}

// destChildren are one destination's resolved metric children.
type destChildren struct {
	success, retry, deadLetter, dropped prometheus.Counter
	latency                             prometheus.Observer
	up                                  prometheus.Gauge
	transportDelivered                  prometheus.Counter  // ringcast_messages_delivered_total{transport}
	transportLatency                    prometheus.Observer // ringcast_delivery_latency_seconds{transport}, sampled
	sample                              *atomic.Uint32      // deliveries counted, for sampling transportLatency
}
