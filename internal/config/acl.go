package config

import (
	"fmt"
	"net"
	"strings"
)

// ACLEntry is one entry of an access list.
type ACLEntry struct {
	Allow bool       // "+": allow the addresses in Net; "-": deny them
	Net   *net.IPNet // the addresses
}

// ParseACL parses an access list: entries separated by commas, each "+"
// (allow) or "-" (deny) followed by a CIDR or a single IP, like
// "-0.0.0.0/0,+127.0.0.1,+10.0.0.0/8" (see ParseNet). Spaces around an
// entry are ignored. "" is an empty list. Whoever applies the list lets
// the last matching entry decide, and allows an address no entry matches.
func ParseACL(s string) ([]ACLEntry, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []ACLEntry
	for i, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			return nil, fmt.Errorf("entry %d is empty", i+1)
		}
		if e[0] != '+' && e[0] != '-' {
			return nil, fmt.Errorf("entry %q starts with neither + (allow) nor - (deny)", e)
		}
		n, err := ParseNet(e[1:])
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", e, err)
		}
		out = append(out, ACLEntry{Allow: e[0] == '+', Net: n})
	}
	return out, nil
}

// ParseNet parses a CIDR ("10.0.0.0/8", "2001:db8::/32") or a single IP,
// which stands for itself alone (/32 or /128). An IPv4 CIDR may leave out
// trailing zero octets: "192.168/16" is 192.168.0.0/16 and "10/8" is
// 10.0.0.0/8. Host bits are cleared: "10.1.2.3/8" is 10.0.0.0/8.
func ParseNet(s string) (*net.IPNet, error) {
	if addr, bits, ok := strings.Cut(s, "/"); ok {
		_, n, err := net.ParseCIDR(padIPv4(addr) + "/" + bits)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR (like 10.0.0.0/8, 192.168/16 or 2001:db8::/32)", s)
		}
		return n, nil
	}
	ip := net.ParseIP(s)
	if ip == nil {
		return nil, fmt.Errorf("%q is neither an IP address nor a CIDR (like 127.0.0.1 or 10.0.0.0/8)", s)
	}
	if v4 := ip.To4(); v4 != nil {
		return &net.IPNet{IP: v4, Mask: net.CIDRMask(32, 32)}, nil
	}
	return &net.IPNet{IP: ip, Mask: net.CIDRMask(128, 128)}, nil
}

// padIPv4 completes a short IPv4 address like "192.168" with zero octets;
// anything else comes back as it is.
func padIPv4(s string) string {
	if s == "" || strings.Contains(s, ":") {
		return s
	}
	if n := strings.Count(s, ".") + 1; n < 4 {
		return s + strings.Repeat(".0", 4-n)
	}
	return s
}
