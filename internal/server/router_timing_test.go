package server

import "testing"

// BenchmarkHasCLAndTE is the framing check on wrk's publish request
// (bench/post100.lua), which every request pays.
func BenchmarkHasCLAndTE(b *testing.B) {
	raw := []byte("Host: 127.0.0.1:8080\r\nContent-Length: 100\r\nContent-Type: application/octet-stream\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		if hasCLAndTE(raw) {
			b.Fatal("refused")
		}
	}
}

// BenchmarkHasCLAndTESplit is the same with the straightforward form, for
// comparison.
func BenchmarkHasCLAndTESplit(b *testing.B) {
	raw := []byte("Host: 127.0.0.1:8080\r\nContent-Length: 100\r\nContent-Type: application/octet-stream\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		if hasCLAndTESplit(raw) {
			b.Fatal("refused")
		}
	}
}

// BenchmarkRoutePublish is wrk's publish (bench/post100.lua) through the
// whole handler, read once: the edge, the framing check, routing and
// ingress, without fasthttp's reading and writing.
func BenchmarkRoutePublish(b *testing.B) {
	s := start(b, Config{})
	ctx := newRouteCtx(b, wrkPublish)
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		s.handle(ctx)
	}
	if ctx.Response.StatusCode() != 201 {
		b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
}
