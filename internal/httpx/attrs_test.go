package httpx

import (
	"fmt"
	"net"
	"reflect"
	"strconv"
	"sync"
	"testing"

	"github.com/valyala/fasthttp"
)

// attrsCase is a publish request and the attributes it gives.
type attrsCase struct {
	name        string
	headers     [][2]string
	contentType bool
	remote      net.Addr
	want        map[string]string
}

var attrsAddr = &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 4567}

var attrsCases = []attrsCase{
	{
		name:   "address only",
		remote: attrsAddr,
		want:   map[string]string{"remote_addr": "10.1.2.3"},
	},
	{
		name:        "headers lowercased, content type",
		headers:     [][2]string{{"X-Ringcast-Attr-Foo", "bar"}, {"x-ringcast-attr-TRACE_ID", "t1"}, {"Content-Type", "text/plain"}, {"X-Other", "no"}},
		contentType: true,
		remote:      attrsAddr,
		want:        map[string]string{"foo": "bar", "trace_id": "t1", "content_type": "text/plain", "remote_addr": "10.1.2.3"},
	},
	{
		name:    "content type left out when not asked",
		headers: [][2]string{{"Content-Type", "text/plain"}},
		remote:  attrsAddr,
		want:    map[string]string{"remote_addr": "10.1.2.3"},
	},
	{
		name:        "server attributes win over headers",
		headers:     [][2]string{{"X-Ringcast-Attr-Remote_addr", "1.1.1.1"}, {"X-Ringcast-Attr-Content_type", "forged"}, {"Content-Type", "application/json"}},
		contentType: true,
		remote:      attrsAddr,
		want:        map[string]string{"remote_addr": "10.1.2.3", "content_type": "application/json"},
	},
	{
		name:    "bare prefix ignored",
		headers: [][2]string{{"X-Ringcast-Attr-", "x"}},
		remote:  attrsAddr,
		want:    map[string]string{"remote_addr": "10.1.2.3"},
	},
	{
		name:   "IPv6",
		remote: &net.TCPAddr{IP: net.ParseIP("::1"), Port: 1},
		want:   map[string]string{"remote_addr": "::1"},
	},
	{
		name:        "repeated header keeps its last value, no content type",
		headers:     [][2]string{{"X-Ringcast-Attr-A", "1"}, {"X-RINGCAST-ATTR-a", "2"}},
		contentType: true,
		remote:      attrsAddr,
		want:        map[string]string{"a": "2", "remote_addr": "10.1.2.3"},
	},
	{
		name:        "IPv4 in 16 bytes",
		headers:     [][2]string{{"Content-Type", "text/plain"}},
		contentType: true,
		remote:      &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3).To16(), Port: 9},
		want:        map[string]string{"remote_addr": "10.1.2.3", "content_type": "text/plain"},
	},
	{
		name:   "no address gives nil",
		remote: &net.UnixAddr{Name: "", Net: "unix"},
		want:   nil,
	},
}

// newAttrsCtx prepares the request of tc.
func newAttrsCtx(tc attrsCase) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod("POST")
	for _, h := range tc.headers {
		header(&req, h[0], h[1])
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, tc.remote, nil)
	return &ctx
}

// header adds the header k: v to r, keeping any of the same name, as a
// client repeating it would.
func header(r *fasthttp.Request, k, v string) { r.Header.Add(k, v) }

func TestAttrs(t *testing.T) {
	for _, tc := range attrsCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Attrs(newAttrsCtx(tc), tc.contentType); !reflect.DeepEqual(got, tc.want) {
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

// mapID identifies a map, to tell a shared one from a copy.
func mapID(m map[string]string) uintptr { return reflect.ValueOf(m).Pointer() }

func TestSharedAttrs(t *testing.T) {
	for _, tc := range attrsCases {
		t.Run(tc.name, func(t *testing.T) {
			// Twice: a miss that fills the cache, then a hit if cached.
			for range 2 {
				if got := SharedAttrs(newAttrsCtx(tc), tc.contentType); !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("SharedAttrs = %#v, want %#v", got, tc.want)
				}
			}
		})
	}
}

// TestSharedAttrsKeys checks that the cache shares a map only between
// requests with the same address and content type.
func TestSharedAttrsKeys(t *testing.T) {
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1000}, nil)
	req := &ctx.Request
	req.Header.SetContentType("application/x-keys")
	first := SharedAttrs(&ctx, true)
	want := map[string]string{"remote_addr": "192.0.2.1", "content_type": "application/x-keys"}
	if !reflect.DeepEqual(first, want) {
		t.Fatalf("first = %#v, want %#v", first, want)
	}
	if again := SharedAttrs(&ctx, true); mapID(again) != mapID(first) {
		t.Fatal("the same address and content type got a new map")
	}

	// A trusted proxy's keep-alive connection: the edge sets another
	// client's address for the next request.
	ctx.SetRemoteAddr(&net.TCPAddr{IP: net.IPv4(198, 51, 100, 7)})
	if got := SharedAttrs(&ctx, true); got["remote_addr"] != "198.51.100.7" || got["content_type"] != "application/x-keys" {
		t.Fatalf("after SetRemoteAddr: %#v", got)
	}
	ctx.SetRemoteAddr(nil)
	if got := SharedAttrs(&ctx, true); got["remote_addr"] != "192.0.2.1" {
		t.Fatalf("after SetRemoteAddr(nil): %#v", got)
	}

	// Another content type, then none asked for.
	req.Header.SetContentType("text/x-keys")
	if got := SharedAttrs(&ctx, true); got["content_type"] != "text/x-keys" {
		t.Fatalf("other content type: %#v", got)
	}
	if got := SharedAttrs(&ctx, false); !reflect.DeepEqual(got, map[string]string{"remote_addr": "192.0.2.1"}) {
		t.Fatalf("content type not asked for: %#v", got)
	}

	// An attribute header gets a map of its own, and leaves the shared
	// one as it was.
	req.Header.Set("X-Ringcast-Attr-Trace", "t9")
	own := SharedAttrs(&ctx, true)
	if own["trace"] != "t9" || own["remote_addr"] != "192.0.2.1" {
		t.Fatalf("with an attribute header: %#v", own)
	}
	if again := SharedAttrs(&ctx, true); mapID(again) == mapID(own) {
		t.Fatal("a request with an attribute header got a shared map")
	}
	req.Header.Del("X-Ringcast-Attr-Trace")
	req.Header.SetContentType("application/x-keys")
	if got := SharedAttrs(&ctx, true); !reflect.DeepEqual(got, want) {
		t.Fatalf("the shared map changed: %#v", got)
	}
}

// TestSharedAttrsOutliveRequest checks that a cached map holds copies.
func TestSharedAttrsOutliveRequest(t *testing.T) {
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 2)}, nil)
	ctx.Request.Header.SetContentType("text/x-outlive")
	got := SharedAttrs(&ctx, true)
	copy(ctx.Request.Header.ContentType(), "XXXXXXXXXXXXXX")
	ctx.Request.Reset()
	if got["content_type"] != "text/x-outlive" || got["remote_addr"] != "192.0.2.2" {
		t.Fatalf("attributes changed with the request buffer: %#v", got)
	}
}

// TestSharedAttrsMany checks the answers when many addresses and content
// types share the cache's slots, from concurrent requests (run with -race).
func TestSharedAttrsMany(t *testing.T) {
	const workers, perWorker = 4, 3 * sharedSlots
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := range workers {
		wg.Go(func() {
			var ctx fasthttp.RequestCtx
			ctx.Init(&fasthttp.Request{}, nil, nil)
			req := &ctx.Request
			for i := range perWorker {
				ip := net.IPv4(10, byte(w), byte(i>>8), byte(i))
				ct := "text/x-" + strconv.Itoa(i%3)
				req.Header.SetContentType(ct)
				ctx.SetRemoteAddr(&net.TCPAddr{IP: ip})
				got := SharedAttrs(&ctx, true)
				if got["remote_addr"] != ip.String() || got["content_type"] != ct || len(got) != 2 {
					errs <- fmt.Sprintf("%s %s: %#v", ip, ct, got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestSharedAttrsAllocs guards the point of SharedAttrs: a request like
// the one before it builds nothing.
func TestSharedAttrsAllocs(t *testing.T) {
	var req fasthttp.Request
	req.Header.SetContentType("application/octet-stream")
	req.Header.Set("User-Agent", "test")
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	SharedAttrs(&ctx, true)
	if n := testing.AllocsPerRun(100, func() { SharedAttrs(&ctx, true) }); n != 0 {
		t.Fatalf("%v allocations per cached SharedAttrs, want 0", n)
	}
}
