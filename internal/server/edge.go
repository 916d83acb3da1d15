package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/internal/edge"
	"github.com/ringcast/ringcast/internal/httpx"
)

// Defaults of Limits' zero values.
const (
	DefaultReadTimeout    = 30 * time.Second
	DefaultWriteTimeout   = 30 * time.Second
	DefaultIdleTimeout    = 2 * time.Minute
	DefaultMaxHeaderBytes = 4 << 10
)

// connRetryAfter is the Retry-After, in seconds, of a connection refused
// by max_connections or max_connections_per_ip.
const connRetryAfter = "5"

// Limits bound what clients may use (the configuration's limits section,
// but max_topics, which is Config.MaxTopics). Every count is unlimited at
// zero; the timeouts and header size have defaults.
type Limits struct {
	MaxConnections      int           // client connections held at once, upgraded ones included; 0: unlimited
	MaxConnectionsPerIP int           // the same per client address (after PROXY protocol); trusted proxies are exempt; 0: unlimited
	PublishRatePerIP    int           // messages per second per client address, HTTP and WebSocket; 0: unlimited
	ReadTimeout         time.Duration // to read a whole request, from its first byte or from connecting; 0: 30s
	WriteTimeout        time.Duration // to write one response (not streams or WebSockets); 0: 30s
	IdleTimeout         time.Duration // between requests of a keep-alive connection; 0: 2m
	MaxHeaderBytes      int           // request line and headers; over it 431; 0: 4 KiB
	ReadyMaxConnections int           // /readyz answers 503 overloaded above this many connections; 0: no threshold
	ReadyMaxHeapBytes   int64         // /readyz answers 503 overloaded above this Go heap size; 0: no threshold
}

// withDefaults fills the zero timeouts and header size and checks that
// nothing is negative.
func (l Limits) withDefaults() (Limits, error) {
	if l.ReadTimeout == 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	if l.WriteTimeout == 0 {
		l.WriteTimeout = DefaultWriteTimeout
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxConnections < 0 || l.MaxConnectionsPerIP < 0 || l.PublishRatePerIP < 0 || l.ReadTimeout < 0 ||
		l.WriteTimeout < 0 || l.IdleTimeout < 0 || l.MaxHeaderBytes < 0 || l.ReadyMaxConnections < 0 || l.ReadyMaxHeapBytes < 0 {
		return l, fmt.Errorf("server: limits must not be negative: %+v", l)
	}
	return l, nil
}

// newEdge parses the ACL and trusted proxies, loads the TLS certificate
// and makes the rate limiter and the edge's metrics.
func (s *Server) newEdge() error {
	var err error
	if s.cfg.Limits, err = s.cfg.Limits.withDefaults(); err != nil {
		return err
	}
	if s.acl, err = edge.ParseACL(s.cfg.ACL); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	if s.trusted, err = edge.ParseNets("trusted_proxies", s.cfg.TrustedProxies); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	switch t := s.cfg.TLS; {
	case t.CertFile == "" && t.KeyFile == "":
	case t.CertFile == "" || t.KeyFile == "":
		return errors.New("server: tls needs both cert_file and key_file")
	default:
		if s.cert, err = edge.LoadCertificate(t.CertFile, t.KeyFile); err != nil {
			return fmt.Errorf("server: %w", err)
		}
	}
	s.rate = edge.NewRateLimiter(s.cfg.Limits.PublishRatePerIP)
	s.edgeMetrics = edge.NewMetrics(s.reg)
	return nil
}

// listen opens the listener: TCP, then PROXY protocol from trusted
// proxies, TLS and admission (package edge).
func (s *Server) listen() (*edge.Listener, error) {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return nil, err
	}
	return edge.NewListener(ln, edge.Config{
		TrustedProxies:      s.trusted,
		ACL:                 s.acl,
		Certificate:         s.cert,
		MaxConnections:      s.cfg.Limits.MaxConnections,
		MaxConnectionsPerIP: s.cfg.Limits.MaxConnectionsPerIP,
		ProxyHeaderTimeout:  min(s.cfg.Limits.ReadTimeout, edge.DefaultProxyHeaderTimeout),
		Metrics:             s.edgeMetrics,
	}), nil
}

// ReloadTLS reads the TLS certificate and key files again (SIGHUP): new
// connections get the new certificate, open ones keep theirs. On error
// the certificate in use stays. Without TLS it does nothing.
func (s *Server) ReloadTLS() error {
	if s.cert == nil {
		return nil
	}
	err := s.cert.Reload()
	s.edgeMetrics.Reloaded(err)
	if err != nil {
		s.log.Error("TLS certificate not reloaded; the previous one stays in use", "err", err)
		return err
	}
	s.log.Info("TLS certificate reloaded", "cert_file", s.cfg.TLS.CertFile, "not_after", s.cert.NotAfter())
	return nil
}

// handle is the server's handler: the edge's checks, then route.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	if s.admit(ctx) {
		s.route(ctx)
	}
}

// admit answers a request of a refused connection (ACL, connection
// limits) with its error and closes the connection. On a trusted proxy's
// connection it takes the client address from X-Forwarded-For, sets it
// as the request's remote address (for remote_addr, $HOST and the rate
// limit) and checks it against the ACL.
func (s *Server) admit(ctx *fasthttp.RequestCtx) bool {
	c := edge.Of(ctx.Conn())
	if c == nil {
		return true
	}
	switch c.Refusal() {
	case edge.Admitted:
	case edge.Denied:
		ctx.SetConnectionClose()
		s.deny(ctx, c.Peer())
		return false
	case edge.MaxConnections:
		s.overloaded(ctx, "the server holds as many connections as it allows (limits.max_connections); retry later or on another instance")
		return false
	case edge.MaxConnectionsPerIP:
		s.overloaded(ctx, "your address holds as many connections as one address may (limits.max_connections_per_ip); close some and retry")
		return false
	}
	if !c.Trusted() {
		return true
	}
	xff := ctx.Request.Header.PeekAll(fasthttp.HeaderXForwardedFor)
	ip := s.trusted.ClientIP(c.Peer(), xff)
	if ip == c.Peer() {
		ctx.SetRemoteAddr(nil) // a keep-alive connection's previous request may have set one
	} else {
		ctx.SetRemoteAddr(&net.TCPAddr{IP: ip.AsSlice()})
	}
	if !s.acl.Allows(ip) {
		s.edgeMetrics.Denied()
		s.deny(ctx, ip)
		return false
	}
	return true
}

// deny answers 403 to an address the ACL denies. A trusted proxy's
// connection stays open for its other clients.
func (s *Server) deny(ctx *fasthttp.RequestCtx, ip netip.Addr) {
	s.countRefusedPublish(ctx, httpx.CodeForbidden)
	httpx.WriteError(ctx, fasthttp.StatusForbidden, httpx.CodeForbidden, "the server's acl does not allow your address "+ip.String())
}

// overloaded answers 503 overloaded to a connection over a limit.
func (s *Server) overloaded(ctx *fasthttp.RequestCtx, sentence string) {
	s.countRefusedPublish(ctx, httpx.CodeOverloaded)
	ctx.SetConnectionClose()
	ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, connRetryAfter)
	httpx.WriteError(ctx, fasthttp.StatusServiceUnavailable, httpx.CodeOverloaded, sentence)
}

// countRefusedPublish counts a refused request in
// ringcast_publish_rejected_total when it is a publish (POST to a topic
// or its batch).
func (s *Server) countRefusedPublish(ctx *fasthttp.RequestCtx, code string) {
	if ctx.IsPost() && len(ctx.Path()) > len("/v1/topics/") && string(ctx.Path()[:len("/v1/topics/")]) == "/v1/topics/" {
		s.ingress.RejectedCounter(code).Inc()
	}
}

// allowPublish takes n messages from the client address's
// publish_rate_per_ip budget, or answers 429 rate_limited with
// Retry-After and returns false.
func (s *Server) allowPublish(ctx *fasthttp.RequestCtx, n int) bool {
	if s.rate == nil {
		return true
	}
	ok, wait := s.rate.Allow(edge.AddrOf(ctx.RemoteAddr()), n)
	if ok {
		return true
	}
	s.edgeMetrics.Rejected(edge.LimitPublishRate).Inc()
	s.ingress.RejectedCounter(httpx.CodeRateLimited).Inc()
	ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, strconv.Itoa(int(max(1, math.Ceil(wait.Seconds())))))
	httpx.WriteError(ctx, fasthttp.StatusTooManyRequests, httpx.CodeRateLimited,
		fmt.Sprintf("your address publishes more than the server allows (limits.publish_rate_per_ip: %d messages/s); nothing was accepted, retry after %v", s.cfg.Limits.PublishRatePerIP, wait.Round(time.Millisecond)))
	return false
}

// pace waits before a WebSocket frame from remoteAddr is published, as
// long as publish_rate_per_ip requires; ingress calls it.
func (s *Server) pace(ctx context.Context, remoteAddr string) error {
	ip, err := netip.ParseAddr(remoteAddr)
	if err != nil {
		return nil // no address: nothing to limit by
	}
	waited, err := s.rate.Wait(ctx, ip)
	if waited {
		s.edgeMetrics.Delayed(edge.LimitPublishRate).Inc()
	}
	return err
}

// batchCost is the number of messages a batch body holds: its non-empty
// lines.
func batchCost(body []byte) int {
	n, start := 0, 0
	for i, b := range body {
		if b == '\n' {
			if i > start {
				n++
			}
			start = i + 1
		}
	}
	if len(body) > start {
		n++
	}
	return n
}

// pacer returns pace, or nil when there is no publish_rate_per_ip.
func (s *Server) pacer() func(context.Context, string) error {
	if s.rate == nil {
		return nil
	}
	return s.pace
}

// HasTLS reports whether the server speaks TLS (Config.TLS).
func (s *Server) HasTLS() bool { return s.cert != nil }
