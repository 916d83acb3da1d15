package config

import (
	"net"
	"strings"
	"testing"
)

func TestParseACL(t *testing.T) {
	got, err := ParseACL("-0.0.0.0/0, +127.0.0.1 ,+10.0.0.0/8,+192.168/16,-10/8,+::1,-2001:db8::/32,+10.1.2.3/8")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		allow bool
		net   string
	}{
		{false, "0.0.0.0/0"},
		{true, "127.0.0.1/32"},
		{true, "10.0.0.0/8"},
		{true, "192.168.0.0/16"},
		{false, "10.0.0.0/8"},
		{true, "::1/128"},
		{false, "2001:db8::/32"},
		{true, "10.0.0.0/8"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Allow != w.allow || got[i].Net.String() != w.net {
			t.Errorf("entry %d = %v %v, want %v %v", i, got[i].Allow, got[i].Net, w.allow, w.net)
		}
	}
	if !got[1].Net.Contains(net.ParseIP("127.0.0.1")) || got[1].Net.Contains(net.ParseIP("127.0.0.2")) {
		t.Errorf("a single IP must match only itself")
	}
	for _, s := range []string{"", "  "} {
		if acl, err := ParseACL(s); err != nil || acl != nil {
			t.Errorf("ParseACL(%q) = %v, %v, want nil, nil", s, acl, err)
		}
	}
}

func TestParseACLErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"10.0.0.1", `entry "10.0.0.1" starts with neither + (allow) nor - (deny)`},
		{"+10.0.0.0/8,,-1.2.3.4", "entry 2 is empty"},
		{"+10.0.0.0/8,", "entry 2 is empty"},
		{"+10.0.0.0/33", `entry "+10.0.0.0/33": "10.0.0.0/33" is not a CIDR`},
		{"+300.1.1.1", `"300.1.1.1" is neither an IP address nor a CIDR`},
		{"+127.1", "is neither an IP address nor a CIDR"},
		{"+ 10.0.0.1", "is neither an IP address nor a CIDR"},
		{"+192.168./16", "is not a CIDR"},
		{"+/8", "is not a CIDR"},
		{"+", "is neither an IP address nor a CIDR"},
		{"+10.0.0.0/8/8", "is not a CIDR"},
		{"+localhost", "is neither"},
	} {
		_, err := ParseACL(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseACL(%q) error %v, want %q", c.in, err, c.want)
		}
	}
}

func FuzzParseACL(f *testing.F) {
	for _, s := range []string{
		"", "-0.0.0.0/0,+127.0.0.1,+10.0.0.0/8", "+192.168/16", "+::1", "-2001:db8::/32", "10.0.0.1",
		"+10.0.0.0/33", ",,", "+1/0", "+::ffff:10.0.0.1/120", "-fe80::1%eth0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		acl, err := ParseACL(s)
		if err != nil {
			return
		}
		if strings.TrimSpace(s) != "" && len(acl) != strings.Count(s, ",")+1 {
			t.Fatalf("%d entries from %d commas", len(acl), strings.Count(s, ","))
		}
		for _, e := range acl {
			if _, bits := e.Net.Mask.Size(); bits == 0 {
				t.Fatalf("entry %v has a non-canonical mask", e.Net)
			}
			again, err := ParseNet(e.Net.String())
			if err != nil || again.String() != e.Net.String() {
				t.Fatalf("ParseNet(%q) = %v, %v; want it back", e.Net, again, err)
			}
		}
	})
}
