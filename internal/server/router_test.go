package server

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// wrkPublish is the request bench/post100.lua sends, with a 100-byte body.
var wrkPublish = "POST /v1/topics/bench.wrk HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 100\r\n" +
	"Content-Type: application/octet-stream\r\n\r\n" + strings.Repeat("x", 100)

// newRouteCtx reads raw into a request the server's handler can be called
// with directly, from a client at 127.0.0.1.
func newRouteCtx(t testing.TB, raw string) *fasthttp.RequestCtx {
	t.Helper()
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	if err := ctx.Request.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// TestRoutePublishAllocs guards the allocations of a publish through the
// whole handler (edge, framing check, routing, ingress): the message and
// its payload copy only. The path is interned, and the attributes are the
// cached map of the previous request's (httpx.SharedAttrs).
func TestRoutePublishAllocs(t *testing.T) {
	s := start(t, Config{})
	ctx := newRouteCtx(t, wrkPublish)
	allocs := testing.AllocsPerRun(1000, func() {
		ctx.Response.Reset()
		s.handle(ctx)
	})
	if ctx.Response.StatusCode() != fasthttp.StatusCreated {
		t.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	const budget = 2
	if allocs > budget {
		t.Fatalf("%v allocations per routed publish, want at most %d", allocs, budget)
	}
	t.Logf("%v allocations per routed publish", allocs)
}
