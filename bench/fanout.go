package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// FanoutConfig configures Fanout. Its zero value runs 200 WebSocket
// subscribers and one unpaced publisher of 100-byte messages for 10 s
// against http://127.0.0.1:8080.
type FanoutConfig struct {
	URL         string        `json:"url"`          // the broker's base URL, the only one the run talks to; "": http://127.0.0.1:8080
	Topic       string        `json:"topic"`        // "": bench.fanout
	Subscribers int           `json:"subscribers"`  // 0: 200
	Publishers  int           `json:"publishers"`   // WebSocket mode=pub connections; 0: 1
	Rate        int           `json:"rate"`         // messages/s over all publishers; 0: as fast as the sockets take them
	Size        int           `json:"size"`         // payload bytes, at least MinPayloadSize; 0: 100
	Duration    time.Duration `json:"duration_ns"`  // the measured window; 0: 10s
	Warmup      time.Duration `json:"warmup_ns"`    // publishing before the window: checked, not measured; 0: none
	Transport   string        `json:"transport"`    // the subscribers' transport, ws or sse; "": ws
	MaxMessages int64         `json:"max_messages"` // publishing stops after this many messages; 0: 50,000,000
	Drain       time.Duration `json:"drain_ns"`     // how long subscribers may take to catch up once publishing stops; 0: 5s
	Progress    io.Writer     `json:"-"`            // receives a line a second while the run lasts; nil: none
}

const (
	// setupTimeout bounds connecting every subscriber and publisher.
	setupTimeout = 30 * time.Second
	// dialParallel is how many connections are being opened at once.
	dialParallel = 32
	// hangUpWait is how long the run waits for the broker to answer its
	// close frames before it closes the sockets.
	hangUpWait = time.Second
	// scrapeTimeout bounds one read of the broker's /metrics.
	scrapeTimeout = 5 * time.Second
	// drainPoll is how often the drain checks whether every subscriber
	// has caught up.
	drainPoll = 5 * time.Millisecond
)

// withDefaults fills cfg's zero fields and validates it.
func (cfg FanoutConfig) withDefaults() (FanoutConfig, error) {
	if cfg.URL == "" {
		cfg.URL = "http://127.0.0.1:8080"
	}
	if cfg.Topic == "" {
		cfg.Topic = "bench.fanout"
	}
	if cfg.Subscribers == 0 {
		cfg.Subscribers = 200
	}
	if cfg.Publishers == 0 {
		cfg.Publishers = 1
	}
	if cfg.Size == 0 {
		cfg.Size = 100
	}
	if cfg.Duration == 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.Transport == "" {
		cfg.Transport = "ws"
	}
	if cfg.MaxMessages == 0 {
		cfg.MaxMessages = 50_000_000
	}
	if cfg.Drain == 0 {
		cfg.Drain = 5 * time.Second
	}
	switch {
	case cfg.Subscribers < 0 || cfg.Publishers < 0:
		return cfg, errors.New("bench: --subs and --publishers must be at least 1")
	case cfg.Rate < 0:
		return cfg, errors.New("bench: --rate must not be negative (0: as fast as possible)")
	case cfg.Size < MinPayloadSize:
		return cfg, fmt.Errorf("bench: --size %d: payloads carry a %d-byte stamp, so at least %d", cfg.Size, MinPayloadSize, MinPayloadSize)
	case cfg.Duration < 0 || cfg.Warmup < 0 || cfg.Drain < 0:
		return cfg, errors.New("bench: --duration, --warmup and the drain must not be negative")
	case cfg.Transport != "ws" && cfg.Transport != "sse":
		return cfg, fmt.Errorf("bench: --transport %q: want ws or sse", cfg.Transport)
	case cfg.MaxMessages < int64(cfg.Publishers):
		return cfg, errors.New("bench: --max-messages must be at least --publishers")
	}
	return cfg, nil
}

// Fanout runs the fan-out scenario: it subscribes cfg.Subscribers
// connections to cfg.Topic, publishes stamped messages at cfg.Rate for
// cfg.Warmup and then cfg.Duration, waits up to cfg.Drain for every
// subscriber to have every message, and reports what arrived, what was
// lost and how long it took. Once connected, publishing and draining end
// after Warmup + Duration + Drain whatever happens; reading the broker's
// metrics and closing the connections then take a few seconds at most.
//
// It returns an error, with the result measured so far, when a connection
// fails or ctx ends.
func Fanout(ctx context.Context, cfg FanoutConfig) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{Config: cfg}, err
	}
	f, err := newFanout(cfg)
	if err != nil {
		return Result{Config: cfg}, err
	}
	defer f.transport.CloseIdleConnections()
	if err := f.connect(ctx); err != nil {
		f.release()
		return Result{Config: cfg}, err
	}
	return f.measure(ctx)
}

// fanout is one run of the scenario.
type fanout struct {
	cfg       FanoutConfig
	run       uint32 // tells this run's messages from any other's
	topicURL  string // http(s)://…/v1/topics/{topic}
	wsURL     string // ws(s)://…/v1/topics/{topic}/ws
	transport *http.Transport
	client    *http.Client
	win       window

	subs []*subscriber
	pubs []*publisher
	wg   sync.WaitGroup // every subscriber and publisher goroutine
}

func newFanout(cfg FanoutConfig) (*fanout, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bench: --url %q: want http://HOST:PORT or https://HOST:PORT", cfg.URL)
	}
	topicURL := strings.TrimSuffix(u.String(), "/") + "/v1/topics/" + url.PathEscape(cfg.Topic)
	// No proxy: the run talks to cfg.URL and nothing else.
	tr := &http.Transport{
		DisableCompression:    true,
		ResponseHeaderTimeout: handshakeTimeout,
		MaxIdleConnsPerHost:   1,
	}
	return &fanout{
		cfg:       cfg,
		run:       rand.Uint32(),
		topicURL:  topicURL,
		wsURL:     "ws" + strings.TrimPrefix(topicURL, "http") + "/ws",
		transport: tr,
		client:    &http.Client{Transport: tr},
	}, nil
}

// measure runs the connected scenario and collects its result.
func (f *fanout) measure(ctx context.Context) (Result, error) {
	cfg := f.cfg
	res := Result{Config: cfg, StoppedBy: "duration"}
	before, scrapeErr := f.scrape(ctx)

	t0 := time.Now()
	end := t0.Add(cfg.Warmup + cfg.Duration)
	f.win.start = t0.Add(cfg.Warmup).UnixNano()
	f.win.end.Store(end.UnixNano())
	runCtx, cancel := context.WithDeadline(ctx, end.Add(cfg.Drain))
	defer cancel()
	// Whatever happens, nothing outlives the deadline.
	stopAborting := context.AfterFunc(runCtx, f.abort)
	defer stopAborting()
	for _, s := range f.subs {
		f.wg.Go(s.receive)
	}
	progressDone := make(chan struct{})
	var progress sync.WaitGroup
	progress.Go(func() { f.progress(t0, progressDone) })

	pubErrs := f.publish(t0, end, runCtx.Done())
	f.win.cut(time.Now().UnixNano())
	final := make([]uint64, len(f.pubs))
	for i, p := range f.pubs {
		final[i] = p.stamp.counter
		res.Published += p.stamp.counter
		res.PublishedMeasured += p.measured
		if p.stamp.counter == limitOf(cfg, i) {
			res.StoppedBy = "max-messages"
		}
	}
	if ctx.Err() != nil {
		res.StoppedBy = "interrupted"
	}

	drainCtx, cancelDrain := context.WithTimeout(runCtx, cfg.Drain)
	res.Drained = f.drain(drainCtx, res.Published)
	cancelDrain()
	if scrapeErr == nil {
		var after serverSample
		if after, scrapeErr = f.scrape(ctx); scrapeErr == nil {
			res.Server = serverStats(before, after, time.Since(t0))
		}
	}
	if scrapeErr != nil {
		res.Warnings = append(res.Warnings, scrapeErr.Error())
	}
	close(progressDone)
	progress.Wait()
	f.hangUp(runCtx)
	f.tally(&res, final)
	return res, f.failure(ctx, pubErrs)
}

// publish runs every publisher from start to end, or until stop is
// closed, and returns how each failed.
func (f *fanout) publish(start, end time.Time, stop <-chan struct{}) []error {
	errs := make([]error, len(f.pubs))
	rate := float64(f.cfg.Rate) / float64(len(f.pubs))
	var wg sync.WaitGroup
	for i, p := range f.pubs {
		f.wg.Go(p.read)
		wg.Go(func() {
			if err := p.publish(start, end, rate, limitOf(f.cfg, i), stop); err != nil && !p.closing.Load() {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	return errs
}

// tally adds up what the subscribers received, final being each
// publisher's last counter; call it once they have all returned.
func (f *fanout) tally(res *Result, final []uint64) {
	for _, s := range f.subs {
		s.settle(final)
		res.Delivered += s.delivered.Load()
		res.DeliveredMeasured += s.measured
		res.Lost += s.lost.Load()
		res.Errors += s.errors
	}
	res.Expected = res.Published * uint64(len(f.subs))
	if res.Expected > 0 {
		res.LossPercent = 100 * float64(res.Lost) / float64(res.Expected)
	}
	res.Latency = latencyOf(f.mergeLatency())
	res.Measured = max(time.Duration(f.win.end.Load()-f.win.start), 0)
	if secs := res.Measured.Seconds(); secs > 0 {
		res.PublishRate = float64(res.PublishedMeasured) / secs
		res.DeliveryRate = float64(res.DeliveredMeasured) / secs
	}
	if rate := f.cfg.Rate; rate > 0 && res.StoppedBy == "duration" && res.PublishRate < 0.95*float64(rate) {
		res.Warnings = append(res.Warnings, fmt.Sprintf(
			"the publishers reached %.0f msg/s of the %d asked: the broker's ingest or this load generator is the bottleneck", res.PublishRate, rate))
	}
}

// mergeLatency merges every subscriber's latency histogram; call it once
// they have all returned.
func (f *fanout) mergeLatency() *hdr.Histogram {
	h := hdr.New(latencyMin, latencyMax, latencyDigits)
	for _, s := range f.subs {
		h.Merge(s.hist)
	}
	return h
}

// limitOf is how many messages publisher i may send.
func limitOf(cfg FanoutConfig, i int) uint64 {
	n, p := uint64(cfg.MaxMessages), uint64(cfg.Publishers)
	if uint64(i) < n%p {
		return n/p + 1
	}
	return n / p
}

// scrape reads the broker's /metrics.
func (f *fanout) scrape(ctx context.Context) (serverSample, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), scrapeTimeout)
	defer cancel()
	metricsURL := strings.TrimSuffix(f.topicURL, "/v1/topics/"+url.PathEscape(f.cfg.Topic)) + "/metrics"
	return scrapeServer(ctx, f.client, metricsURL)
}
