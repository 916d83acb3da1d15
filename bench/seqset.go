package bench

import (
	"math/bits"
	"sync/atomic"
)

// seqSet records the seqs that the broker gave a run's accepted HTTP
// publishes, one bit each from the topic's next seq when the run started,
// so that the run can check that each is unique and that together they
// leave no hole. Any goroutine may add.
type seqSet struct {
	base    uint64 // the first seq the run may be given
	bits    []atomic.Uint64
	dups    atomic.Uint64 // seqs given twice
	outside atomic.Uint64 // seqs below base or past the room: another publisher on the topic
}

// newSeqSet makes room for n seqs from base.
func newSeqSet(base uint64, n int64) *seqSet {
	return &seqSet{base: base, bits: make([]atomic.Uint64, (n+63)/64)}
}

// add records seq.
func (s *seqSet) add(seq uint64) {
	i := seq - s.base
	if seq < s.base || i >= uint64(len(s.bits))*64 {
		s.outside.Add(1)
		return
	}
	m := uint64(1) << (i % 64)
	if s.bits[i/64].Or(m)&m != 0 {
		s.dups.Add(1)
	}
}

// SeqCheck is what the seqs of a run's accepted HTTP publishes show: each
// must be unique and, when the run is the topic's only publisher, they
// must run from First to Last without a hole.
type SeqCheck struct {
	First      uint64 `json:"first"`      // the lowest seq given, 0 for none
	Last       uint64 `json:"last"`       // the highest
	Unique     uint64 `json:"unique"`     // distinct seqs given
	Duplicates uint64 `json:"duplicates"` // seqs given twice
	Holes      uint64 `json:"holes"`      // seqs between First and Last that no publish of the run was given
	Outside    uint64 `json:"outside"`    // seqs below the topic's head at the start, or past the run's room
	Reordered  uint64 `json:"reordered"`  // seqs lower than the one before on the same connection
	OK         bool   `json:"ok"`         // unique, no hole, none outside and as many as accepted
}

// check summarizes the set; accepted is how many publishes were answered
// 201, reordered how many seqs went backwards on one connection.
func (s *seqSet) check(accepted, reordered uint64) SeqCheck {
	c := SeqCheck{Duplicates: s.dups.Load(), Outside: s.outside.Load(), Reordered: reordered}
	first, last := -1, -1
	for i := range s.bits {
		w := s.bits[i].Load()
		if w == 0 {
			continue
		}
		if first < 0 {
			first = i*64 + bits.TrailingZeros64(w)
		}
		last = i*64 + 63 - bits.LeadingZeros64(w)
		c.Unique += uint64(bits.OnesCount64(w))
	}
	if first >= 0 {
		c.First, c.Last = s.base+uint64(first), s.base+uint64(last)
		c.Holes = c.Last - c.First + 1 - c.Unique
	}
	c.OK = c.Duplicates == 0 && c.Holes == 0 && c.Outside == 0 && c.Reordered == 0 && c.Unique == accepted
	return c
}
