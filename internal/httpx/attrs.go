package httpx

import (
	"bytes"
	"hash/maphash"
	"net"
	"strings"
	"sync/atomic"

	"github.com/valyala/fasthttp"
)

// AttrHeaderPrefix starts a request header whose value becomes a message
// attribute: X-Ringcast-Attr-<name> gives the attribute <name>, lowercased.
const AttrHeaderPrefix = "X-Ringcast-Attr-"

// Message attributes the server sets itself. They win over a header of the
// same name, so a client cannot forge its address.
const (
	AttrRemoteAddr  = "remote_addr"
	AttrContentType = "content_type"
)

// Attrs returns the message attributes of a publish request, or nil when
// there are none: each X-Ringcast-Attr-<name> header as <name> lowercased
// (the header name matched case-insensitively, a repeated header's last
// value kept), remote_addr (ClientIP) and, when contentType is true and the
// request has one, content_type. The map and its strings are copies that
// outlive ctx.
func Attrs(ctx *fasthttp.RequestCtx, contentType bool) map[string]string {
	return newAttrs(ctx, contentType, attrHeaders(&ctx.Request.Header))
}

// SharedAttrs returns what Attrs returns, but the map may be shared with
// other requests' messages and must not be modified; a published
// broker.Message is immutable, so a publish can use it. A request with no
// X-Ringcast-Attr-* header, from a TCP address, gets the map of a small
// cache keyed by its IP address and content type: a keep-alive
// connection's requests (and any other client's with the same address and
// content type) neither format the address again nor build a map. A cache
// miss, or any other request, costs what Attrs costs and one allocation
// more at most.
func SharedAttrs(ctx *fasthttp.RequestCtx, contentType bool) map[string]string {
	h := &ctx.Request.Header
	n := attrHeaders(h)
	a, ok := ctx.RemoteAddr().(*net.TCPAddr)
	if n > 0 || !ok {
		return newAttrs(ctx, contentType, n)
	}
	var ct []byte
	if contentType {
		ct = h.ContentType()
	}
	if len(ct) > maxSharedContentType {
		return newAttrs(ctx, contentType, 0)
	}
	slot := &sharedAttrs[(maphash.Bytes(sharedSeed, a.IP)*31+maphash.Bytes(sharedSeed, ct))%sharedSlots]
	if e := slot.Load(); e != nil && e.ip == string(a.IP) && e.ct == string(ct) {
		return e.attrs
	}
	e := &sharedEntry{ip: string(a.IP), ct: string(ct), attrs: newAttrs(ctx, contentType, 0)}
	slot.Store(e)
	return e.attrs
}

// The cache of SharedAttrs: a direct-mapped table whose entries are
// immutable once stored, so that readers need only an atomic load.
const (
	sharedSlots = 512
	// maxSharedContentType bounds what the cache can hold: longer content
	// types are not cached.
	maxSharedContentType = 256
)

type sharedEntry struct {
	ip    string // the remote net.IP's bytes, as they are (4 or 16)
	ct    string // the content type; "" for none (or not asked)
	attrs map[string]string
}

var (
	sharedSeed  = maphash.MakeSeed()
	sharedAttrs [sharedSlots]atomic.Pointer[sharedEntry]
)

// attrHeaders counts the request's X-Ringcast-Attr-* headers.
func attrHeaders(h *fasthttp.RequestHeader) int {
	n := 0
	for k := range h.All() {
		if isAttrHeader(k) {
			n++
		}
	}
	return n
}

// isAttrHeader reports whether k names an attribute: X-Ringcast-Attr-
// (any case) followed by at least one byte.
func isAttrHeader(k []byte) bool {
	return len(k) > len(AttrHeaderPrefix) && k[0]|0x20 == 'x' &&
		bytes.EqualFold(k[:len(AttrHeaderPrefix)], []byte(AttrHeaderPrefix))
}

// newAttrs builds Attrs' map, n being the request's attribute headers.
func newAttrs(ctx *fasthttp.RequestCtx, contentType bool, n int) map[string]string {
	ip := ClientIP(ctx)
	var ct []byte
	if contentType {
		ct = ctx.Request.Header.ContentType()
	}
	size := n
	if ip != "" {
		size++
	}
	if len(ct) > 0 {
		size++
	}
	if size == 0 {
		return nil
	}
	attrs := make(map[string]string, size)
	if n > 0 {
		for k, v := range ctx.Request.Header.All() {
			if isAttrHeader(k) {
				attrs[strings.ToLower(string(k[len(AttrHeaderPrefix):]))] = string(v)
			}
		}
	}
	if ip != "" {
		attrs[AttrRemoteAddr] = ip
	}
	if len(ct) > 0 {
		attrs[AttrContentType] = string(ct)
	}
	return attrs
}
