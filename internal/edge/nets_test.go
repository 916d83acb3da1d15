package edge

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/ringcast/ringcast/internal/config"
)

func TestACL(t *testing.T) {
	for _, tc := range []struct {
		acl   string
		allow []string
		deny  []string
	}{
		{"", []string{"1.2.3.4", "::1"}, nil},
		{"-0.0.0.0/0,+192.168/16", []string{"192.168.1.1", "192.168.255.255", "::1"}, []string{"10.0.0.1", "192.169.0.1"}},
		{"-0.0.0.0/0,+127.0.0.1,+10.0.0.0/8", []string{"127.0.0.1", "10.9.8.7", "::ffff:10.1.1.1"}, []string{"127.0.0.2", "11.0.0.1", "::ffff:11.0.0.1"}},
		{"+10.0.0.0/8,-10.1.0.0/16", []string{"10.2.0.1", "8.8.8.8"}, []string{"10.1.2.3"}},     // the last match wins
		{"-10.1.0.0/16,+10.0.0.0/8", []string{"10.1.2.3", "10.2.0.1"}, nil},                     // the last match wins
		{"-::/0,+2001:db8::/32", []string{"2001:db8::1", "127.0.0.1"}, []string{"2001:db9::1"}}, // IPv4 is not in ::/0
		{" -10/8 , +10.1.2.3 ", []string{"10.1.2.3"}, []string{"10.1.2.4"}},                     // spaces around entries
	} {
		acl, err := ParseACL(tc.acl)
		if err != nil {
			t.Fatalf("%q: %v", tc.acl, err)
		}
		for _, a := range tc.allow {
			if !acl.Allows(netip.MustParseAddr(a)) {
				t.Errorf("%q denies %s", tc.acl, a)
			}
		}
		for _, a := range tc.deny {
			if acl.Allows(netip.MustParseAddr(a)) {
				t.Errorf("%q allows %s", tc.acl, a)
			}
		}
	}
}

func TestParseACLErrors(t *testing.T) {
	for _, s := range []string{"10.0.0.1", "+10.0.0.0/33", "+,", "+host", "*10/8"} {
		if _, err := ParseACL(s); err == nil || !strings.HasPrefix(err.Error(), "acl: ") {
			t.Errorf("%q: %v, want an error naming acl", s, err)
		}
	}
	if _, err := ParseNets("trusted_proxies", []string{"10/8", "proxy"}); err == nil || !strings.Contains(err.Error(), "trusted_proxies[1]") {
		t.Errorf("ParseNets: %v, want an error naming trusted_proxies[1]", err)
	}
}

func TestClientIP(t *testing.T) {
	trusted, err := ParseNets("trusted_proxies", []string{"10.0.0.0/8", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		peer string
		xff  []string
		want string
	}{
		{"untrusted peer: header ignored", "1.1.1.1", []string{"2.2.2.2"}, "1.1.1.1"},
		{"trusted peer without header", "10.0.0.1", nil, "10.0.0.1"},
		{"one hop", "10.0.0.1", []string{"2.2.2.2"}, "2.2.2.2"},
		{"right-most untrusted wins over a forged left part", "10.0.0.1", []string{"6.6.6.6, 2.2.2.2, 10.0.0.9"}, "2.2.2.2"},
		{"several headers read as one list", "10.0.0.1", []string{"6.6.6.6", "3.3.3.3, 10.1.1.1"}, "3.3.3.3"},
		{"all trusted: the left-most", "10.0.0.1", []string{"10.0.0.5, 10.0.0.6"}, "10.0.0.5"},
		{"garbage stops the walk at the last proxy", "10.0.0.1", []string{"6.6.6.6, nonsense, 10.0.0.7"}, "10.0.0.7"},
		{"garbage next to the peer", "10.0.0.1", []string{"unknown"}, "10.0.0.1"},
		{"ports", "10.0.0.1", []string{"4.4.4.4:5678"}, "4.4.4.4"},
		{"IPv6 with port", "2001:db8::1", []string{"[2001:db9::7]:80"}, "2001:db9::7"},
		{"IPv4-mapped peer", "::ffff:10.0.0.1", []string{"5.5.5.5"}, "5.5.5.5"},
		{"empty entries skipped", "10.0.0.1", []string{" , 7.7.7.7 ,, "}, "7.7.7.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var xff [][]byte
			for _, v := range tc.xff {
				xff = append(xff, []byte(v))
			}
			got := trusted.ClientIP(netip.MustParseAddr(tc.peer).Unmap(), xff)
			if got != netip.MustParseAddr(tc.want) {
				t.Fatalf("ClientIP = %s, want %s", got, tc.want)
			}
		})
	}
}

func FuzzClientIP(f *testing.F) {
	trusted, _ := ParseNets("trusted_proxies", []string{"10.0.0.0/8"})
	f.Add("1.2.3.4, 10.0.0.1")
	f.Add("[::1]:5, garbage,,")
	f.Add("::ffff:10.0.0.3, 0:0::1")
	f.Fuzz(func(t *testing.T, xff string) {
		peer := netip.MustParseAddr("10.0.0.1")
		got := trusted.ClientIP(peer, [][]byte{[]byte(xff)})
		if got == peer {
			return
		}
		// Any other answer is an address the header holds.
		for e := range strings.SplitSeq(xff, ",") {
			if a, ok := parseForwarded([]byte(strings.TrimSpace(e))); ok && a == got {
				return
			}
		}
		t.Fatalf("ClientIP(%q) = %s, which the header does not hold", xff, got)
	})
}

// FuzzACL checks ACL.Allows against the entries config.ParseACL returns,
// matched with net.IPNet.Contains: the last match wins, no match allows.
func FuzzACL(f *testing.F) {
	f.Add("-0.0.0.0/0,+192.168/16", []byte{192, 168, 1, 1})
	f.Add("+10/8,-10.1.2.3", []byte{10, 1, 2, 3})
	f.Add("-::/0,+2001:db8::/32", []byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add("-::ffff:0:0/96", []byte{1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, s string, ip []byte) {
		entries, err := config.ParseACL(s)
		a, ok := netip.AddrFromSlice(ip)
		if err != nil || !ok {
			return
		}
		want := true
		for _, e := range entries {
			if e.Net.Contains(net.IP(a.AsSlice())) {
				want = e.Allow
			}
		}
		if got := NewACL(entries).Allows(a); got != want {
			t.Fatalf("acl %q, %s: Allows %v, net.IPNet says %v", s, a, got, want)
		}
	})
}
