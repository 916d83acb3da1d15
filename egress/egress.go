package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
)

// Defaults for Config's zero values.
const (
	DefaultMaxMessageBytes = 1 << 20
	DefaultPingInterval    = 20 * time.Second
	DefaultSSEHeartbeat    = 15 * time.Second
)

// closeGrace is how long a writer that sent a close frame waits for the
// peer's close frame before it closes the TCP connection.
const closeGrace = 2 * time.Second

// PublishFunc publishes data, a frame read from a mode=pubsub connection,
// into topic. data is valid only during the call: copy it to keep it
// (ingress.PublishFrame does). attrs is shared by every frame of the
// connection and must not be modified. origin identifies the connection
// (broker.Message.Origin). An error wrapping broker.ErrBackpressure makes
// the connection retry the same frame, one wrapping broker.ErrClosed closes
// it with 1001, any other with 1011.
type PublishFunc func(ctx context.Context, topic string, data []byte, attrs map[string]string, origin uint64) error

// Config configures an Egress. Only Broker is required.
type Config struct {
	Broker          *broker.Broker
	Conns           *httpx.ConnMetrics    // connection gauges and events; nil: a private, unregistered set
	Registerer      prometheus.Registerer // where egress metrics go; nil: not registered
	MaxMessageBytes int                   // largest frame accepted in mode=pubsub (--max-message-bytes); 0: 1 MiB
	PingInterval    time.Duration         // WebSocket ping period; a dead peer is closed within 2 intervals; 0: 20s
	SSEHeartbeat    time.Duration         // SSE comment heartbeat period; 0: 15s
	Publish         PublishFunc           // publishes mode=pubsub frames; nil: mode=pubsub is refused with 403

	// ReconnectWindow spreads reconnects after Shutdown: each WebSocket
	// subscriber's 1001 close says "draining; reconnect in <ms> ms" and
	// each SSE stream ends with "retry: <ms>", ms uniform in [0,
	// ReconnectWindow). 0: DefaultReconnectWindow (5s).
	ReconnectWindow time.Duration

	// KeepHijackedConns must equal the fasthttp.Server's field of that
	// name. When true, each actor runs in its own goroutine and fasthttp
	// frees the upgrade request's context at once (about 4.5 KB less per idle
	// subscriber); when false (the default), the actor runs in fasthttp's
	// hijack goroutine, which holds that context until the connection ends.
	KeepHijackedConns bool
}

// Egress serves subscribers. Create it with New; stop it with Shutdown.
type Egress struct {
	cfg        Config
	b          *broker.Broker
	ws, sse    *transport
	m          *metrics
	upgrader   websocket.FastHTTPUpgrader
	origins    atomic.Uint64 // last Origin id given to a pubsub connection
	writeLimit time.Duration // how long one write may block: 2 ping intervals

	kill     chan struct{} // closed when Shutdown's ctx ends: stop waiting for peers
	killOnce sync.Once

	mu       sync.Mutex
	closed   bool        // Shutdown started; written under mu
	draining atomic.Bool // closed, readable without mu
	conns    map[*conn]struct{}
	wg       sync.WaitGroup // every writer and reader goroutine

	// wrap, when set by a test, wraps every subscriber's socket.
	wrap func(net.Conn) net.Conn
}

// New validates cfg, fills its defaults and returns an Egress.
func New(cfg Config) (*Egress, error) {
	if cfg.Broker == nil {
		return nil, errors.New("egress: Config.Broker is required")
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.SSEHeartbeat == 0 {
		cfg.SSEHeartbeat = DefaultSSEHeartbeat
	}
	if cfg.MaxMessageBytes < 0 {
		return nil, fmt.Errorf("egress: MaxMessageBytes (--max-message-bytes) is %d; it must be positive", cfg.MaxMessageBytes)
	}
	if cfg.ReconnectWindow == 0 {
		cfg.ReconnectWindow = DefaultReconnectWindow
	}
	if cfg.PingInterval < 0 || cfg.SSEHeartbeat < 0 || cfg.ReconnectWindow < 0 {
		return nil, fmt.Errorf("egress: PingInterval (%v), SSEHeartbeat (%v) and ReconnectWindow (%v) must not be negative", cfg.PingInterval, cfg.SSEHeartbeat, cfg.ReconnectWindow)
	}
	if cfg.Conns == nil {
		cfg.Conns = httpx.NewConnMetrics(nil)
	}
	m := newMetrics(cfg.Registerer)
	e := &Egress{
		cfg:        cfg,
		b:          cfg.Broker,
		m:          m,
		ws:         m.transport(TransportWS, cfg.Conns.Open[httpx.KindWS]),
		sse:        m.transport(TransportSSE, cfg.Conns.Open[httpx.KindSSE]),
		writeLimit: 2 * cfg.PingInterval,
		kill:       make(chan struct{}),
		conns:      make(map[*conn]struct{}),
	}
	e.upgrader = websocket.FastHTTPUpgrader{
		ReadBufferSize:  readBufferSize,
		WriteBufferPool: &sync.Pool{}, // never used: frames are written raw; keeps the Conn from allocating one
		Error:           handshakeError,
	}
	return e, nil
}

// Shutdown closes every WebSocket subscriber with close code 1001 and the
// reason "draining; reconnect in <ms> ms", ends every SSE stream after a
// "retry: <ms>" field (ms drawn per subscriber over ReconnectWindow), and
// waits for every actor goroutine. When ctx ends first it closes the
// remaining sockets at once, waits for their goroutines to notice and
// returns ctx's error. New subscribers are refused with 503
// draining from the moment Shutdown starts.
func (e *Egress) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	e.draining.Store(true)
	for c := range e.conns {
		c.stop()
	}
	e.mu.Unlock()
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	e.killOnce.Do(func() { close(e.kill) })
	e.mu.Lock()
	for c := range e.conns {
		c.abort()
	}
	e.mu.Unlock()
	<-done
	return ctx.Err()
}

// register counts a new connection's writer goroutine, or reports false
// once Shutdown has started. A registered connection is told to stop by
// Shutdown.
func (e *Egress) register(c *conn) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.wg.Add(1)
	e.conns[c] = struct{}{}
	c.tr.opened()
	return true
}

// hijacked runs actor, a hijacked connection's writer: in the goroutine
// fasthttp hijacked it in, or, when fasthttp keeps hijacked connections
// open after its handler returns, in a goroutine of its own.
func (e *Egress) hijacked(actor func()) {
	if e.cfg.KeepHijackedConns {
		go actor()
		return
	}
	actor()
}

// unregister forgets a connection whose writer is about to return, and
// counts why it closed.
func (e *Egress) unregister(c *conn, r reason) {
	e.mu.Lock()
	delete(e.conns, c)
	e.mu.Unlock()
	c.tr.closed(e.cfg.Conns, r.isError())
	e.wg.Done()
}
