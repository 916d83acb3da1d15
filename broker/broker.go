package broker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for Config's zero values.
const (
	DefaultRingSize       = 65536
	DefaultMaxBytes       = 64 << 20
	DefaultMaxTopics      = 100000
	DefaultPublishTimeout = 5 * time.Second
	DefaultIdleTimeout    = 10 * time.Minute
)

// TopicRule overrides settings for the topics it matches. The first
// matching rule in Config.Rules wins.
type TopicRule struct {
	Match        string // a Pattern
	RingSize     int    // slots, a power of two; 0: Config.RingSize
	MaxBytes     int64  // 0: Config.MaxBytes
	AllowBlock   bool   // subscribers may ask policy block
	MetricsLabel bool   // the topic name may be a metric label value
}

// Config configures a Broker. Its zero value works.
type Config struct {
	RingSize       int                   // slots per topic, a power of two; 0: 65536
	MaxBytes       int64                 // payload bytes retained per topic; 0: 64 MiB
	MaxTopics      int                   // 0: 100000
	PublishTimeout time.Duration         // how long a publisher waits for block subscribers; 0: 5s
	IdleTimeout    time.Duration         // a topic with no subscriber and no publish this long is removed; 0: 10m, negative: never
	Rules          []TopicRule           // per-topic overrides, first match wins
	Registerer     prometheus.Registerer // where metrics go; nil: not registered
	// Engine shares topics between instances (see Engine); nil: the
	// memory engine, seqs assigned in this process.
	Engine Engine
}

type compiledRule struct {
	pattern Pattern
	rule    TopicRule
}

// Broker owns the topics. Create it with New, and stop it with Close.
type Broker struct {
	cfg    Config
	rules  []compiledRule
	m      *metrics
	topics sync.Map // name → *Topic
	count  atomic.Int64

	mu       sync.Mutex // serialises creation and removal
	closed   bool
	watchers []*watcher // under mu
	stop     chan struct{}
	stopped  sync.WaitGroup
}

// New validates cfg, fills its defaults and starts the idle-topic janitor.
func New(cfg Config) (*Broker, error) {
	if cfg.RingSize == 0 {
		cfg.RingSize = DefaultRingSize
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxTopics == 0 {
		cfg.MaxTopics = DefaultMaxTopics
	}
	if cfg.PublishTimeout == 0 {
		cfg.PublishTimeout = DefaultPublishTimeout
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if err := checkRingSize(cfg.RingSize); err != nil {
		return nil, fmt.Errorf("broker: ring size: %w", err)
	}
	if cfg.MaxBytes < 0 || cfg.MaxTopics < 0 || cfg.PublishTimeout < 0 {
		return nil, fmt.Errorf("broker: max bytes, max topics and publish timeout must not be negative")
	}
	b := &Broker{cfg: cfg, stop: make(chan struct{})}
	for i, r := range cfg.Rules {
		p, err := ParsePattern(r.Match)
		if err != nil {
			return nil, fmt.Errorf("broker: rule %d: %w", i, err)
		}
		if r.RingSize != 0 {
			if err := checkRingSize(r.RingSize); err != nil {
				return nil, fmt.Errorf("broker: rule %d (%s): ring size: %w", i, r.Match, err)
			}
		}
		b.rules = append(b.rules, compiledRule{p, r})
	}
	b.m = newMetrics(cfg.Registerer, func() float64 { return float64(b.count.Load()) })
	if cfg.IdleTimeout > 0 {
		b.stopped.Add(1)
		go b.janitor()
	}
	return b, nil
}

func checkRingSize(n int) error {
	if n < 2 || n&(n-1) != 0 || uint64(n) > MaxSeq/4 {
		return fmt.Errorf("%d is not a power of two of at least 2", n)
	}
	return nil
}

// Close stops the janitor and closes every topic: subscriptions end with
// ErrClosed and waiting publishers give up. It then closes the engine, if
// it has a Close method.
func (b *Broker) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	close(b.stop)
	b.topics.Range(func(_, v any) bool {
		v.(*Topic).close()
		return true
	})
	b.mu.Unlock()
	b.stopped.Wait()
	if c, ok := b.cfg.Engine.(interface{ Close() }); ok {
		c.Close()
	}
}

// Lookup returns an existing topic, or nil.
func (b *Broker) Lookup(name string) *Topic {
	if v, ok := b.topics.Load(name); ok {
		return v.(*Topic)
	}
	return nil
}

// Topic returns the topic called name, creating it if needed.
func (b *Broker) Topic(name string) (*Topic, error) {
	if t := b.Lookup(name); t != nil {
		return t, nil
	}
	if err := ValidateTopic(name); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	if t := b.Lookup(name); t != nil {
		return t, nil
	}
	if b.count.Load() >= int64(b.cfg.MaxTopics) {
		return nil, fmt.Errorf("%w: the limit is %d", ErrTooManyTopics, b.cfg.MaxTopics)
	}
	name = strings.Clone(name) // the caller's string may live in a reused buffer
	t := newTopic(name, b.topicConfig(name), b.m, time.Now())
	for _, w := range b.watchers {
		if w.pattern.Match(name) {
			w.fn(t)
		}
	}
	b.topics.Store(name, t)
	b.count.Add(1)
	return t, nil
}

// watcher is one Watch registration.
type watcher struct {
	pattern Pattern
	fn      func(*Topic)
}

// Watch calls fn with every topic that matches p: at once with those that
// exist, then, until stop is called, with each one created later, before
// any publisher or subscriber can reach it, so that a subscription fn makes
// misses nothing published to the topic. A topic removed as idle and
// created again is a new Topic, which fn gets too.
//
// fn runs with the broker's creation lock held (see the package doc's lock
// order): it must be quick and must not call the Broker's methods; it may
// call the Topic's, Subscribe included. After stop returns, fn is not
// running and is never called again. On a closed broker Watch does nothing.
func (b *Broker) Watch(p Pattern, fn func(*Topic)) (stop func()) {
	w := &watcher{pattern: p, fn: fn}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return func() {}
	}
	b.watchers = append(b.watchers, w)
	b.topics.Range(func(k, v any) bool {
		if p.Match(k.(string)) {
			fn(v.(*Topic))
		}
		return true
	})
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.watchers = slices.DeleteFunc(b.watchers, func(x *watcher) bool { return x == w })
	}
}

// AllowsBlock reports whether a topic's rule allows policy block.
// With an engine it never does: a subscriber cannot hold back publishers
// on other instances.
func (b *Broker) AllowsBlock(name string) bool {
	return b.cfg.Engine == nil && b.topicConfig(name).allowBlock
}

func (b *Broker) topicConfig(name string) topicConfig {
	c := topicConfig{ringSize: b.cfg.RingSize, maxBytes: b.cfg.MaxBytes, publishTimeout: b.cfg.PublishTimeout}
	for _, r := range b.rules {
		if !r.pattern.Match(name) {
			continue
		}
		if r.rule.RingSize != 0 {
			c.ringSize = r.rule.RingSize
		}
		if r.rule.MaxBytes != 0 {
			c.maxBytes = r.rule.MaxBytes
		}
		c.allowBlock, c.metricsLabel = r.rule.AllowBlock, r.rule.MetricsLabel
		break
	}
	return c
}

// Publish accepts m into topic, creating the topic if needed, and stamps
// its Topic, Epoch, Seq, ID and Time. It fails with ErrBadTopic,
// ErrTooManyTopics, ErrBackpressure or ErrClosed, and then accepted nothing.
func (b *Broker) Publish(ctx context.Context, topic string, m *Message) error {
	one := [1]*Message{m}
	return b.PublishBatch(ctx, topic, one[:])
}

// PublishBatch accepts ms as one batch with contiguous seqs, all or nothing.
// With an engine, the engine assigns the seqs and ctx is not used.
func (b *Broker) PublishBatch(ctx context.Context, topic string, ms []*Message) error {
	if b.cfg.Engine != nil {
		// A copy, so that ms does not escape on the memory engine's path.
		return b.cfg.Engine.Publish(topic, slices.Clone(ms))
	}
	for {
		t, err := b.Topic(topic)
		if err != nil {
			return err
		}
		if err := t.publish(ctx, ms); err != errRemoved {
			return err
		}
	}
}

// Subscribe starts a subscription to topic, creating the topic if needed.
// With an engine, see subscribeShared.
func (b *Broker) Subscribe(topic string, opts SubscribeOptions) (*Subscription, error) {
	if b.cfg.Engine != nil {
		return b.subscribeShared(topic, opts)
	}
	for {
		t, err := b.Topic(topic)
		if err != nil {
			return nil, err
		}
		s, err := t.subscribe(opts)
		if err != errRemoved {
			return s, err
		}
	}
}

// Topics returns every local topic's stats (AllTopics asks the engine).
func (b *Broker) Topics() []Stats {
	var out []Stats
	b.topics.Range(func(_, v any) bool {
		out = append(out, v.(*Topic).Stats())
		return true
	})
	return out
}

// janitor removes idle topics every half idle timeout.
func (b *Broker) janitor() {
	defer b.stopped.Done()
	tick := time.NewTicker(b.cfg.IdleTimeout / 2)
	defer tick.Stop()
	for {
		select {
		case <-b.stop:
			return
		case now := <-tick.C:
			b.removeIdle(now.UnixNano(), now.Add(-b.cfg.IdleTimeout).UnixNano())
		}
	}
}

// removeIdle removes the topics idle since before idleSince.
func (b *Broker) removeIdle(now, idleSince int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.topics.Range(func(k, v any) bool {
		if v.(*Topic).removeIfIdle(now, idleSince) {
			b.topics.Delete(k)
			b.count.Add(-1)
			b.m.topicsRemoved.Inc()
		}
		return true
	})
}
