package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
)

// Defaults of the options.
const (
	DefaultDialTimeout    = 10 * time.Second
	DefaultBackoffInitial = 250 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
)

// Client talks to one Ringcast server. It is safe for concurrent use; make
// one and share it.
type Client struct {
	base        string // http(s)://host[:port][/prefix], no trailing slash
	wsBase      string // the same with ws(s)://
	token       string
	hc          *http.Client
	dialTimeout time.Duration
	backoffMin  time.Duration
	backoffMax  time.Duration
	dialer      websocket.Dialer // a template: dialWS copies it
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client of every HTTP request: publish,
// batch, server-sent events and Subscribe's topic lookup. Its Timeout, if
// any, also ends SSE streams, so leave it 0 when subscribing over SSE and
// bound requests with their context instead. The TLS and proxy settings of
// its *http.Transport also apply to WebSocket connections. Default: a
// client of its own whose connections time out after the dial timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithToken authenticates every request with token: as the header
// Authorization: Bearer on HTTP requests and as the query parameter token
// on WebSocket URLs, as browsers must.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithDialTimeout bounds connecting, including the WebSocket handshake and
// the wait for an SSE stream's answer. Default: DefaultDialTimeout.
func WithDialTimeout(d time.Duration) Option { return func(c *Client) { c.dialTimeout = d } }

// WithBackoff sets how long a Subscription waits before reconnecting:
// initial after the first failure, doubling after each further failure up
// to max, each wait jittered down by up to half. The first message on a
// new connection starts over at initial. Defaults: DefaultBackoffInitial
// and DefaultBackoffMax.
func WithBackoff(initial, max time.Duration) Option {
	return func(c *Client) { c.backoffMin, c.backoffMax = initial, max }
}

// New returns a client of the server at baseURL, http://HOST[:PORT] or
// https://HOST[:PORT], optionally with a path prefix that the server's
// routes follow (behind a reverse proxy).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("client: base URL %q: want http://HOST[:PORT] or https://HOST[:PORT], with no query", baseURL)
	}
	c := &Client{
		dialTimeout: DefaultDialTimeout,
		backoffMin:  DefaultBackoffInitial,
		backoffMax:  DefaultBackoffMax,
	}
	for _, o := range opts {
		o(c)
	}
	switch {
	case c.dialTimeout <= 0:
		return nil, fmt.Errorf("client: WithDialTimeout(%v): want a positive duration", c.dialTimeout)
	case c.backoffMin <= 0 || c.backoffMax < c.backoffMin:
		return nil, fmt.Errorf("client: WithBackoff(%v, %v): want 0 < initial <= max", c.backoffMin, c.backoffMax)
	}
	c.base = strings.TrimSuffix(u.String(), "/")
	c.wsBase = "ws" + strings.TrimPrefix(c.base, "http")
	netDialer := &net.Dialer{Timeout: c.dialTimeout, KeepAlive: 30 * time.Second}
	c.dialer = websocket.Dialer{
		NetDialContext:   netDialer.DialContext,
		HandshakeTimeout: c.dialTimeout,
		Proxy:            http.ProxyFromEnvironment,
	}
	if c.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = netDialer.DialContext
		c.hc = &http.Client{Transport: t}
	} else if t, ok := c.hc.Transport.(*http.Transport); ok {
		if t.TLSClientConfig != nil {
			// A copy without HTTP/2 in ALPN: a WebSocket needs HTTP/1.1.
			c.dialer.TLSClientConfig = t.TLSClientConfig.Clone()
			c.dialer.TLSClientConfig.NextProtos = nil
		}
		c.dialer.Proxy = t.Proxy
	}
	return c, nil
}

// topicURL is the HTTP URL of topic, with suffix ("", "/batch") after it.
func (c *Client) topicURL(topic, suffix string) string {
	return c.base + "/v1/topics/" + url.PathEscape(topic) + suffix
}

// newRequest makes an HTTP request with the token.
func (c *Client) newRequest(ctx context.Context, method, u string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

// dialWS opens the WebSocket of topic with query q (the token is added).
// ctx bounds the handshake: unlike the websocket library's own dial, which
// honours only ctx's deadline once connected, cancelling ctx interrupts
// it. A refused handshake is an *APIError.
func (c *Client) dialWS(ctx context.Context, topic string, q url.Values) (*websocket.Conn, error) {
	if c.token != "" {
		q.Set("token", c.token)
	}
	u := c.wsBase + "/v1/topics/" + url.PathEscape(topic) + "/ws?" + q.Encode()
	var (
		mu        sync.Mutex
		nc        net.Conn
		cancelled bool
	)
	d := c.dialer
	netDial := d.NetDialContext
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := netDial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		if cancelled {
			conn.Close()
			return nil, ctx.Err()
		}
		nc = conn
		return conn, nil
	}
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		cancelled = true
		if nc != nil {
			_ = nc.SetDeadline(time.Unix(1, 0)) // interrupts the handshake
		}
	})
	ws, resp, err := d.DialContext(ctx, u, nil)
	if !stop() {
		// ctx ended: the handshake was interrupted, or it succeeded on a
		// connection whose deadline is now in the past.
		if ws != nil {
			ws.Close()
		}
		return nil, context.Cause(ctx)
	}
	switch {
	case err == nil:
		return ws, nil
	case errors.Is(err, websocket.ErrBadHandshake) && resp != nil:
		return nil, readAPIError(resp)
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("no answer within the dial timeout of %v (WithDialTimeout): %w", c.dialTimeout, err)
	}
	return nil, err
}
