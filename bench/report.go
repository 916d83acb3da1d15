package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Result is what a fanout run measured. Rates count only the measured
// window (after the warmup); totals count the whole run.
type Result struct {
	Config FanoutConfig `json:"config"`

	Measured  time.Duration `json:"measured_ns"` // the measured window's length
	StoppedBy string        `json:"stopped_by"`  // duration, max-messages or interrupted

	Published         uint64  `json:"published"`          // messages published, warmup included
	PublishedMeasured uint64  `json:"published_measured"` // messages published inside the window
	PublishRate       float64 `json:"publish_rate"`       // messages/s published inside the window

	Expected          uint64  `json:"expected"`           // Published × subscribers
	Delivered         uint64  `json:"delivered"`          // messages received in order, by all subscribers
	DeliveredMeasured uint64  `json:"delivered_measured"` // deliveries received inside the window
	DeliveryRate      float64 `json:"delivery_rate"`      // deliveries/s inside the window
	Lost              uint64  `json:"lost"`               // deliveries that never came
	LossPercent       float64 `json:"loss_percent"`       // Lost / Expected, in percent
	Errors            uint64  `json:"errors"`             // messages repeated, out of order or not this run's
	Drained           bool    `json:"drained"`            // every subscriber had every message before the drain deadline

	Latency Latency `json:"latency"` // publish to receive, of the messages sent inside the window

	Server   *ServerStats `json:"server,omitempty"` // nil when the broker's /metrics could not be read
	Warnings []string     `json:"warnings,omitempty"`
}

// Latency summarizes publish-to-receive times.
type Latency struct {
	Samples int64         `json:"samples"`
	P50     time.Duration `json:"p50_ns"`
	P90     time.Duration `json:"p90_ns"`
	P99     time.Duration `json:"p99_ns"`
	P999    time.Duration `json:"p999_ns"`
	Max     time.Duration `json:"max_ns"`
}

// latencyOf summarizes h, whose values are microseconds.
func latencyOf(h *hdr.Histogram) Latency {
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return Latency{
		Samples: h.TotalCount(),
		P50:     us(h.ValueAtQuantile(50)),
		P90:     us(h.ValueAtQuantile(90)),
		P99:     us(h.ValueAtQuantile(99)),
		P999:    us(h.ValueAtQuantile(99.9)),
		Max:     us(h.Max()),
	}
}

// ServerStats is the broker's own view of the run, from its /metrics just
// before publishing started and after the drain.
type ServerStats struct {
	CPUSeconds float64 `json:"cpu_seconds"` // process CPU time used in between
	CPUCores   float64 `json:"cpu_cores"`   // CPUSeconds per second of wall time
	RSSBefore  int64   `json:"rss_before_bytes"`
	RSSAfter   int64   `json:"rss_after_bytes"`
	Dropped    uint64  `json:"dropped"` // ringcast_messages_dropped_total's increase
}

// serverStats compares two samples taken wall apart.
func serverStats(before, after serverSample, wall time.Duration) *ServerStats {
	cpu := after.cpuSeconds - before.cpuSeconds
	return &ServerStats{
		CPUSeconds: cpu,
		CPUCores:   cpu / wall.Seconds(),
		RSSBefore:  int64(before.rssBytes),
		RSSAfter:   int64(after.rssBytes),
		Dropped:    uint64(max(after.dropped-before.dropped, 0)),
	}
}

// WriteText writes r as a human-readable table.
func (r *Result) WriteText(w io.Writer) error {
	c := r.Config
	rate := "unpaced"
	if c.Rate > 0 {
		rate = fmt.Sprintf("%d msg/s", c.Rate)
	}
	fmt.Fprintf(w, "ringcast bench fanout: %s, topic %s\n", c.URL, c.Topic)
	fmt.Fprintf(w, "subscribers %d (%s), publishers %d, rate %s, size %d B, measured %s after %s warmup, stopped by %s\n\n",
		c.Subscribers, c.Transport, c.Publishers, rate, c.Size, r.Measured.Round(time.Millisecond), c.Warmup, r.StoppedBy)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "published\t%d\t%.0f msg/s\n", r.Published, r.PublishRate)
	fmt.Fprintf(tw, "delivered\t%d of %d\t%.0f deliveries/s\n", r.Delivered, r.Expected, r.DeliveryRate)
	fmt.Fprintf(tw, "lost\t%d\t%.4f%%\n", r.Lost, r.LossPercent)
	fmt.Fprintf(tw, "errors\t%d\t\n", r.Errors)
	l := r.Latency
	fmt.Fprintf(tw, "latency p50\t%s\t%d samples\n", l.P50, l.Samples)
	fmt.Fprintf(tw, "latency p90\t%s\t\n", l.P90)
	fmt.Fprintf(tw, "latency p99\t%s\t\n", l.P99)
	fmt.Fprintf(tw, "latency p99.9\t%s\t\n", l.P999)
	fmt.Fprintf(tw, "latency max\t%s\t\n", l.Max)
	if s := r.Server; s != nil {
		fmt.Fprintf(tw, "server cpu\t%.2f s\t%.2f cores\n", s.CPUSeconds, s.CPUCores)
		fmt.Fprintf(tw, "server rss\t%s → %s\t\n", mib(s.RSSBefore), mib(s.RSSAfter))
		fmt.Fprintf(tw, "server dropped\t%d\t\n", s.Dropped)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !r.Drained {
		fmt.Fprintln(w, "\nnot every subscriber had every message by the drain deadline: the rest counts as lost")
	}
	for _, warning := range r.Warnings {
		fmt.Fprintln(w, "warning:", warning)
	}
	return nil
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
