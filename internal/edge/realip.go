package edge

import (
	"bytes"
	"net/netip"
)

// ClientIP returns the client address of a request received from peer
// with the given X-Forwarded-For header values (in the order they came).
// Only when peer is in n are the headers believed: the list, read from the
// right, is walked past every address in n, and the first one that is not
// is the client. When every address is trusted the left-most is the
// client; an entry that is not an address stops the walk at the last
// address read (a proxy's), since anything left of it was written by
// someone untrusted. Entries may carry a port ("1.2.3.4:5",
// "[2001:db8::1]:5").
func (n Nets) ClientIP(peer netip.Addr, xff [][]byte) netip.Addr {
	if len(xff) == 0 || !n.Contains(peer) {
		return peer
	}
	client := peer
	for i := len(xff) - 1; i >= 0; i-- {
		v := xff[i]
		for len(v) > 0 {
			var e []byte
			if j := bytes.LastIndexByte(v, ','); j >= 0 {
				e, v = v[j+1:], v[:j]
			} else {
				e, v = v, nil
			}
			e = bytes.TrimSpace(e)
			if len(e) == 0 {
				continue
			}
			a, ok := parseForwarded(e)
			if !ok {
				return client
			}
			client = a
			if !n.Contains(a) {
				return a
			}
		}
	}
	return client
}

// parseForwarded parses one X-Forwarded-For entry: an IP, maybe with a
// port.
func parseForwarded(e []byte) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(string(e)); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(string(e)); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}
