package httpx

import (
	"hash/maphash"
	"sync/atomic"
)

// Intern returns string(b). When b is at most MaxInterned bytes long it
// comes from a small cache of recent strings if one is equal, so the
// routes a server sees again and again (a topic's path) cost no
// allocation. The cache is direct-mapped and lock-free: entries are
// immutable strings, replaced on a miss.
func Intern(b []byte) string {
	if len(b) == 0 || len(b) > MaxInterned {
		return string(b)
	}
	slot := &interned[maphash.Bytes(internSeed, b)%internSlots]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}

// MaxInterned is the longest string Intern caches; it bounds the cache
// at internSlots × MaxInterned bytes.
const MaxInterned = 256

const internSlots = 256

var (
	internSeed = maphash.MakeSeed()
	interned   [internSlots]atomic.Pointer[string]
)
