package egress

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ringcast/ringcast/broker"
)

// appendEnvelope appends m as the JSON envelope of the wire contract:
// {"topic","seq","epoch","id","time","data"|"data_b64","attrs"}, attrs
// omitted when empty and sorted by key.
func appendEnvelope(b []byte, m *broker.Message) []byte {
	b = append(b, `{"topic":`...)
	b = appendJSONString(b, m.Topic)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, m.Seq, 10)
	b = append(b, `,"epoch":`...)
	b = appendJSONString(b, m.Epoch)
	b = append(b, `,"id":"`...)
	b = m.AppendID(b)
	b = append(b, `","time":"`...)
	b = m.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if utf8.Valid(m.Data) {
		b = append(b, `,"data":`...)
		b = appendJSONString(b, m.Data)
	} else {
		b = append(b, `,"data_b64":"`...)
		b = base64.StdEncoding.AppendEncode(b, m.Data)
		b = append(b, '"')
	}
	if len(m.Attrs) > 0 {
		b = append(b, `,"attrs":{`...)
		keys := make([]string, 0, len(m.Attrs))
		for k := range m.Attrs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, validUTF8(k))
			b = append(b, ':')
			b = appendJSONString(b, validUTF8(m.Attrs[k]))
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// envelopeSizeHint estimates the envelope's length, to size its buffer.
func envelopeSizeHint(m *broker.Message) int {
	n := 160 + len(m.Topic) + len(m.Epoch) + len(m.Data) + len(m.Data)/3
	for k, v := range m.Attrs {
		n += len(k) + len(v) + 6
	}
	return n
}

// validUTF8 replaces invalid UTF-8 (header bytes can be anything) with
// U+FFFD, as encoding/json does.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

const hexDigits = "0123456789abcdef"

// jsonPlain marks the bytes appendJSONString copies as they are: all but
// '"', '\\', control characters and 0xe2 (which may start U+2028 or
// U+2029).
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\' && c != 0xe2
	}
	return t
}()

// appendJSONString appends s, which must be valid UTF-8, as a JSON string.
// It escapes what JSON requires and U+2028 and U+2029 (which JavaScript
// source does not allow in strings); everything else is copied as is.
func appendJSONString[S string | []byte](b []byte, s S) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if jsonPlain[c] {
			continue
		}
		if c == 0xe2 && !(i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9)) {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case 0xe2: // U+2028 or U+2029
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[s[i+2]&0xf])
			i += 2
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
