package edge

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/ringcast/ringcast/internal/config"
)

// Nets is a set of address ranges, such as the trusted proxies.
type Nets []netip.Prefix

// ParseNets parses CIDRs and single IPs as config.ParseNet reads them;
// key names the configuration key in errors.
func ParseNets(key string, ss []string) (Nets, error) {
	var out Nets
	for i, s := range ss {
		n, err := config.ParseNet(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		out = append(out, prefixOf(n))
	}
	return out, nil
}

// Contains reports whether a is in one of the ranges.
func (n Nets) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range n {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ACL is an access list: the last entry that matches an address decides,
// and an address no entry matches is allowed.
type ACL []aclEntry

type aclEntry struct {
	allow bool
	p     netip.Prefix
}

// NewACL converts the entries config.ParseACL returns.
func NewACL(entries []config.ACLEntry) ACL {
	out := make(ACL, 0, len(entries))
	for _, e := range entries {
		out = append(out, aclEntry{allow: e.Allow, p: prefixOf(e.Net)})
	}
	return out
}

// ParseACL parses an access list in the syntax of the acl key
// ("-0.0.0.0/0,+127.0.0.1,+10.0.0.0/8").
func ParseACL(s string) (ACL, error) {
	entries, err := config.ParseACL(s)
	if err != nil {
		return nil, fmt.Errorf("acl: %w", err)
	}
	return NewACL(entries), nil
}

// Allows reports whether the list lets a in: the last matching entry
// decides; no match allows.
func (l ACL) Allows(a netip.Addr) bool {
	a = a.Unmap()
	for i := len(l) - 1; i >= 0; i-- {
		if l[i].p.Contains(a) {
			return l[i].allow
		}
	}
	return true
}

// prefixOf converts a parsed network; IPv4 ranges are kept as IPv4, so
// that they match the unmapped IPv4 addresses Contains compares.
func prefixOf(n *net.IPNet) netip.Prefix {
	a, _ := netip.AddrFromSlice(n.IP)
	ones, bits := n.Mask.Size()
	a = a.Unmap()
	if a.Is4() && bits == 128 {
		ones -= 96
	}
	return netip.PrefixFrom(a, ones).Masked()
}

// AddrOf returns the IP of a TCP address (or of any address written
// host:port), unmapped; the zero Addr if there is none.
func AddrOf(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(t.IP)
		return ip.Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
