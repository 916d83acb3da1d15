package bench

import (
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Latency histograms count microseconds from 1 µs to 60 s. The final one
// keeps 3 significant digits; the progress line's keep 2, which makes them
// a seventh of the size and cheap to merge every second.
const (
	latencyMin     = 1
	latencyMax     = 60_000_000
	latencyDigits  = 3
	progressDigits = 2
	// handOverEvery is how often a recorder hands its recent latencies
	// to the progress reporter.
	handOverEvery = 250 * time.Millisecond
)

// latencies records the latencies seen by one goroutine, its owner: those
// of the measured window, and every recent one for the progress reporter,
// handed over a few times a second under mu so that the reporter never
// takes the owner's lock per message.
type latencies struct {
	hist     *hdr.Histogram // latencies inside the window
	interval *hdr.Histogram // every latency since the last hand-over
	handOver int64          // when to hand interval over next, Unix ns

	mu     sync.Mutex
	recent *hdr.Histogram // latencies handed over, taken by the progress reporter
}

func newLatencies() latencies {
	return latencies{
		hist:     hdr.New(latencyMin, latencyMax, latencyDigits),
		interval: hdr.New(latencyMin, latencyMax, progressDigits),
		recent:   hdr.New(latencyMin, latencyMax, progressDigits),
	}
}

// record notes a latency of ns nanoseconds seen at now (Unix ns); measured
// says whether it belongs to the window.
func (l *latencies) record(ns int64, measured bool, now int64) {
	us := min(max(ns/1000, latencyMin), latencyMax)
	_ = l.interval.RecordValue(us)
	if measured {
		_ = l.hist.RecordValue(us)
	}
	if now >= l.handOver {
		l.handOver = now + int64(handOverEvery)
		l.mu.Lock()
		if l.recent.TotalCount() == 0 {
			l.recent, l.interval = l.interval, l.recent
		}
		l.mu.Unlock()
	}
}

// takeRecent adds the latencies handed over since the last call to h.
func (l *latencies) takeRecent(h *hdr.Histogram) {
	l.mu.Lock()
	h.Merge(l.recent)
	l.recent.Reset()
	l.mu.Unlock()
}

// Latency summarizes a distribution of latencies.
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

// newHist returns an empty final-precision latency histogram.
func newHist() *hdr.Histogram { return hdr.New(latencyMin, latencyMax, latencyDigits) }
