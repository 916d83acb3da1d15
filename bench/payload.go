package bench

import "encoding/binary"

// MinPayloadSize is the smallest payload a scenario sends: the stamp that
// identifies and times each message.
const MinPayloadSize = 24

// stamp is what every benchmark payload carries, little-endian, in its first
// MinPayloadSize bytes: the run it belongs to (so that messages of another
// run on the same topic are told apart), the publisher, the publisher's
// counter (1, 2, 3, …) and the send time in Unix nanoseconds. The rest of
// the payload is filler.
type stamp struct {
	run     uint32
	pub     uint32
	counter uint64
	sent    int64
}

// filler pads payloads beyond the stamp.
const filler = "ringcast-bench-payload."

// newPayload returns a size-byte buffer whose filler is set once; put
// writes each message's stamp into it.
func newPayload(size int) []byte {
	b := make([]byte, size)
	for i := MinPayloadSize; i < size; i++ {
		b[i] = filler[i%len(filler)]
	}
	return b
}

// put writes s into the first MinPayloadSize bytes of b.
func (s stamp) put(b []byte) {
	binary.LittleEndian.PutUint32(b[0:], s.run)
	binary.LittleEndian.PutUint32(b[4:], s.pub)
	binary.LittleEndian.PutUint64(b[8:], s.counter)
	binary.LittleEndian.PutUint64(b[16:], uint64(s.sent))
}

// readStamp decodes the stamp at the start of b; ok is false when b is too
// short to hold one.
func readStamp(b []byte) (s stamp, ok bool) {
	if len(b) < MinPayloadSize {
		return stamp{}, false
	}
	return stamp{
		run:     binary.LittleEndian.Uint32(b[0:]),
		pub:     binary.LittleEndian.Uint32(b[4:]),
		counter: binary.LittleEndian.Uint64(b[8:]),
		sent:    int64(binary.LittleEndian.Uint64(b[16:])),
	}, true
}
