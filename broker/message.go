package broker

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// EncodingSlots is how many wire encodings a Message can cache.
const EncodingSlots = 4

// Message is one published message. The publisher fills Data and Attrs; the
// broker stamps Topic, Epoch, Seq, ID and Time when it accepts the message.
// Once published a Message is immutable and shared by every subscriber.
type Message struct {
	Topic string
	Epoch string
	Seq   uint64
	ID    uuid.UUID // version 7, time ordered
	Time  time.Time // ingest time, UTC
	Data  []byte
	Attrs map[string]string
	// Origin is an opaque id of the connection that published the message,
	// 0 for none, so a pubsub connection with echo=false can skip its own.
	Origin uint64

	encoded [EncodingSlots]atomic.Pointer[[]byte]
}

// Encoded returns the message's bytes in the wire encoding kept in slot,
// computing them with encode the first time and sharing them afterwards.
// encode must be deterministic: concurrent first callers may both run it and
// all callers get the same winner's bytes.
func (m *Message) Encoded(slot int, encode func(*Message) []byte) []byte {
	if p := m.encoded[slot].Load(); p != nil {
		return *p
	}
	b := encode(m)
	if m.encoded[slot].CompareAndSwap(nil, &b) {
		return b
	}
	return *m.encoded[slot].Load()
}

// AppendID appends the message's id in its canonical 8-4-4-4-12 form, as
// ID.String() writes it, without allocating.
func (m *Message) AppendID(b []byte) []byte {
	id := &m.ID
	b = hex.AppendEncode(b, id[0:4])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[4:6])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[6:8])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[8:10])
	b = append(b, '-')
	return hex.AppendEncode(b, id[10:16])
}

// newID returns a UUID version 7 for a message accepted at now: 48 bits of
// Unix milliseconds, 12 bits of sub-millisecond fraction (RFC 9562 method 3)
// and 62 random bits. google/uuid's NewV7 takes a mutex and reads
// crypto/rand (about 300 ns here); this takes about 10 ns.
func newID(now time.Time) uuid.UUID {
	var u uuid.UUID
	ns := now.UnixNano()
	ms := uint64(ns / 1e6)
	frac := uint64(ns%1e6) * 4096 / 1e6
	binary.BigEndian.PutUint64(u[0:8], ms<<16|0x7000|frac)
	binary.BigEndian.PutUint64(u[8:16], rand.Uint64()&^(3<<62)|2<<62)
	return u
}
