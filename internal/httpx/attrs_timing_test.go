package httpx

import (
	"net"
	"testing"

	"github.com/valyala/fasthttp"
)

// newBenchAttrsCtx is wrk's publish request (bench/post100.lua) from a
// client at 127.0.0.1.
func newBenchAttrsCtx() *fasthttp.RequestCtx {
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	ctx.Request.Header.SetMethod(fasthttp.MethodPost)
	ctx.Request.Header.SetHost("127.0.0.1:8080")
	ctx.Request.Header.SetContentType("application/octet-stream")
	ctx.Request.Header.SetContentLength(100)
	return &ctx
}

// BenchmarkAttrs builds a publish's attributes afresh.
func BenchmarkAttrs(b *testing.B) {
	ctx := newBenchAttrsCtx()
	b.ReportAllocs()
	for b.Loop() {
		if len(Attrs(ctx, true)) != 2 {
			b.Fatal("want remote_addr and content_type")
		}
	}
}

// BenchmarkSharedAttrs is the same from the cache, as every request of a
// keep-alive publisher after its first gets them.
func BenchmarkSharedAttrs(b *testing.B) {
	ctx := newBenchAttrsCtx()
	b.ReportAllocs()
	for b.Loop() {
		if len(SharedAttrs(ctx, true)) != 2 {
			b.Fatal("want remote_addr and content_type")
		}
	}
}
