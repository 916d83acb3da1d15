package edge

import (
	"crypto/tls"
	"net"
	"net/netip"
	"time"
)

// DefaultProxyHeaderTimeout bounds the wait for a trusted proxy's PROXY
// header when Config.ProxyHeaderTimeout is 0.
const DefaultProxyHeaderTimeout = 10 * time.Second

// Config configures a Listener. The zero value admits everyone, unlimited,
// over plain TCP.
type Config struct {
	TrustedProxies      Nets          // PROXY protocol and X-Forwarded-For are believed from these; nil: none
	ACL                 ACL           // nil: everyone allowed
	Certificate         *Certificate  // nil: no TLS
	MaxConnections      int           // 0: unlimited
	MaxConnectionsPerIP int           // 0: unlimited; trusted proxies are not limited per address
	ProxyHeaderTimeout  time.Duration // 0: DefaultProxyHeaderTimeout
	Metrics             *Metrics      // nil: counted privately
}

// Listener accepts connections through PROXY protocol, TLS and admission
// (see the package doc); Of finds the Conn of a connection it returned.
type Listener struct {
	inner   net.Listener
	tls     *tls.Config
	trusted Nets
	acl     ACL
	cnt     counter
	m       *Metrics
}

// NewListener wraps ln, which the Listener then owns and closes.
func NewListener(ln net.Listener, cfg Config) *Listener {
	if cfg.ProxyHeaderTimeout == 0 {
		cfg.ProxyHeaderTimeout = DefaultProxyHeaderTimeout
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	l := &Listener{
		inner:   proxyListener(ln, cfg.TrustedProxies, cfg.ProxyHeaderTimeout),
		trusted: cfg.TrustedProxies,
		acl:     cfg.ACL,
		cnt:     counter{maxTotal: cfg.MaxConnections, maxPerIP: cfg.MaxConnectionsPerIP, perIP: map[netip.Addr]int32{}},
		m:       cfg.Metrics,
	}
	if cfg.Certificate != nil {
		l.tls = cfg.Certificate.TLSConfig()
	}
	cfg.Metrics.open(l)
	return l
}

// Accept returns the next connection, not admitted yet: see Conn.Admit.
func (l *Listener) Accept() (net.Conn, error) {
	nc, err := l.inner.Accept()
	if err != nil {
		return nil, err
	}
	if l.tls != nil {
		nc = tls.Server(nc, l.tls)
	}
	c, _ := l.wrap(nc)
	return c, nil
}

// Close closes the listener; open connections stay open.
func (l *Listener) Close() error { return l.inner.Close() }

// Addr returns the listening address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// Open returns the number of admitted connections not closed yet,
// hijacked ones included; refused ones count until they are closed.
func (l *Listener) Open() int { return int(l.cnt.total.Load()) }

// OpenFrom returns the number of open connections counted from ip
// (connections from trusted proxies are not counted per address).
func (l *Listener) OpenFrom(ip netip.Addr) int { return l.cnt.from(ip.Unmap()) }

// release uncounts a closed connection.
func (l *Listener) release(c *Conn) { l.cnt.release(c.peer, !c.trusted) }
