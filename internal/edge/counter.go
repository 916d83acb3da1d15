package edge

import (
	"net/netip"
	"sync"
	"sync/atomic"
)

// counter counts the open connections, in all and per client address.
type counter struct {
	maxTotal int // 0: unlimited
	maxPerIP int // 0: unlimited, and no per-address map is kept

	total atomic.Int64
	mu    sync.Mutex
	perIP map[netip.Addr]int32
}

// acquire counts a connection from ip (perIP false: not counted per
// address, as for a trusted proxy's) and says whether that put it over a
// limit. It counts it either way; release uncounts it.
func (c *counter) acquire(ip netip.Addr, perIP bool) Refusal {
	n := c.total.Add(1)
	r := Admitted
	if c.maxTotal > 0 && n > int64(c.maxTotal) {
		r = MaxConnections
	}
	if perIP && c.maxPerIP > 0 {
		c.mu.Lock()
		k := c.perIP[ip] + 1
		c.perIP[ip] = k
		c.mu.Unlock()
		if r == Admitted && int(k) > c.maxPerIP {
			r = MaxConnectionsPerIP
		}
	}
	return r
}

// release uncounts a connection acquire counted.
func (c *counter) release(ip netip.Addr, perIP bool) {
	c.total.Add(-1)
	if perIP && c.maxPerIP > 0 {
		c.mu.Lock()
		if k := c.perIP[ip] - 1; k > 0 {
			c.perIP[ip] = k
		} else {
			delete(c.perIP, ip)
		}
		c.mu.Unlock()
	}
}

// from returns the number of connections counted from ip.
func (c *counter) from(ip netip.Addr) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int(c.perIP[ip])
}
