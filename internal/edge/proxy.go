package edge

import (
	"net"
	"time"

	"github.com/pires/go-proxyproto"
)

// proxyListener wraps ln so that connections from the trusted proxies may
// open with a PROXY protocol v1 or v2 header (optional: a trusted proxy may
// also speak plain HTTP, with X-Forwarded-For); the header's source address
// is then the connection's RemoteAddr. Connections from anyone else are
// returned as accepted, their bytes unparsed (the SKIP policy). With no
// trusted proxy, ln is returned as it is. timeout bounds the wait for a
// header's bytes.
func proxyListener(ln net.Listener, trusted Nets, timeout time.Duration) net.Listener {
	if len(trusted) == 0 {
		return ln
	}
	return &proxyproto.Listener{
		Listener:          ln,
		ReadHeaderTimeout: timeout,
		ConnPolicy: func(o proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
			if trusted.Contains(AddrOf(o.Upstream)) {
				return proxyproto.USE, nil
			}
			return proxyproto.SKIP, nil
		},
	}
}
