package broker

import "sync/atomic"

// chunkSlots is how many slots are allocated at a time, so that a topic with
// a large ring_size and few messages holds little memory.
const chunkSlots = 1024

// ring is a power-of-two array of message pointers, allocated lazily in
// chunks. The slot for seq N is N & mask. It only stores and loads; the
// topic decides who may write which seq.
type ring struct {
	mask      uint64
	chunkMask uint64
	chunkBits uint
	chunks    []atomic.Pointer[[]atomic.Pointer[Message]]
}

func newRing(slots int) ring {
	size := min(slots, chunkSlots)
	bits := uint(0)
	for 1<<bits < size {
		bits++
	}
	return ring{
		mask:      uint64(slots - 1),
		chunkMask: uint64(size - 1),
		chunkBits: bits,
		chunks:    make([]atomic.Pointer[[]atomic.Pointer[Message]], slots/size),
	}
}

// capacity is the number of slots.
func (r *ring) capacity() uint64 { return r.mask + 1 }

// load returns the message in seq's slot, which may be nil, older or newer
// than seq.
func (r *ring) load(seq uint64) *Message {
	i := seq & r.mask
	c := r.chunks[i>>r.chunkBits].Load()
	if c == nil {
		return nil
	}
	return (*c)[i&r.chunkMask].Load()
}

// store puts m into seq's slot, allocating the slot's chunk on first use.
func (r *ring) store(seq uint64, m *Message) {
	i := seq & r.mask
	p := &r.chunks[i>>r.chunkBits]
	c := p.Load()
	if c == nil {
		fresh := make([]atomic.Pointer[Message], r.chunkMask+1)
		if !p.CompareAndSwap(nil, &fresh) {
			c = p.Load()
		} else {
			c = &fresh
		}
	}
	(*c)[i&r.chunkMask].Store(m)
}
