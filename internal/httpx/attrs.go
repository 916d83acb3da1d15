package httpx

import (
	"bytes"
	"strings"

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
	var attrs map[string]string
	set := func(k, v string) {
		if attrs == nil {
			attrs = make(map[string]string, 2)
		}
		attrs[k] = v
	}
	for k, v := range ctx.Request.Header.All() {
		if len(k) <= len(AttrHeaderPrefix) || !bytes.EqualFold(k[:len(AttrHeaderPrefix)], []byte(AttrHeaderPrefix)) {
			continue
		}
		set(strings.ToLower(string(k[len(AttrHeaderPrefix):])), string(v))
	}
	if ip := ClientIP(ctx); ip != "" {
		set(AttrRemoteAddr, ip)
	}
	if contentType {
		if ct := ctx.Request.Header.ContentType(); len(ct) > 0 {
			set(AttrContentType, string(ct))
		}
	}
	return attrs
}
