package ingress

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
)

// Source types, the values of SourceConfig.Type.
const (
	TypeWebSocket = "websocket" // dial a WebSocket server, publish each frame
	TypeHTTPPoll  = "http_poll" // request a URL on an interval, publish the body when it changed
)

// Defaults of SourceConfig's zero values.
const (
	DefaultSourceTimeout  = 10 * time.Second
	DefaultPollInterval   = 30 * time.Second
	DefaultBackoffInitial = 100 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
	DefaultUserAgent      = "ringcast"
)

// AttrSource is the attribute that names the source of a message it
// published.
const AttrSource = "source"

// Backoff bounds the waits before a WebSocket source dials again (see
// httpx.Backoff); zero fields mean Initial 100ms and Max 30s.
type Backoff = httpx.Backoff

// SourceConfig configures one source. Name, Type, URL and Topic are
// required; every other field works at its zero value. The fields marked
// websocket or http_poll apply to that type only.
type SourceConfig struct {
	Name      string            // unique; in each message's "source" attribute and in logs
	Type      string            // TypeWebSocket or TypeHTTPPoll
	URL       string            // ws(s):// for a websocket, http(s):// for http_poll
	Topic     string            // where the messages go
	Headers   map[string]string // sent with every poll or the WebSocket handshake; nil: none
	UserAgent string            // the User-Agent unless Headers has one; "": "ringcast"
	Timeout   time.Duration     // one dial and handshake, or one poll (each hop of its redirects); 0: 10s
	TLS       *tls.Config       // the client side of https:// and wss://; nil: the system's roots

	Protocol  string  // websocket: Sec-WebSocket-Protocol, comma-separated; "": none
	Reconnect Backoff // websocket: the wait before dialing again

	Method       string        // http_poll: GET or POST; "": GET
	Interval     time.Duration // http_poll: time between polls; 0: 30s
	MaxRedirects int           // http_poll: redirects followed; 0: none
}

// Sources runs an Ingress's configured sources. Make it with
// Ingress.NewSources, then Start it; Shutdown stops it.
type Sources struct {
	i      *Ingress
	log    *slog.Logger
	list   []source
	ctx    context.Context // done when Shutdown starts
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// source is one running source.
type source interface {
	// run pulls and publishes until Sources.ctx is done.
	run()
	// abort closes its connection at once: Shutdown's context ended.
	abort()
}

// NewSources validates cfgs and makes their sources, not started. log gets
// each failure and recovery; nil: slog.Default().
func (i *Ingress) NewSources(cfgs []SourceConfig, log *slog.Logger) (*Sources, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Sources{i: i, log: log}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	seen := map[string]bool{}
	for n, cfg := range cfgs {
		err := cfg.fill()
		if err == nil && seen[cfg.Name] {
			err = errors.New("the name is taken by an earlier source")
		}
		if err != nil {
			s.cancel()
			return nil, fmt.Errorf("ingress: source %d (%q): %w", n, cfg.Name, err)
		}
		seen[cfg.Name] = true
		base := sourceBase{s: s, cfg: cfg, log: log.With("source", cfg.Name), attrs: map[string]string{AttrSource: cfg.Name}}
		if cfg.Type == TypeWebSocket {
			s.list = append(s.list, newWSSource(base))
		} else {
			s.list = append(s.list, newPollSource(base))
		}
	}
	return s, nil
}

// fill sets the defaults of cfg's zero fields and checks the rest.
func (cfg *SourceConfig) fill() error {
	if cfg.Name == "" {
		return errors.New("the name is empty")
	}
	if err := broker.ValidateTopic(cfg.Topic); err != nil {
		return fmt.Errorf("topic %q: %w", cfg.Topic, err)
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("url %q is not an absolute URL with a host", cfg.URL)
	}
	cfg.Timeout = cmp.Or(cfg.Timeout, DefaultSourceTimeout)
	cfg.UserAgent = cmp.Or(cfg.UserAgent, DefaultUserAgent)
	switch cfg.Type {
	case TypeWebSocket:
		if u.Scheme != "ws" && u.Scheme != "wss" {
			return fmt.Errorf("url %q: a websocket source needs ws:// or wss://", cfg.URL)
		}
		cfg.Reconnect.Initial = cmp.Or(cfg.Reconnect.Initial, DefaultBackoffInitial)
		cfg.Reconnect.Max = cmp.Or(cfg.Reconnect.Max, DefaultBackoffMax)
		if cfg.Reconnect.Initial > cfg.Reconnect.Max {
			return fmt.Errorf("reconnect: the initial backoff %v is more than the max %v", cfg.Reconnect.Initial, cfg.Reconnect.Max)
		}
	case TypeHTTPPoll:
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("url %q: an http_poll source needs http:// or https://", cfg.URL)
		}
		cfg.Method = cmp.Or(cfg.Method, "GET")
		cfg.Interval = cmp.Or(cfg.Interval, DefaultPollInterval)
		if cfg.Method != "GET" && cfg.Method != "POST" {
			return fmt.Errorf("method %q: want GET or POST", cfg.Method)
		}
		if cfg.MaxRedirects < 0 {
			return errors.New("max redirects must not be negative")
		}
	default:
		return fmt.Errorf("type %q: want %s or %s", cfg.Type, TypeWebSocket, TypeHTTPPoll)
	}
	if cfg.Timeout < 0 || cfg.Interval < 0 {
		return errors.New("timeout and interval must not be negative")
	}
	return nil
}

// Start starts every source.
func (s *Sources) Start() {
	for _, src := range s.list {
		s.wg.Go(src.run)
	}
}

// Shutdown stops every source: WebSocket sources close with 1001, a poll in
// flight ends, a publish waiting for block subscribers gives up (that
// message is not published). When ctx ends first, it closes the remaining
// connections at once, waits for the goroutines to notice and returns
// ctx's error.
func (s *Sources) Shutdown(ctx context.Context) error {
	s.cancel()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	for _, src := range s.list {
		src.abort()
	}
	<-done
	return fmt.Errorf("sources: %w", ctx.Err())
}

// sourceBase is what every source type has.
type sourceBase struct {
	s     *Sources
	cfg   SourceConfig
	log   *slog.Logger
	attrs map[string]string // {"source": name}, shared by every message
}

// publish publishes data, which the message keeps, into the source's
// topic. While block subscribers hold the ring full it tries again, so the
// source stops pulling and pushes back on its upstream; it gives up only
// at Shutdown or on an error that trying again cannot fix.
func (b *sourceBase) publish(data []byte, attrs map[string]string) error {
	if len(data) > b.s.i.maxMessage {
		return fmt.Errorf("a message of %d bytes is over the limit of %d (--max-message-bytes); it is not published", len(data), b.s.i.maxMessage)
	}
	for {
		err := b.s.i.b.Publish(b.s.ctx, b.cfg.Topic, &broker.Message{Data: data, Attrs: attrs})
		switch {
		case err == nil:
			b.s.i.m.publishedSource.Inc()
			return nil
		case errors.Is(err, broker.ErrBackpressure) && b.s.ctx.Err() == nil:
			continue // the broker waited its publish timeout; keep waiting
		}
		return err
	}
}

// sleep waits for wait, or until Shutdown; it reports whether to go on.
func (b *sourceBase) sleep(wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-b.s.ctx.Done():
		return false
	}
}
