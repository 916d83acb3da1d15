package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"
)

// Result is what a run of fanout, publish, ws-publish or soak measured.
// Rates count only the measured window (after the warmup); totals count
// the whole run.
type Result struct {
	Scenario string       `json:"scenario"`
	Env      Env          `json:"env"`
	Config   FanoutConfig `json:"config"`

	Measured  time.Duration `json:"measured_ns"` // the measured window's length
	StoppedBy string        `json:"stopped_by"`  // duration, max-messages or interrupted

	Published         uint64  `json:"published"`          // messages published (accepted, for HTTP), warmup included
	PublishedMeasured uint64  `json:"published_measured"` // messages published inside the window
	PublishRate       float64 `json:"publish_rate"`       // messages/s published inside the window
	Refused           uint64  `json:"refused"`            // publishes refused with 503 backpressure, and sent again

	Expected          uint64  `json:"expected"`           // Published × subscribers
	Delivered         uint64  `json:"delivered"`          // messages received in order, by all subscribers
	DeliveredMeasured uint64  `json:"delivered_measured"` // deliveries received inside the window
	DeliveryRate      float64 `json:"delivery_rate"`      // deliveries/s inside the window
	Lost              uint64  `json:"lost"`               // deliveries that never came
	LossPercent       float64 `json:"loss_percent"`       // Lost / Expected, in percent
	Errors            uint64  `json:"errors"`             // messages repeated, out of order or not this run's
	Drained           bool    `json:"drained"`            // every subscriber had every message (without subscribers: the broker counted every frame) before the drain deadline

	Latency  Latency      `json:"latency"`            // publish to receive, of the messages sent inside the window
	Requests *Requests    `json:"requests,omitempty"` // HTTP publishers only
	Loss     *LossCheck   `json:"loss,omitempty"`     // the subscribers' losses judged by their policy; nil without subscribers
	Ingest   IngestCheck  `json:"ingest"`             // whether the broker took every message published
	Server   *ServerStats `json:"server,omitempty"`   // nil when the broker's /metrics could not be read

	Intervals []Interval `json:"intervals,omitempty"` // soak: one per report line
	Warnings  []string   `json:"warnings,omitempty"`
}

// Requests is what HTTP publishers saw of their requests.
type Requests struct {
	Latency Latency           `json:"latency"`           // round trips of the publishes sent inside the window, answered 201
	Refused map[string]uint64 `json:"refused,omitempty"` // by "status code", e.g. "503 backpressure"
	Seq     *SeqCheck         `json:"seq"`
}

// IngestCheck is the verdict on the publishing side: HTTP publishes must
// each get a seq of their own with no hole between them; WebSocket frames
// sent must all be counted by the broker.
type IngestCheck struct {
	Transport string  `json:"transport"`          // ws or http
	Published uint64  `json:"published"`          // messages sent (HTTP: answered 201)
	Accepted  *uint64 `json:"accepted,omitempty"` // ringcast_messages_published_total{transport}'s increase over the run (every client's); nil when unread
	Refused   uint64  `json:"refused"`            // 503 backpressure answers
	OK        bool    `json:"ok"`
	Verdict   string  `json:"verdict"`
}

func (c *IngestCheck) judge(req *Requests, drained bool) {
	c.OK = false
	switch {
	case req != nil && !req.Seq.OK:
		s := req.Seq
		c.Verdict = fmt.Sprintf("seqs of the %d publishes answered 201: %d unique, %d given twice, %d holes, %d outside the run's range, %d going backwards on a connection (another publisher on the topic?)",
			c.Published, s.Unique, s.Duplicates, s.Holes, s.Outside, s.Reordered)
	case c.Accepted == nil:
		c.OK = true
		c.Verdict = "the broker's count of accepted messages could not be read"
		if req != nil {
			c.Verdict = "every publish answered 201 got a seq of its own, without a hole; " + c.Verdict
		}
	case *c.Accepted < c.Published:
		c.Verdict = fmt.Sprintf("%d messages published but the broker counted %d accepted", c.Published, *c.Accepted)
		if !drained {
			c.Verdict += " by the drain deadline"
		}
	case req != nil:
		c.OK = true
		c.Verdict = "every publish answered 201 got a seq of its own, without a hole"
	default:
		c.OK = true
		c.Verdict = "the broker counted every frame sent as accepted"
	}
}

// ServerStats is the broker's own view of the run, from its /metrics just
// before publishing started and after the drain.
type ServerStats struct {
	CPUSeconds float64           `json:"cpu_seconds"` // process CPU time used in between
	CPUCores   float64           `json:"cpu_cores"`   // CPUSeconds per second of wall time
	RSSBefore  int64             `json:"rss_before_bytes"`
	RSSAfter   int64             `json:"rss_after_bytes"`
	Dropped    uint64            `json:"dropped"`    // ringcast_messages_dropped_total's increase
	DroppedBy  map[string]uint64 `json:"dropped_by"` // the same by reason
	Accepted   uint64            `json:"accepted"`   // ringcast_messages_published_total's increase for the run's publish transport
}

// serverStats compares two samples taken wall apart; transport is the
// publishers'.
func serverStats(before, after serverSample, wall time.Duration, transport string) *ServerStats {
	cpu := after.cpuSeconds - before.cpuSeconds
	s := &ServerStats{
		CPUSeconds: cpu,
		CPUCores:   cpu / wall.Seconds(),
		RSSBefore:  int64(before.rssBytes),
		RSSAfter:   int64(after.rssBytes),
		Dropped:    uint64(max(after.dropped-before.dropped, 0)),
		DroppedBy:  map[string]uint64{},
		Accepted:   uint64(max(after.published[transport]-before.published[transport], 0)),
	}
	for reason, n := range after.droppedBy {
		s.DroppedBy[reason] = uint64(max(n-before.droppedBy[reason], 0))
	}
	return s
}

// Interval is one of soak's report lines.
type Interval struct {
	At           time.Duration `json:"at_ns"` // since publishing started
	Phase        string        `json:"phase"` // warmup, measure or drain
	PublishRate  float64       `json:"publish_rate"`
	DeliveryRate float64       `json:"delivery_rate"`
	Lost         uint64        `json:"lost"` // so far
	P50          time.Duration `json:"p50_ns"`
	P99          time.Duration `json:"p99_ns"`
	Max          time.Duration `json:"max_ns"`
	// The broker's, over the interval; zero when its metrics could not be read.
	ServerCPUCores float64 `json:"server_cpu_cores"`
	ServerRSS      int64   `json:"server_rss_bytes"`
	ServerDropped  uint64  `json:"server_dropped"`
}

// WriteText writes r as a human-readable table.
func (r *Result) WriteText(w io.Writer) error {
	c := r.Config
	rate := "unpaced"
	if c.Rate > 0 {
		rate = fmt.Sprintf("%d msg/s", c.Rate)
	}
	fmt.Fprintf(w, "ringcast bench %s: %s, topic %s\n", r.Scenario, c.URL, c.Topic)
	fmt.Fprintf(w, "publishers %d (%s), subscribers %d (%s, %s), rate %s, size %d B, measured %s after %s warmup, stopped by %s\n",
		c.Publishers, c.Publish, c.Subscribers, c.Transport, c.Policy, rate, c.Size, r.Measured.Round(time.Millisecond), c.Warmup, r.StoppedBy)
	fmt.Fprintf(w, "%s\n\n", r.Env)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "published\t%d\t%.0f msg/s\n", r.Published, r.PublishRate)
	if r.Refused > 0 {
		fmt.Fprintf(tw, "refused\t%d\t503 backpressure, sent again\n", r.Refused)
	}
	if q := r.Requests; q != nil {
		writeLatency(tw, "request", q.Latency)
		for _, k := range slices.Sorted(maps.Keys(q.Refused)) {
			fmt.Fprintf(tw, "answered %s\t%d\t\n", k, q.Refused[k])
		}
		fmt.Fprintf(tw, "seqs\t%d unique\t%d–%d, %d holes, %d twice\n", q.Seq.Unique, q.Seq.First, q.Seq.Last, q.Seq.Holes, q.Seq.Duplicates)
	}
	if c.Subscribers > 0 {
		fmt.Fprintf(tw, "delivered\t%d of %d\t%.0f deliveries/s\n", r.Delivered, r.Expected, r.DeliveryRate)
		fmt.Fprintf(tw, "lost\t%d\t%.4f%%\n", r.Lost, r.LossPercent)
		fmt.Fprintf(tw, "errors\t%d\t\n", r.Errors)
		writeLatency(tw, "latency", r.Latency)
	}
	if s := r.Server; s != nil {
		fmt.Fprintf(tw, "server accepted\t%d\t%s publishes counted by the broker\n", s.Accepted, c.Publish)
		fmt.Fprintf(tw, "server cpu\t%.2f s\t%.2f cores\n", s.CPUSeconds, s.CPUCores)
		fmt.Fprintf(tw, "server rss\t%s → %s\t\n", mib(s.RSSBefore), mib(s.RSSAfter))
		fmt.Fprintf(tw, "server dropped\t%d\t%s\n", s.Dropped, byReason(s.DroppedBy))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ningest check: %s: %s\n", okOr(r.Ingest.OK), r.Ingest.Verdict)
	if l := r.Loss; l != nil {
		fmt.Fprintf(w, "loss check (%s): %s: %s\n", l.Policy, okOr(l.OK), l.Verdict)
	}
	if !r.Drained {
		if c.Subscribers > 0 {
			fmt.Fprintln(w, "not every subscriber had every message by the drain deadline: the rest counts as lost")
		} else {
			fmt.Fprintln(w, "the broker had not counted every frame by the drain deadline")
		}
	}
	if len(r.Intervals) > 0 {
		fmt.Fprintln(w)
		if err := writeIntervals(w, r.Intervals); err != nil {
			return err
		}
	}
	for _, warning := range r.Warnings {
		fmt.Fprintln(w, "warning:", warning)
	}
	return nil
}

// writeLatency writes a latency summary's rows, each named prefix pNN.
func writeLatency(tw io.Writer, prefix string, l Latency) {
	fmt.Fprintf(tw, "%s p50\t%s\t%d samples\n", prefix, l.P50, l.Samples)
	fmt.Fprintf(tw, "%s p90\t%s\t\n", prefix, l.P90)
	fmt.Fprintf(tw, "%s p99\t%s\t\n", prefix, l.P99)
	fmt.Fprintf(tw, "%s p99.9\t%s\t\n", prefix, l.P999)
	fmt.Fprintf(tw, "%s max\t%s\t\n", prefix, l.Max)
}

// writeIntervals writes soak's report lines as a table.
func writeIntervals(w io.Writer, ivs []Interval) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "at\tphase\tpublished/s\tdelivered/s\tlost\tp50\tp99\tmax\tserver cpu\tserver rss\tserver dropped\t")
	for _, iv := range ivs {
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%d\t%s\t%s\t%s\t%.2f\t%s\t%d\t\n", iv.At.Round(time.Second), iv.Phase, iv.PublishRate, iv.DeliveryRate,
			iv.Lost, iv.P50, iv.P99, iv.Max, iv.ServerCPUCores, mib(iv.ServerRSS), iv.ServerDropped)
	}
	return tw.Flush()
}

func byReason(m map[string]uint64) string {
	s := ""
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] > 0 {
			s += fmt.Sprintf("%s %d ", k, m[k])
		}
	}
	return s
}

func okOr(ok bool) string {
	if ok {
		return "ok"
	}
	return "FAILED"
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
