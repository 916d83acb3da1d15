// Package edge is the server's network edge: the listener every client
// connection passes through, in this order:
//
//  1. PROXY protocol v1/v2 (github.com/pires/go-proxyproto), parsed only on
//     connections from trusted proxies (trusted_proxies). A connection from
//     anyone else is handed on untouched (the library's SKIP policy): a PROXY
//     header it sends is not parsed, so it reaches the HTTP parser as a
//     malformed request (400) or breaks the TLS handshake. With no trusted
//     proxy configured, no PROXY header is ever parsed.
//  2. TLS (tls.cert_file and tls.key_file), with a Certificate that Reload
//     replaces without touching open connections.
//  3. Admission (Conn.Admit), when the connection's first request starts
//     (the server calls it from fasthttp's StateActive, in the goroutine
//     serving the connection, never in the accept loop, since reading a
//     PROXY header may block): the peer's address is taken (after PROXY),
//     the ACL is checked unless the peer is a trusted proxy (whose requests
//     are checked one by one against X-Forwarded-For, see Nets.ClientIP),
//     and the connection is counted against max_connections and
//     max_connections_per_ip. A connection over a limit or denied is still
//     read, so that the server can answer its request with a proper HTTP
//     error (Conn.Refusal), then closed.
//
// A counted connection stays counted until Close, however it ends: served
// by fasthttp or hijacked (WebSocket, SSE) and closed by its new owner.
// Close releases the counts exactly once.
//
// RateLimiter is the per-IP token bucket of publish_rate_per_ip; ACL and
// Nets match addresses; Metrics holds the edge's counters.
//
// The connections Accept returns embed the concrete connection and
// override only Close, so reads and writes cost no extra stack frame (an
// idle WebSocket subscriber's two goroutines keep their smallest stacks:
// one more frame in the read path doubled one of them, +2 KiB per
// connection).
//
// Concurrency: Listener.Accept is called by one goroutine; a Conn's Admit
// and Refusal by the one goroutine serving it, Close by anyone, any number
// of times. The Listener's counters take one mutex, for the
// per-IP map, never held while doing I/O. RateLimiter takes one mutex,
// never held while waiting. No goroutine is started per connection.
package edge
