package egress

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"unicode/utf8"

	"github.com/ringcast/ringcast/broker"
)

// Slots of broker.Message.Encoded, one per transport and format. Every
// subscriber of a format writes the same cached bytes.
const (
	slotWSRaw   = iota // WebSocket frame of the payload, text if valid UTF-8 else binary
	slotWSJSON         // WebSocket text frame of the envelope; its payload is the envelope
	slotSSERaw         // SSE event of the payload
	slotSSEJSON        // SSE event of the envelope
	slotCount
)

// The slots must fit broker.EncodingSlots: this fails to compile otherwise.
var _ [broker.EncodingSlots - slotCount]struct{}

// encoding is one cached wire encoding of a message.
type encoding struct {
	slot   int
	encode func(*broker.Message) []byte
}

var (
	wsRaw   = encoding{slotWSRaw, encodeWSRaw}
	wsJSON  = encoding{slotWSJSON, encodeWSJSON}
	sseRaw  = encoding{slotSSERaw, encodeSSERaw}
	sseJSON = encoding{slotSSEJSON, encodeSSEJSON}
)

// bytes returns m's bytes in this encoding, encoding them on first use.
func (enc encoding) bytes(m *broker.Message) []byte { return m.Encoded(enc.slot, enc.encode) }

// envelope returns m's JSON envelope, shared with its WebSocket JSON frame.
func envelope(m *broker.Message) []byte { return framePayload(wsJSON.bytes(m)) }

func encodeWSRaw(m *broker.Message) []byte {
	op := byte(opBinary)
	if utf8.Valid(m.Data) {
		op = opText
	}
	b := make([]byte, 0, frameHeaderLen(len(m.Data))+len(m.Data))
	b = appendFrameHeader(b, op, len(m.Data))
	return append(b, m.Data...)
}

// encodeWSJSON builds the envelope after room for the largest frame header,
// then writes the real header just before it: one allocation.
func encodeWSJSON(m *broker.Message) []byte {
	const room = 10
	b := make([]byte, room, room+envelopeSizeHint(m))
	b = appendEnvelope(b, m)
	n := len(b) - room
	h := frameHeaderLen(n)
	appendFrameHeader(b[room-h:room-h], opText, n)
	return b[room-h:]
}

// encodeSSERaw gives one data line per payload line, or, for a payload
// with a carriage return or invalid UTF-8, an event of type b64 with the
// payload in standard base64.
func encodeSSERaw(m *broker.Message) []byte {
	d := m.Data
	if bytes.IndexByte(d, '\r') >= 0 || !utf8.Valid(d) {
		b := make([]byte, 0, 48+base64.StdEncoding.EncodedLen(len(d)))
		b = appendSSEID(b, m.Seq)
		b = append(b, "event: b64\ndata: "...)
		b = base64.StdEncoding.AppendEncode(b, d)
		return append(b, "\n\n"...)
	}
	lines := bytes.Count(d, []byte{'\n'}) + 1
	b := make([]byte, 0, 32+len(d)+7*lines)
	b = appendSSEID(b, m.Seq)
	for {
		line, rest, more := bytes.Cut(d, []byte{'\n'})
		b = append(b, "data: "...)
		b = append(b, line...)
		b = append(b, '\n')
		if !more {
			break
		}
		d = rest
	}
	return append(b, '\n')
}

// encodeSSEJSON sends the envelope, which has no raw newline, as one line.
func encodeSSEJSON(m *broker.Message) []byte {
	env := envelope(m)
	b := make([]byte, 0, 32+len(env))
	b = appendSSEID(b, m.Seq)
	b = append(b, "data: "...)
	b = append(b, env...)
	return append(b, "\n\n"...)
}

func appendSSEID(b []byte, seq uint64) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, seq, 10)
	return append(b, '\n')
}
