package httpx

import (
	"net"

	"github.com/valyala/fasthttp"
)

// ClientIP returns the client's IP address without the port. Trusted
// proxies' X-Forwarded-For and PROXY protocol are applied by the listener
// and the server before handlers run, so handlers need nothing more.
func ClientIP(ctx *fasthttp.RequestCtx) string {
	if a, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, err := net.SplitHostPort(ctx.RemoteAddr().String())
	if err != nil {
		return ctx.RemoteAddr().String()
	}
	return host
}
