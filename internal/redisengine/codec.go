package redisengine

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/ringcast/ringcast/broker"
)

// A message travels and rests in Redis as its body: a uvarint length, then
// 16 bytes of id, a varint of Unix nanoseconds, a uvarint count of
// attributes, each attribute as a uvarint length and key then a uvarint
// length and value, and the payload to the end. The seq is not in the
// body: the Lua script assigns it, keeps it in the history entry's id
// ("0-<seq>") and puts it in the PUBLISH payload's header,
// "<epoch>:<first seq>:", followed by the bodies of the batch in order.

// errCorrupt means bytes read from Redis are not what this package writes.
var errCorrupt = errors.New("redisengine: corrupt message in Redis (written by another program under the same prefix?)")

// appendBody appends m's length-prefixed body to b.
func appendBody(b []byte, m *broker.Message) []byte {
	ns := m.Time.UnixNano()
	size := 16 + varintLen(ns) + uvarintLen(uint64(len(m.Attrs))) + len(m.Data)
	for k, v := range m.Attrs {
		size += uvarintLen(uint64(len(k))) + len(k) + uvarintLen(uint64(len(v))) + len(v)
	}
	b = binary.AppendUvarint(b, uint64(size))
	b = append(b, m.ID[:]...)
	b = binary.AppendVarint(b, ns)
	b = binary.AppendUvarint(b, uint64(len(m.Attrs)))
	for k, v := range m.Attrs {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return append(b, m.Data...)
}

func uvarintLen(x uint64) int {
	var tmp [binary.MaxVarintLen64]byte
	return binary.PutUvarint(tmp[:], x)
}

func varintLen(x int64) int {
	var tmp [binary.MaxVarintLen64]byte
	return binary.PutVarint(tmp[:], x)
}

// decodeBody reads one length-prefixed body from b into a message with
// seq, and returns the rest of b.
func decodeBody(b []byte, topic, epoch string, seq uint64) (*broker.Message, []byte, error) {
	size, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < size {
		return nil, nil, errCorrupt
	}
	body, rest := b[n:n+int(size)], b[n+int(size):]
	if len(body) < 16 {
		return nil, nil, errCorrupt
	}
	m := &broker.Message{Topic: topic, Epoch: epoch, Seq: seq}
	copy(m.ID[:], body[:16])
	body = body[16:]
	ns, n := binary.Varint(body)
	if n <= 0 {
		return nil, nil, errCorrupt
	}
	m.Time = time.Unix(0, ns).UTC()
	body = body[n:]
	count, n := binary.Uvarint(body)
	if n <= 0 || count > uint64(len(body)) {
		return nil, nil, errCorrupt
	}
	body = body[n:]
	if count > 0 {
		m.Attrs = make(map[string]string, count)
		for range count {
			var k, v string
			var ok bool
			if k, body, ok = lenString(body); !ok {
				return nil, nil, errCorrupt
			}
			if v, body, ok = lenString(body); !ok {
				return nil, nil, errCorrupt
			}
			m.Attrs[k] = v
		}
	}
	m.Data = body
	return m, rest, nil
}

// lenString reads a uvarint length and that many bytes as a string.
func lenString(b []byte) (string, []byte, bool) {
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < l {
		return "", nil, false
	}
	return string(b[n : n+int(l)]), b[n+int(l):], true
}

// batch is one PUBLISH payload, decoded.
type batch struct {
	epoch string
	ms    []*broker.Message
}

// decodeBatch decodes a PUBLISH payload of topic. The messages' payloads
// share one copy of the payload.
func decodeBatch(topic, payload string) (batch, error) {
	epoch, seq, rest, err := splitHeader(payload)
	if err != nil {
		return batch{}, err
	}
	bt := batch{epoch: epoch}
	b := []byte(rest)
	for len(b) > 0 {
		var m *broker.Message
		if m, b, err = decodeBody(b, topic, epoch, seq); err != nil {
			return batch{}, err
		}
		bt.ms = append(bt.ms, m)
		seq++
	}
	return bt, nil
}

// splitHeader splits a PUBLISH payload into its epoch, first seq and
// bodies.
func splitHeader(payload string) (epoch string, first uint64, bodies string, err error) {
	epoch, rest, ok := strings.Cut(payload, ":")
	if !ok {
		return "", 0, "", errCorrupt
	}
	num, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return "", 0, "", errCorrupt
	}
	first, err = strconv.ParseUint(num, 10, 64)
	if err != nil || first == 0 {
		return "", 0, "", errCorrupt
	}
	return epoch, first, rest, nil
}

// countBodies counts the length-prefixed bodies in b without decoding
// them; false if b is malformed.
func countBodies(b string) (uint64, bool) {
	var n uint64
	for len(b) > 0 {
		size, k := uvarintString(b)
		if k <= 0 || uint64(len(b)-k) < size {
			return 0, false
		}
		b = b[k+int(size):]
		n++
	}
	return n, true
}

// uvarintString is binary.Uvarint on a string.
func uvarintString(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

// entrySeq parses a history entry id "0-<seq>".
func entrySeq(id string) (uint64, error) {
	s, ok := strings.CutPrefix(id, "0-")
	if !ok {
		return 0, errCorrupt
	}
	seq, err := strconv.ParseUint(s, 10, 64)
	if err != nil || seq == 0 {
		return 0, errCorrupt
	}
	return seq, nil
}
