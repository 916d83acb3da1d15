package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/fasthttp/websocket"
)

// ScenarioConnections names the idle connections scenario.
const ScenarioConnections = "connections"

// ConnectionsConfig configures Connections. Its zero value ramps to 1,000
// idle WebSocket subscribers against http://127.0.0.1:8080.
type ConnectionsConfig struct {
	URL         string        `json:"url"`         // the broker's base URL, the only one the run talks to; "": http://127.0.0.1:8080
	Topic       string        `json:"topic"`       // "": bench.connections
	Connections int           `json:"connections"` // idle subscribers to hold; 0: 1000
	Transport   string        `json:"transport"`   // ws or sse; "": ws
	Ramp        int           `json:"ramp"`        // connections opened per second; 0: as fast as 32 dials at a time go
	Hold        time.Duration `json:"hold_ns"`     // how long every connection stays idle before the broker's memory is read; 0: 5s
	Messages    int           `json:"messages"`    // messages then published to all of them, each checked; 0: 3
	Size        int           `json:"size"`        // payload bytes of those; 0: 100
	Timeout     time.Duration `json:"timeout_ns"`  // bounds the ramp, and the delivery check separately; 0: 2m
	Progress    io.Writer     `json:"-"`           // receives a line a second while the run lasts; nil: none
}

// fdReserve is how many file descriptors a run needs besides its
// connections.
const fdReserve = 64

// idleReadBuffer is an idle subscriber's read buffer: small, as the
// broker's own.
const idleReadBuffer = 1024

// messagePace spaces the delivery check's messages.
const messagePace = 10 * time.Millisecond

func (cfg ConnectionsConfig) withDefaults() (ConnectionsConfig, error) {
	if cfg.URL == "" {
		cfg.URL = "http://127.0.0.1:8080"
	}
	if cfg.Topic == "" {
		cfg.Topic = "bench." + ScenarioConnections
	}
	if cfg.Connections == 0 {
		cfg.Connections = 1000
	}
	if cfg.Transport == "" {
		cfg.Transport = "ws"
	}
	if cfg.Hold == 0 {
		cfg.Hold = 5 * time.Second
	}
	if cfg.Messages == 0 {
		cfg.Messages = 3
	}
	if cfg.Size == 0 {
		cfg.Size = 100
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Minute
	}
	switch {
	case cfg.Connections < 0 || cfg.Ramp < 0 || cfg.Messages < 0:
		return cfg, errors.New("bench: --connections, --ramp and --messages must not be negative")
	case cfg.Hold < 0 || cfg.Timeout < 0:
		return cfg, errors.New("bench: --hold and --timeout must not be negative")
	case cfg.Size < MinPayloadSize:
		return cfg, fmt.Errorf("bench: --size %d: payloads carry a %d-byte stamp, so at least %d", cfg.Size, MinPayloadSize, MinPayloadSize)
	case cfg.Transport != "ws" && cfg.Transport != "sse":
		return cfg, fmt.Errorf("bench: --transport %q: want ws or sse", cfg.Transport)
	}
	return cfg, nil
}

// ConnectionsResult is what a connections run measured.
type ConnectionsResult struct {
	Scenario string            `json:"scenario"`
	Env      Env               `json:"env"`
	Config   ConnectionsConfig `json:"config"`

	Connected   int           `json:"connected"`
	Failed      int           `json:"failed"`       // dials that failed; the ramp stops at the first
	RampTime    time.Duration `json:"ramp_ns"`      // from the first dial to the last connection
	ConnectRate float64       `json:"connect_rate"` // connections/s during the ramp
	Handshake   Latency       `json:"handshake"`    // from dialing to subscribed
	FDLimit     uint64        `json:"fd_limit"`     // this process's soft RLIMIT_NOFILE after raising it

	Server *ConnectionsServer `json:"server,omitempty"` // nil when the broker's /metrics could not be read

	Published uint64     `json:"published"` // check messages published once every connection had been idle
	Expected  uint64     `json:"expected"`  // Published × Connected
	Delivered uint64     `json:"delivered"`
	Lost      uint64     `json:"lost"`
	Latency   Latency    `json:"latency"` // publish to receive of the check messages
	Loss      *LossCheck `json:"loss,omitempty"`

	Warnings []string `json:"warnings,omitempty"`
}

// ConnectionsServer is the broker's side of a connections run, from its
// /metrics before the first dial and after the hold.
type ConnectionsServer struct {
	RSSBefore      int64   `json:"rss_before_bytes"`
	RSSAfter       int64   `json:"rss_after_bytes"`
	RSSPerConn     float64 `json:"rss_per_connection_bytes"` // (RSSAfter − RSSBefore) / Connected
	Subscribers    float64 `json:"subscribers"`              // ringcast_subscribers{transport} after the hold: every client's
	Connections    float64 `json:"connections"`              // ringcast_connections{kind} after the hold
	CPUSeconds     float64 `json:"cpu_seconds"`              // process CPU time over the ramp and the hold
	CPUCores       float64 `json:"cpu_cores"`
	DroppedDuring  uint64  `json:"dropped"`            // ringcast_messages_dropped_total's increase over the whole run
	AcceptedDuring uint64  `json:"accepted,omitempty"` // ringcast_messages_published_total{transport="http"}'s increase
}

// Connections runs the idle connections scenario: it ramps to
// cfg.Connections subscribers of cfg.Topic, holds them idle for cfg.Hold,
// and reads the broker's resident memory before and after: its memory
// per connection. It then publishes cfg.Messages messages and checks that
// every connection gets each one, in order, and how long it took. Every
// connection is closed before it returns.
//
// Each connection is a file descriptor here and one in the broker: this
// process raises its own soft limit up to the hard one, but the broker
// needs its own (ulimit -n) above cfg.Connections too.
func Connections(ctx context.Context, cfg ConnectionsConfig) (ConnectionsResult, error) {
	res := ConnectionsResult{Scenario: ScenarioConnections, Env: currentEnv()}
	cfg, err := cfg.withDefaults()
	res.Config = cfg
	if err != nil {
		return res, err
	}
	if res.FDLimit, err = raiseFDLimit(uint64(cfg.Connections) + fdReserve); err != nil {
		return res, err
	}
	c, err := newConnRun(cfg)
	if err != nil {
		return res, err
	}
	defer c.transport.CloseIdleConnections()
	err = c.measure(ctx, &res)
	c.hangUp()
	res.Delivered, res.Lost = 0, 0
	loss := LossCheck{Policy: PolicyDropOldest}
	var connErrs []error
	for _, r := range c.conns {
		connErrs = append(connErrs, r.err)
		res.Delivered += r.delivered
		gaps := r.lost
		loss.Gaps += gaps
		if r.next <= res.Published {
			loss.Undelivered += res.Published + 1 - r.next
		}
		loss.Errors += r.errors
	}
	res.Lost = loss.Gaps + loss.Undelivered
	res.Expected = res.Published * uint64(res.Connected)
	res.Latency = latencyOf(c.hist)
	if res.Published > 0 {
		var srv *ServerStats
		if res.Server != nil {
			srv = &ServerStats{DroppedBy: map[string]uint64{"drop_oldest": res.Server.DroppedDuring}}
		}
		loss.judge(srv)
		res.Loss = &loss
	}
	if connErr := firstError(connErrs); err == nil && connErr != nil {
		err = fmt.Errorf("bench: %d of %d connections failed while idle: %w", countErrors(connErrs), len(connErrs), connErr)
	}
	return res, err
}

// connRun is one run of the connections scenario.
type connRun struct {
	cfg       ConnectionsConfig
	run       uint32
	topicURL  string
	subURL    string // set once the topic's head is known
	transport *http.Transport
	client    *http.Client

	mu        sync.Mutex // guards conns and hist while the ramp runs
	conns     []*idleConn
	hist      *hdr.Histogram // check messages' latencies
	handshake *hdr.Histogram
	failed    atomic.Int64
	connected atomic.Int64
	wg        sync.WaitGroup // every receiving goroutine
}

func newConnRun(cfg ConnectionsConfig) (*connRun, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bench: --url %q: want http://HOST:PORT or https://HOST:PORT", cfg.URL)
	}
	// No proxy: the run talks to cfg.URL and nothing else.
	tr := &http.Transport{DisableCompression: true, ResponseHeaderTimeout: handshakeTimeout, MaxIdleConnsPerHost: 1}
	return &connRun{
		cfg:       cfg,
		run:       rand.Uint32(),
		topicURL:  strings.TrimSuffix(u.String(), "/") + "/v1/topics/" + url.PathEscape(cfg.Topic),
		transport: tr,
		client:    &http.Client{Transport: tr},
		hist:      newHist(),
		handshake: newHist(),
	}, nil
}

// measure ramps, holds, reads the broker and checks delivery, filling res.
func (c *connRun) measure(ctx context.Context, res *ConnectionsResult) error {
	cfg := c.cfg
	setupCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	head, err := getTopicStats(setupCtx, c.client, c.topicURL, cfg.URL)
	if err != nil {
		return err
	}
	q := url.Values{"format": {"raw"}, "from": {strconv.FormatUint(head.HeadSeq+1, 10)}}
	if head.Epoch != "" {
		q.Set("epoch", head.Epoch)
	}
	c.subURL = strings.Replace(c.topicURL, "http", "ws", 1) + "/ws?" + q.Encode()
	if cfg.Transport == "sse" {
		c.subURL = c.topicURL + "/sse?" + q.Encode()
	}
	metricsURL := strings.TrimSuffix(c.topicURL, "/v1/topics/"+url.PathEscape(cfg.Topic)) + "/metrics"
	scrape := func() (serverSample, error) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), scrapeTimeout)
		defer cancel()
		return scrapeServer(sctx, c.client, metricsURL)
	}
	before, scrapeErr := scrape()

	t0 := time.Now()
	progressDone := make(chan struct{})
	var progress sync.WaitGroup
	progress.Go(func() { c.progress(t0, scrape, progressDone) })
	rampErr := c.ramp(setupCtx)
	res.RampTime = time.Since(t0)
	res.Connected, res.Failed = int(c.connected.Load()), int(c.failed.Load())
	if secs := res.RampTime.Seconds(); secs > 0 {
		res.ConnectRate = float64(res.Connected) / secs
	}
	c.mu.Lock()
	res.Handshake = latencyOf(c.handshake)
	c.mu.Unlock()
	if rampErr == nil {
		// The broker answers a handshake before it registers the
		// subscription: the check messages must come after.
		rampErr = c.awaitSubscribed(setupCtx, head.Subscribers+int64(res.Connected))
	}
	if rampErr == nil {
		select {
		case <-time.After(cfg.Hold):
		case <-ctx.Done():
			rampErr = fmt.Errorf("bench: interrupted: %w", ctx.Err())
		}
	}
	if scrapeErr == nil {
		var after serverSample
		if after, scrapeErr = scrape(); scrapeErr == nil {
			cpu := after.cpuSeconds - before.cpuSeconds
			res.Server = &ConnectionsServer{
				RSSBefore:   int64(before.rssBytes),
				RSSAfter:    int64(after.rssBytes),
				Subscribers: after.subscribers[cfg.Transport],
				Connections: after.connections[cfg.Transport],
				CPUSeconds:  cpu,
				CPUCores:    cpu / time.Since(t0).Seconds(),
			}
			if res.Connected > 0 {
				res.Server.RSSPerConn = (after.rssBytes - before.rssBytes) / float64(res.Connected)
			}
		}
	}
	close(progressDone)
	progress.Wait()
	if rampErr != nil {
		if scrapeErr != nil {
			res.Warnings = append(res.Warnings, scrapeErr.Error())
		}
		return rampErr
	}
	checkErr := c.check(ctx, res)
	if scrapeErr == nil {
		var after serverSample
		if after, scrapeErr = scrape(); scrapeErr == nil && res.Server != nil {
			res.Server.DroppedDuring = uint64(max(after.dropped-before.dropped, 0))
			res.Server.AcceptedDuring = uint64(max(after.published["http"]-before.published["http"], 0))
		}
	}
	if scrapeErr != nil {
		res.Warnings = append(res.Warnings, scrapeErr.Error())
	}
	return checkErr
}

// ramp opens every connection, cfg.Ramp a second or as fast as
// dialParallel dials at a time go, and stops at the first failure.
func (c *connRun) ramp(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	d := newDialer(idleReadBuffer, 256)
	sem := make(chan struct{}, dialParallel)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range c.cfg.Connections {
		if r := c.cfg.Ramp; r > 0 {
			at := start.Add(time.Duration(float64(i) / float64(r) * float64(time.Second)))
			if wait := time.Until(at); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
				}
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := c.dial(ctx, d); err != nil {
				c.failed.Add(1)
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("bench: connected %d of %d, then: %w", c.connected.Load(), c.cfg.Connections, err)
	}
	return nil
}

// dial opens one subscriber and starts its receiver.
func (c *connRun) dial(ctx context.Context, d websocket.Dialer) error {
	t := time.Now()
	var f feed
	if c.cfg.Transport == "sse" {
		sse, err := dialSSE(ctx, c.client, c.subURL, idleReadBuffer)
		if err != nil {
			return err
		}
		f = sse
	} else {
		ws, err := dialWSFeed(ctx, d, c.subURL, c.cfg.Size)
		if err != nil {
			return err
		}
		f = ws
	}
	took := time.Since(t)
	ic := &idleConn{feed: f, run: c.run, size: c.cfg.Size, next: 1, hist: c.hist, mu: &c.mu, finished: make(chan struct{})}
	c.mu.Lock()
	_ = c.handshake.RecordValue(min(max(took.Microseconds(), latencyMin), latencyMax))
	c.conns = append(c.conns, ic)
	c.wg.Go(ic.receive)
	c.mu.Unlock()
	c.connected.Add(1)
	return nil
}

// awaitSubscribed waits until the broker counts want subscribers of the
// topic.
func (c *connRun) awaitSubscribed(ctx context.Context, want int64) error {
	return awaitSubscribers(ctx, c.client, c.topicURL, c.cfg.URL, c.cfg.Topic, want)
}

// check publishes cfg.Messages stamped messages over HTTP and waits until
// every connection has them all, or cfg.Timeout.
func (c *connRun) check(ctx context.Context, res *ConnectionsResult) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	payload := newPayload(c.cfg.Size)
	for i := range c.cfg.Messages {
		if i > 0 {
			time.Sleep(messagePace)
		}
		stamp{run: c.run, counter: uint64(i + 1), sent: time.Now().UnixNano()}.put(payload)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.topicURL, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		resp, err := c.client.Do(req)
		if err != nil {
			return fmt.Errorf("bench: POST %s: %w", c.topicURL, err)
		}
		if resp.StatusCode != http.StatusCreated {
			msg := answer(resp)
			resp.Body.Close()
			return fmt.Errorf("bench: POST %s: %s", c.topicURL, msg)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		res.Published++
	}
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	for {
		done := true
		for _, ic := range c.conns {
			if ic.position.Load() < res.Published && !ic.ended.Load() {
				done = false
				break
			}
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			res.Warnings = append(res.Warnings, "not every connection had every check message by --timeout")
			return nil
		case <-tick.C:
		}
	}
}

// progress writes a line a second: connections so far and the broker's
// memory.
func (c *connRun) progress(t0 time.Time, scrape func() (serverSample, error), done <-chan struct{}) {
	w := c.cfg.Progress
	if w == nil {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last int64
	lastAt := t0
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			n := c.connected.Load()
			line := fmt.Sprintf("%4.0fs connected %d/%d (%.0f/s)  failed %d", now.Sub(t0).Seconds(), n, c.cfg.Connections,
				float64(n-last)/now.Sub(lastAt).Seconds(), c.failed.Load())
			if s, err := scrape(); err == nil {
				line += fmt.Sprintf("  server rss %s  subscribers %.0f", mib(int64(s.rssBytes)), s.subscribers[c.cfg.Transport])
			}
			fmt.Fprintln(w, line)
			last, lastAt = n, now
		}
	}
}

// hangUp closes every connection, politely first, and waits for every
// receiver.
func (c *connRun) hangUp() {
	c.mu.Lock()
	conns := c.conns
	c.mu.Unlock()
	for _, ic := range conns {
		ic.closing.Store(true)
		ic.feed.stop()
	}
	deadline := time.After(hangUpWait)
wait:
	for _, ic := range conns {
		select {
		case <-ic.done():
		case <-deadline:
			break wait
		}
	}
	for _, ic := range conns {
		ic.feed.abort()
	}
	c.wg.Wait()
}

// idleConn is one idle subscriber: it reads and checks the check messages
// that one publisher sends. Its goroutine owns the plain fields until it
// returns.
type idleConn struct {
	feed feed
	run  uint32
	size int

	next      uint64 // the counter expected next
	delivered uint64
	lost      uint64
	errors    uint64
	err       error
	hist      *hdr.Histogram // shared, under mu
	mu        *sync.Mutex
	finished  chan struct{} // closed when receive returns

	position atomic.Uint64 // counters received or skipped
	ended    atomic.Bool   // receive returned
	closing  atomic.Bool
}

func (ic *idleConn) done() <-chan struct{} { return ic.finished }

func (ic *idleConn) receive() {
	defer close(ic.finished)
	defer ic.ended.Store(true)
	defer ic.feed.close()
	for {
		b, received, err := ic.feed.next()
		if err != nil {
			if !ic.closing.Load() {
				ic.err = err
			}
			return
		}
		st, ok := readStamp(b)
		if !ok || len(b) != ic.size || st.run != ic.run || st.pub != 0 || st.counter < ic.next {
			ic.errors++
			continue
		}
		ic.lost += st.counter - ic.next
		ic.next = st.counter + 1
		ic.delivered++
		ic.position.Store(st.counter)
		ic.mu.Lock()
		_ = ic.hist.RecordValue(min(max((received-st.sent)/1000, latencyMin), latencyMax))
		ic.mu.Unlock()
	}
}

// WriteText writes r as a human-readable table.
func (r *ConnectionsResult) WriteText(w io.Writer) error {
	c := r.Config
	ramp := "unpaced"
	if c.Ramp > 0 {
		ramp = fmt.Sprintf("%d/s", c.Ramp)
	}
	fmt.Fprintf(w, "ringcast bench connections: %s, topic %s\n", c.URL, c.Topic)
	fmt.Fprintf(w, "connections %d (%s), ramp %s, hold %s, then %d check messages of %d B\n", c.Connections, c.Transport, ramp, c.Hold, c.Messages, c.Size)
	fmt.Fprintf(w, "%s, fd limit %d\n\n", r.Env, r.FDLimit)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "connected\t%d of %d\t%d failed, %.0f/s over %s\n", r.Connected, c.Connections, r.Failed, r.ConnectRate, r.RampTime.Round(time.Millisecond))
	writeLatency(tw, "handshake", r.Handshake)
	if s := r.Server; s != nil {
		fmt.Fprintf(tw, "server rss\t%s → %s\t\n", mib(s.RSSBefore), mib(s.RSSAfter))
		fmt.Fprintf(tw, "server rss per connection\t%.1f KiB\t%.0f bytes\n", s.RSSPerConn/1024, s.RSSPerConn)
		fmt.Fprintf(tw, "server subscribers\t%.0f\tringcast_subscribers{transport=%q}, every client's\n", s.Subscribers, c.Transport)
		fmt.Fprintf(tw, "server connections\t%.0f\tringcast_connections{kind=%q}\n", s.Connections, c.Transport)
		fmt.Fprintf(tw, "server cpu\t%.2f s\t%.2f cores over the ramp and the hold\n", s.CPUSeconds, s.CPUCores)
	}
	if r.Published > 0 {
		fmt.Fprintf(tw, "delivered\t%d of %d\t%d check messages to every connection\n", r.Delivered, r.Expected, r.Published)
		fmt.Fprintf(tw, "lost\t%d\t\n", r.Lost)
		writeLatency(tw, "latency", r.Latency)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if l := r.Loss; l != nil {
		fmt.Fprintf(w, "\nloss check: %s: %s\n", okOr(l.OK), l.Verdict)
	}
	for _, warning := range r.Warnings {
		fmt.Fprintln(w, "warning:", warning)
	}
	return nil
}
