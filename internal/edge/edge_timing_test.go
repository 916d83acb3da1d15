package edge

import (
	"net/netip"
	"testing"
)

func BenchmarkRateLimiterAllow(b *testing.B) {
	l := NewRateLimiter(1 << 30)
	ip := netip.MustParseAddr("127.0.0.2")
	b.ReportAllocs()
	for b.Loop() {
		l.Allow(ip, 1)
	}
}

func BenchmarkClientIP(b *testing.B) {
	trusted, _ := ParseNets("trusted_proxies", []string{"10.0.0.0/8"})
	peer := netip.MustParseAddr("10.0.0.1")
	xff := [][]byte{[]byte("203.0.113.7, 10.0.0.9")}
	b.ReportAllocs()
	for b.Loop() {
		trusted.ClientIP(peer, xff)
	}
}

func BenchmarkACLAllows(b *testing.B) {
	acl, _ := ParseACL("-0.0.0.0/0,+127.0.0.1,+10.0.0.0/8,+192.168/16")
	ip := netip.MustParseAddr("192.168.1.1")
	b.ReportAllocs()
	for b.Loop() {
		acl.Allows(ip)
	}
}

// TestHotPathAllocs guards what every publish and every request pays:
// the rate limit and the ACL allocate nothing. (ClientIP, run only for
// a trusted proxy's requests, allocates its two address strings.)
func TestHotPathAllocs(t *testing.T) {
	l := NewRateLimiter(1 << 30)
	ip := netip.MustParseAddr("127.0.0.2")
	l.Allow(ip, 1)
	acl, _ := ParseACL("-0.0.0.0/0,+127.0.0.1")
	if n := testing.AllocsPerRun(100, func() {
		l.Allow(ip, 1)
		acl.Allows(ip)
	}); n != 0 {
		t.Fatalf("%v allocations per request on the edge's hot path, want 0", n)
	}
}
