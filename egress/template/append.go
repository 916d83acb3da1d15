package template

import (
	"strconv"

	"github.com/ringcast/ringcast/broker"
)

// isoLayout is RFC 3339 with milliseconds; in UTC it ends in "Z".
const isoLayout = "2006-01-02T15:04:05.000Z07:00"

// remoteAddrAttr is the attribute $HOST renders.
const remoteAddrAttr = "remote_addr"

// Append renders m through the template onto dst and returns the extended
// buffer. It allocates nothing beyond growing dst.
func (t *Template) Append(dst []byte, m *broker.Message) []byte {
	for i := range t.parts {
		p := &t.parts[i]
		switch p.kind {
		case literal:
			dst = append(dst, p.text...)
		case msgVar:
			dst = append(dst, m.Data...)
		case topicVar:
			dst = append(dst, m.Topic...)
		case seqVar:
			dst = strconv.AppendUint(dst, m.Seq, 10)
		case idVar:
			dst = m.AppendID(dst)
		case isodateVar:
			dst = m.Time.UTC().AppendFormat(dst, isoLayout)
		case unixtimeVar:
			dst = appendUnixMilli(dst, m.Time.UnixMilli())
		case hostVar:
			dst = append(dst, m.Attrs[remoteAddrAttr]...)
		case attrVar:
			dst = append(dst, m.Attrs[p.text]...)
		}
	}
	return dst
}

// appendUnixMilli appends ms milliseconds as seconds with three decimals,
// like 1795282053.123 or -1.500.
func appendUnixMilli(dst []byte, ms int64) []byte {
	u := uint64(ms)
	if ms < 0 {
		dst = append(dst, '-')
		u = -u
	}
	dst = strconv.AppendUint(dst, u/1000, 10)
	f := u % 1000
	return append(dst, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
}
