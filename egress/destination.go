package egress

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/egress/template"
	"github.com/ringcast/ringcast/internal/httpx"
)

// Destination types, the values of DestinationConfig.Type.
const (
	TypeWebhook   = "webhook"   // an HTTP request per message
	TypeWebSocket = "websocket" // a WebSocket the broker dials, a frame per message
)

// Destination states, as GET /v1/destinations shows them.
const (
	StateStarting   = "starting"   // started, nothing tried yet
	StateConnecting = "connecting" // a WebSocket destination is dialing
	StateUp         = "up"         // the last request or connection worked
	StateDown       = "down"       // the last request or dial failed; see last_error
	StateStopped    = "stopped"    // Shutdown stopped it
)

// Defaults of DestinationConfig's zero values.
const (
	DefaultDestinationTimeout = 10 * time.Second
	DefaultBackoffInitial     = 100 * time.Millisecond
	DefaultBackoffMax         = 30 * time.Second
	DefaultUserAgent          = "ringcast"
)

// Backoff bounds the waits between tries (see httpx.Backoff); zero fields
// mean Initial 100ms and Max 30s.
type Backoff = httpx.Backoff

// DestinationConfig configures one destination. Name, Type, Topics and URL
// are required; every other field works at its zero value. The fields
// marked webhook or websocket apply to that type only.
type DestinationConfig struct {
	Name   string   // unique; the label value of the destination metrics
	Type   string   // TypeWebhook or TypeWebSocket
	Topics []string // topic patterns (broker.ParsePattern) whose messages are delivered
	// From is where delivery starts on the topics that exist at Start:
	// broker.Latest or broker.Oldest. A topic created later is delivered
	// from its first message. Zero: latest.
	From broker.Position
	// DropOldest makes a destination that falls a whole ring behind skip
	// ahead (the gap is counted as dropped). false: policy block, the
	// destination holds the ring and publishers wait for it.
	DropOldest bool
	URL        string            // http(s):// for a webhook, ws(s):// for a websocket
	Headers    map[string]string // sent with every request or the WebSocket handshake; nil: none
	UserAgent  string            // the User-Agent unless Headers has one; "": "ringcast"
	Template   *template.Template
	// Timeout bounds one request (each hop of a redirect chain), one dial or
	// handshake, and one write. 0: 10s.
	Timeout time.Duration
	// TLS is the client side of https:// and wss://. nil: the system's roots.
	TLS *tls.Config

	Method       string // webhook: POST, PUT, PATCH or DELETE; "": POST
	CheckOnStart bool   // webhook: HEAD the URL at Start; a failure only shows the destination down
	// MaxRedirects is how many redirects a webhook follows. 0: none; a 3xx
	// answer is then judged by its status like any other.
	MaxRedirects int
	MaxInFlight  int   // webhook: requests at once; over 1 the order is not kept; 0: 1
	SuccessOn    []int // webhook: statuses that mean delivered; empty: any 2xx
	DropOn       []int // webhook: statuses that dead-letter a message at once; empty: none
	MaxAttempts  int   // webhook: tries of a message before it is dead-lettered; 0: forever
	// Retry is the webhook's wait between tries; a Retry-After answer (in
	// seconds or as an HTTP date) replaces it for that wait.
	Retry Backoff
	// DeadLetter is the webhook's topic for messages dropped by DropOn or
	// out of attempts. "": "<topic>.dlq" of each message's topic, and then
	// a wildcard pattern ("a.*", "a.>") never subscribes to a topic ending
	// in ".dlq", so that the destination never reads its own dead letters
	// (an exact pattern like "a.dlq" still does).
	DeadLetter string

	Protocol string // websocket: Sec-WebSocket-Protocol, comma-separated; "": none
	// PingInterval is how often a WebSocket destination pings: keepalive
	// (no pong within two intervals closes the connection) and the
	// confirmation that moves its cursor. 0: 20s.
	PingInterval time.Duration
	Reconnect    Backoff // websocket: the wait between dials
}

// actor is what a destination type does with the messages of its topics.
type actor interface {
	// start starts the actor's goroutines, counted in destination.wg; they
	// return once destination.ctx is done.
	start()
	// abort closes every socket at once: Shutdown's context ended.
	abort()
}

// destination is one configured destination: a subscriber actor with its
// own cursor on each topic that matches its patterns. Destinations makes
// and runs them.
type destination struct {
	cfg      DestinationConfig
	b        *broker.Broker
	log      *slog.Logger
	patterns []broker.Pattern
	exact    []bool // patterns[i] has no wildcard
	m        destChildren
	act      actor                 // the running term's; nil between coordinated terms
	newAct   func() (actor, error) // makes the actor of a coordinated term

	// A coordinated destination (Destinations.Coordinate) runs in terms,
	// while this instance holds its lease; the fields from ctx to
	// unwatch, subs and ready are the current term's then. Without
	// coordination there is a single term, from Start to Shutdown.
	coord      Coordinator
	leader     prometheus.Gauge
	life       context.Context // done when Shutdown starts
	lifeCancel context.CancelFunc
	abortCh    chan struct{} // closed when Shutdown's context ends
	superDone  chan struct{} // closed when the supervisor returns; nil: not started
	holder     atomic.Pointer[string]

	ctx     context.Context // done when the term ends (Shutdown starts)
	cancel  context.CancelFunc
	wake    chan struct{} // capacity 1: a waiter marked a subscription ready
	wg      sync.WaitGroup
	unwatch []func()

	state atomic.Pointer[string] // one of the State constants

	mu        sync.Mutex
	subs      map[string]*topicSub    // by topic name
	resume    map[string]StoredCursor // a coordinated term's starting cursors, by topic
	pending   map[string]bool         // topics being subscribed to outside the broker's lock
	ready     []*topicSub             // handed over by their waiters, not yet taken by the actor
	lastErr   string
	lastErrAt time.Time

	delivered, deadLettered, dropped, retries atomic.Uint64
}

// topicSub is a destination's subscription to one topic. Its waiter
// goroutine owns the subscription while it is parked on it; from the
// moment it hands the subscription to the actor (destination.ready) until
// the actor hands it back (rearm), the actor owns it and reads it. The
// fields below sub are the actor's.
type topicSub struct {
	name  string
	sub   *broker.Subscription
	rearm chan struct{} // capacity 1; closed when the subscription ended

	dropped uint64 // sub.Dropped() when last counted

	// A subscription made to resume at floor, which got the engine's
	// history up to ringStart (its first cursor): under d.mu.
	floor, ringStart uint64

	inflight []inflightSeq // webhook: read, not done, in read order

	unacked []*broker.Message // websocket: read, not confirmed, in seq order
	sent    int               // websocket: unacked[:sent] were written on this connection
	queued  bool              // websocket: in the send list
	marked  bool              // websocket: written since the last ping
}

// Destinations runs an Egress's configured destinations. Make it with
// Egress.NewDestinations, then Start it; Shutdown stops it.
type Destinations struct {
	list []*destination
}

// NewDestinations validates cfgs and makes their destinations, not started.
// It registers the destination metrics in the Egress's Registerer, so call
// it once per Egress. log gets each failure and recovery; nil:
// slog.Default().
func (e *Egress) NewDestinations(cfgs []DestinationConfig, log *slog.Logger) (*Destinations, error) {
	if log == nil {
		log = slog.Default()
	}
	dm, err := newDestMetrics(e.cfg.Registerer)
	if err != nil {
		return nil, err
	}
	ds := &Destinations{}
	seen := map[string]bool{}
	for i := range cfgs {
		cfg := cfgs[i]
		if seen[cfg.Name] {
			return nil, fmt.Errorf("egress: destination %d: the name %q is taken by an earlier destination", i, cfg.Name)
		}
		seen[cfg.Name] = true
		d, err := e.newDestination(cfg, dm, log)
		if err != nil {
			return nil, fmt.Errorf("egress: destination %d (%q): %w", i, cfg.Name, err)
		}
		ds.list = append(ds.list, d)
	}
	return ds, nil
}

// newDestination fills cfg's defaults, validates it and makes the
// destination.
func (e *Egress) newDestination(cfg DestinationConfig, dm *destMetrics, log *slog.Logger) (*destination, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	d := &destination{
		cfg:     cfg,
		b:       e.b,
		log:     log.With("destination", cfg.Name),
		wake:    make(chan struct{}, 1),
		subs:    map[string]*topicSub{},
		abortCh: make(chan struct{}),
	}
	d.state.Store(new(StateStarting))
	d.holder.Store(new(""))
	for _, s := range cfg.Topics {
		p, err := broker.ParsePattern(s)
		if err != nil {
			return nil, fmt.Errorf("topics: %w", err)
		}
		if cfg.DeadLetter != "" && p.Match(cfg.DeadLetter) {
			return nil, fmt.Errorf("dead letter topic %q matches the destination's pattern %q: its dead letters would come back to it", cfg.DeadLetter, s)
		}
		d.patterns = append(d.patterns, p)
		d.exact = append(d.exact, !strings.ContainsAny(s, "*>"))
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.life, d.lifeCancel = context.WithCancel(context.Background())
	switch cfg.Type {
	case TypeWebhook:
		d.m = dm.children(cfg.Name, e.m.delivered[TransportWebhook], e.m.latency[TransportWebhook])
		d.newAct = func() (actor, error) { return newWebhook(d), nil }
	case TypeWebSocket:
		d.m = dm.children(cfg.Name, e.m.delivered[TransportWSClient], e.m.latency[TransportWSClient])
		d.newAct = func() (actor, error) { return newWSClient(d) }
	}
	act, err := d.newAct()
	if err == nil {
		d.act = act
		err = dm.registerLag(cfg.Name, d.lag)
	}
	if err != nil {
		d.cancel()
		d.lifeCancel()
		return nil, err
	}
	return d, nil
}

// fill sets the defaults of cfg's zero fields and checks the rest.
func (cfg *DestinationConfig) fill() error {
	if cfg.Name == "" {
		return errors.New("the name is empty")
	}
	if len(cfg.Topics) == 0 {
		return errors.New("no topic pattern: list at least one, like \"orders.>\"")
	}
	if cfg.From.Kind == broker.AtSeq {
		return errors.New("from must be latest or oldest, not a seq")
	}
	cfg.Timeout = cmp.Or(cfg.Timeout, DefaultDestinationTimeout)
	cfg.UserAgent = cmp.Or(cfg.UserAgent, DefaultUserAgent)
	fillBackoff(&cfg.Retry)
	fillBackoff(&cfg.Reconnect)
	if cfg.Timeout < 0 || cfg.PingInterval < 0 || cfg.Retry.Max < cfg.Retry.Initial || cfg.Reconnect.Max < cfg.Reconnect.Initial {
		return errors.New("timeout and ping interval must not be negative, and no initial backoff may exceed its max backoff")
	}
	if cfg.DeadLetter != "" {
		if err := broker.ValidateTopic(cfg.DeadLetter); err != nil {
			return fmt.Errorf("dead letter topic %q: %w", cfg.DeadLetter, err)
		}
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("url %q is not an absolute URL with a host", cfg.URL)
	}
	switch cfg.Type {
	case TypeWebhook:
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("url %q: a webhook needs http:// or https://", cfg.URL)
		}
		cfg.Method = cmp.Or(cfg.Method, "POST")
		if !slices.Contains([]string{"POST", "PUT", "PATCH", "DELETE"}, cfg.Method) {
			return fmt.Errorf("method %q: want POST, PUT, PATCH or DELETE", cfg.Method)
		}
		cfg.MaxInFlight = cmp.Or(cfg.MaxInFlight, 1)
		if cfg.MaxInFlight < 0 || cfg.MaxRedirects < 0 || cfg.MaxAttempts < 0 {
			return errors.New("max in flight, max redirects and max attempts must not be negative")
		}
	case TypeWebSocket:
		if u.Scheme != "ws" && u.Scheme != "wss" {
			return fmt.Errorf("url %q: a websocket destination needs ws:// or wss://", cfg.URL)
		}
		cfg.PingInterval = cmp.Or(cfg.PingInterval, DefaultPingInterval)
	default:
		return fmt.Errorf("type %q: want %s or %s", cfg.Type, TypeWebhook, TypeWebSocket)
	}
	return nil
}

// fillBackoff sets the defaults of b's zero fields.
func fillBackoff(b *Backoff) {
	b.Initial = cmp.Or(b.Initial, DefaultBackoffInitial)
	b.Max = cmp.Or(b.Max, DefaultBackoffMax)
}

// Start starts every destination: each subscribes to the topics that match
// its patterns now and to each matching topic created later.
func (ds *Destinations) Start() {
	for _, d := range ds.list {
		d.start()
	}
}

// Shutdown stops every destination: no new message is taken, requests in
// flight finish, retry waits end, WebSocket destinations close with 1001,
// and the subscriptions close. Messages read but not delivered stay
// undelivered (the broker is in memory). When ctx ends first, it closes
// the remaining sockets at once, waits for the goroutines to notice and
// returns ctx's error.
func (ds *Destinations) Shutdown(ctx context.Context) error {
	errs := make([]error, len(ds.list))
	var wg sync.WaitGroup
	for i, d := range ds.list {
		wg.Go(func() { errs[i] = d.shutdown(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Status returns each destination's status, in configuration order.
func (ds *Destinations) Status() []DestinationStatus {
	out := make([]DestinationStatus, 0, len(ds.list))
	for _, d := range ds.list {
		out = append(out, d.status())
	}
	return out
}

// start runs d here from now on or, when coordinated, starts the
// supervisor that runs it while this instance holds its lease.
func (d *destination) start() {
	if d.coord == nil {
		d.run()
		return
	}
	d.cancel() // each term makes its own context
	d.superDone = make(chan struct{})
	go d.supervise()
}

// beginTerm starts a coordinated term: a fresh actor and subscriptions
// that resume after the stored cursors resume. With a shared broker it
// attaches the topics the patterns name exactly, so that their mirrors
// exist (a standby instance may have let them go idle).
func (d *destination) beginTerm(resume map[string]StoredCursor) error {
	act := d.act
	if act == nil {
		var err error
		if act, err = d.newAct(); err != nil {
			return err
		}
	}
	d.mu.Lock()
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.act = act
	d.resume = resume
	d.subs = map[string]*topicSub{}
	d.pending = map[string]bool{}
	clear(d.ready)
	d.ready = d.ready[:0]
	d.mu.Unlock()
	select {
	case <-d.wake:
	default:
	}
	d.setHolder(d.coord.Instance())
	d.setState(StateStarting, nil)
	d.run()
	if d.b.Shared() {
		for i, name := range d.cfg.Topics {
			if d.exact[i] && d.b.Attached(name) == nil {
				d.log.Warn("cannot attach a destination's topic: it is delivered once it is attached again", "topic", name)
			}
		}
	}
	return nil
}

// run starts the actor, then watches the patterns; the watch callbacks
// start a waiter per topic.
func (d *destination) run() {
	d.act.start()
	for i, p := range d.patterns {
		exact := d.exact[i]
		d.unwatch = append(d.unwatch, d.b.Watch(p, func(t *broker.Topic) { d.watched(t, exact) }))
	}
}

// watched subscribes to a topic that matches a pattern of d. It runs under
// the broker's creation lock (broker.Broker.Watch).
func (d *destination) watched(t *broker.Topic, exact bool) {
	name := t.Name()
	if !exact && d.cfg.DeadLetter == "" && strings.HasSuffix(name, ".dlq") {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.subs[name] != nil || d.pending[name] || d.ctx.Err() != nil {
		return // another pattern matched it too, or Shutdown has begun
	}
	policy := broker.Block
	if d.cfg.DropOldest {
		policy = broker.DropOldest
	}
	opts := broker.SubscribeOptions{From: d.cfg.From, Policy: policy, Trusted: true, ManualCommit: true}
	if seq, ok := d.resumeAt(name, t.Epoch()); ok {
		opts.From = broker.Position{Kind: broker.AtSeq, Seq: seq}
		if d.b.Shared() {
			// A coordinated term resumes after the stored cursor, which
			// the local mirror may no longer hold: the broker's Subscribe
			// reads what it lacks from the engine's history, with network
			// I/O, so not here under the broker's lock.
			d.pending[name] = true
			d.wg.Add(1)
			go d.subscribeShared(name, opts)
			return
		}
	}
	sub, err := t.Subscribe(opts)
	if err != nil {
		d.log.Warn("cannot subscribe", "topic", name, "err", err)
		return
	}
	d.addSub(name, sub)
}

// addSub starts reading sub, the subscription to the topic called name.
// Called under d.mu.
func (d *destination) addSub(name string, sub *broker.Subscription) *topicSub {
	ts := &topicSub{name: name, sub: sub, rearm: make(chan struct{}, 1)}
	d.subs[name] = ts
	d.wg.Add(1)
	go d.waiter(ts)
	return ts
}

// subscribeShared subscribes to the shared topic called name through the
// broker, trying again every second while the engine is unavailable,
// until the term ends.
func (d *destination) subscribeShared(name string, opts broker.SubscribeOptions) {
	defer d.wg.Done()
	for {
		sub, err := d.b.Subscribe(name, opts)
		d.mu.Lock()
		switch {
		case err == nil && d.ctx.Err() == nil:
			delete(d.pending, name)
			ts := d.addSub(name, sub)
			// Until a message from the ring is committed, the engine's
			// history before it may not be delivered yet, while the
			// cursor is already past it.
			ts.floor, ts.ringStart = opts.From.Seq, sub.Cursor()
			d.mu.Unlock()
			return
		case err == nil:
			d.mu.Unlock()
			sub.Close()
			return
		}
		d.mu.Unlock()
		d.log.Warn("cannot subscribe", "topic", name, "err", err)
		if !d.sleep(time.Second) {
			return
		}
	}
}

// waiter parks on ts's subscription and hands it to the actor when
// something is ready, then waits until the actor hands it back.
func (d *destination) waiter(ts *topicSub) {
	defer d.wg.Done()
	done := d.ctx.Done()
	for {
		select {
		case <-ts.sub.Wait():
		case <-done:
			return
		}
		d.mu.Lock()
		d.ready = append(d.ready, ts)
		d.mu.Unlock()
		select {
		case d.wake <- struct{}{}:
		default:
		}
		select {
		case _, ok := <-ts.rearm:
			if !ok {
				return
			}
		case <-done:
			return
		}
	}
}

// takeReady appends to owned the subscriptions handed over since the last
// call. Only the actor calls it.
func (d *destination) takeReady(owned []*topicSub) []*topicSub {
	d.mu.Lock()
	owned = append(owned, d.ready...)
	clear(d.ready)
	d.ready = d.ready[:0]
	d.mu.Unlock()
	return owned
}

// read reads up to len(buf) messages of ts, which the actor owns, and
// counts what a drop-oldest subscription skipped. When nothing is ready it
// hands ts back to its waiter; when the subscription ended (the broker
// closes) it forgets ts. Either way it returns 0, and the actor must drop
// ts from the subscriptions it owns.
func (d *destination) read(ts *topicSub, buf []*broker.Message) int {
	n, err := ts.sub.Read(buf)
	if dr := ts.sub.Dropped(); dr != ts.dropped {
		d.countDropped(dr - ts.dropped)
		ts.dropped = dr
	}
	switch {
	case err != nil:
		d.mu.Lock()
		delete(d.subs, ts.name)
		d.mu.Unlock()
		close(ts.rearm)
		return 0
	case n == 0:
		ts.rearm <- struct{}{}
	}
	return n
}

// sleep waits for wait, or until Shutdown; it reports whether to go on.
func (d *destination) sleep(wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-d.ctx.Done():
		return false
	}
}

// shutdown stops d: see Destinations.Shutdown.
func (d *destination) shutdown(ctx context.Context) error {
	d.lifeCancel()
	var err error
	switch {
	case d.coord == nil:
		if d.endTerm(ctx.Done()) {
			err = fmt.Errorf("destination %s: %w", d.cfg.Name, ctx.Err())
		}
	case d.superDone != nil:
		select {
		case <-d.superDone:
		case <-ctx.Done():
			close(d.abortCh)
			<-d.superDone
			err = fmt.Errorf("destination %s: %w", d.cfg.Name, ctx.Err())
		}
	default:
		d.cancel() // never started
	}
	d.setState(StateStopped, nil)
	return err
}

// endTerm stops the running term: no new message is taken, the
// goroutines return (requests in flight finish unless abort is closed
// first, which closes the sockets) and the subscriptions close. It
// reports whether abort cut the wait short.
func (d *destination) endTerm(abort <-chan struct{}) (aborted bool) {
	for _, stop := range d.unwatch {
		stop() // after this no watch callback runs, so no waiter starts
	}
	d.unwatch = nil
	d.cancel()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-abort:
		d.act.abort()
		<-done
		aborted = true
	}
	d.mu.Lock()
	for _, ts := range d.subs {
		ts.sub.Close()
	}
	d.mu.Unlock()
	if d.coord != nil {
		d.act = nil // the next term makes its own
	}
	return aborted
}

// setState records the destination's state and, with err, its last error.
// Without an error and a change it costs one atomic load: a webhook calls
// it after every request.
func (d *destination) setState(state string, err error) {
	if err == nil && *d.state.Load() == state {
		return
	}
	if err != nil {
		d.mu.Lock()
		d.lastErr, d.lastErrAt = err.Error(), time.Now().UTC()
		d.mu.Unlock()
	}
	if *d.state.Swap(&state) == state {
		return
	}
	if state == StateUp {
		d.m.up.Set(1)
	} else {
		d.m.up.Set(0)
	}
	switch state {
	case StateUp:
		d.log.Info("destination up")
	case StateDown:
		d.log.Warn("destination down", "err", err)
	}
}

// lag is how many messages of d's topics are published and not delivered.
func (d *destination) lag() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	var n uint64
	for _, ts := range d.subs {
		n += ts.sub.Lag()
	}
	return float64(n)
}

// countDelivered counts n messages delivered, the first of them m, and
// observes the latency from m's acceptance.
func (d *destination) countDelivered(n int, m *broker.Message) {
	d.delivered.Add(uint64(n))
	d.m.success.Add(float64(n))
	d.m.transportDelivered.Add(float64(n))
	lat := time.Since(m.Time).Seconds()
	d.m.latency.Observe(lat)
	if d.m.sample.Add(1)%latencySampleEvery == 1 {
		d.m.transportLatency.Observe(lat)
	}
}

// countDropped counts n messages lost: skipped by drop-oldest, or that
// could not be dead-lettered.
func (d *destination) countDropped(n uint64) {
	d.dropped.Add(n)
	d.m.dropped.Add(float64(n))
}

// countRetries counts n messages that will be tried again.
func (d *destination) countRetries(n int) {
	d.retries.Add(uint64(n))
	d.m.retry.Add(float64(n))
}

// DestinationStatus is one destination as GET /v1/destinations shows it.
type DestinationStatus struct {
	Name          string        `json:"name"`
	Type          string        `json:"type"`
	URL           string        `json:"url"`    // without its password
	State         string        `json:"state"`  // one of the State constants
	Policy        string        `json:"policy"` // block or drop-oldest
	Topics        []string      `json:"topics"` // the patterns
	Cursors       []TopicCursor `json:"cursors"`
	Lag           uint64        `json:"lag"` // published and not delivered, every topic
	LastError     string        `json:"last_error"`
	LastErrorTime *time.Time    `json:"last_error_time,omitempty"`
	Delivered     uint64        `json:"delivered"`
	DeadLettered  uint64        `json:"dead_lettered"`
	Dropped       uint64        `json:"dropped"`
	Retries       uint64        `json:"retries"`
	// Holder is, when instances share the destination (the redis
	// engine), the id of the instance that holds its lease and runs it:
	// this one unless State is standby. "": not shared, or not known.
	Holder string `json:"holder,omitempty"`
}

// TopicCursor is a destination's position in one topic.
type TopicCursor struct {
	Topic  string `json:"topic"`
	Cursor uint64 `json:"cursor"` // the first seq not delivered (or dead-lettered)
	Head   uint64 `json:"head"`   // the topic's last seq
	Lag    uint64 `json:"lag"`
}

// status returns the destination's status.
func (d *destination) status() DestinationStatus {
	st := DestinationStatus{
		Name:         d.cfg.Name,
		Type:         d.cfg.Type,
		URL:          redact(d.cfg.URL),
		Policy:       broker.Block.String(),
		Topics:       slices.Clone(d.cfg.Topics),
		Cursors:      []TopicCursor{},
		Delivered:    d.delivered.Load(),
		DeadLettered: d.deadLettered.Load(),
		Dropped:      d.dropped.Load(),
		Retries:      d.retries.Load(),
	}
	if d.cfg.DropOldest {
		st.Policy = broker.DropOldest.String()
	}
	st.State = *d.state.Load()
	if d.coord != nil {
		st.Holder = *d.holder.Load()
	}
	d.mu.Lock()
	st.LastError = d.lastErr
	if !d.lastErrAt.IsZero() {
		at := d.lastErrAt
		st.LastErrorTime = &at
	}
	for _, ts := range d.subs {
		c := TopicCursor{Topic: ts.name, Cursor: ts.sub.Cursor(), Head: ts.sub.Topic().Head(), Lag: ts.sub.Lag()}
		st.Lag += c.Lag
		st.Cursors = append(st.Cursors, c)
	}
	d.mu.Unlock()
	slices.SortFunc(st.Cursors, func(a, b TopicCursor) int { return strings.Compare(a.Topic, b.Topic) })
	return st
}

// redact hides the password of a URL with user info.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return u.Redacted()
}
