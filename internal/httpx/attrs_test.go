package httpx

import (
	"net"
	"reflect"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestAttrs(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 4567}
	for _, tc := range []struct {
		name        string
		headers     [][2]string
		contentType bool
		remote      net.Addr
		want        map[string]string
	}{
		{
			name:   "address only",
			remote: addr,
			want:   map[string]string{"remote_addr": "10.1.2.3"},
		},
		{
			name:        "headers lowercased, content type",
			headers:     [][2]string{{"X-Ringcast-Attr-Foo", "bar"}, {"x-ringcast-attr-TRACE_ID", "t1"}, {"Content-Type", "text/plain"}, {"X-Other", "no"}},
			contentType: true,
			remote:      addr,
			want:        map[string]string{"foo": "bar", "trace_id": "t1", "content_type": "text/plain", "remote_addr": "10.1.2.3"},
		},
		{
			name:    "content type left out when not asked",
			headers: [][2]string{{"Content-Type", "text/plain"}},
			remote:  addr,
			want:    map[string]string{"remote_addr": "10.1.2.3"},
		},
		{
			name:        "server attributes win over headers",
			headers:     [][2]string{{"X-Ringcast-Attr-Remote_addr", "1.1.1.1"}, {"X-Ringcast-Attr-Content_type", "forged"}, {"Content-Type", "application/json"}},
			contentType: true,
			remote:      addr,
			want:        map[string]string{"remote_addr": "10.1.2.3", "content_type": "application/json"},
		},
		{
			name:    "bare prefix ignored",
			headers: [][2]string{{"X-Ringcast-Attr-", "x"}},
			remote:  addr,
			want:    map[string]string{"remote_addr": "10.1.2.3"},
		},
		{
			name:   "IPv6",
			remote: &net.TCPAddr{IP: net.ParseIP("::1"), Port: 1},
			want:   map[string]string{"remote_addr": "::1"},
		},
		{
			name:   "no address gives nil",
			remote: &net.UnixAddr{Name: "", Net: "unix"},
			want:   nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req fasthttp.Request
			req.Header.SetMethod("POST")
			for _, h := range tc.headers {
				req.Header.Set(h[0], h[1])
			}
			var ctx fasthttp.RequestCtx
			ctx.Init(&req, tc.remote, nil)
			got := Attrs(&ctx, tc.contentType)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Attrs = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestAttrsOutliveRequest(t *testing.T) {
	var req fasthttp.Request
	req.Header.Set("X-Ringcast-Attr-Foo", "bar")
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, nil)
	got := Attrs(&ctx, false)
	ctx.Request.Reset()
	ctx.Request.Header.Set("X-Ringcast-Attr-Fox", "baz")
	if got["foo"] != "bar" {
		t.Fatalf("attribute changed with the request buffer: %#v", got)
	}
}
