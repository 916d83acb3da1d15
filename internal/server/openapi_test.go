package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/ringcast/ringcast/api"
	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/config"
)

func TestOpenAPIRoute(t *testing.T) {
	ts := start(t, Config{})
	a := do(t, "GET", ts.base+"/v1/openapi.yaml", "")
	if a.status != 200 || a.header.Get("Content-Type") != "application/yaml" || !bytes.Equal(a.body, api.Spec()) {
		t.Fatalf("%d %q, %d bytes", a.status, a.header.Get("Content-Type"), len(a.body))
	}
	if a := do(t, "POST", ts.base+"/v1/openapi.yaml", ""); a.status != 405 || a.errorCode(t) != "method_not_allowed" || a.header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST: %d %s", a.status, a.body)
	}
}

// specChecker validates real answers against api/openapi.yaml and
// remembers which documented answers it saw.
type specChecker struct {
	t      *testing.T
	router routers.Router
	seen   map[string]bool // "METHOD /path STATUS"
}

// newSpecChecker loads the document with bases as its servers.
func newSpecChecker(t *testing.T, bases ...string) *specChecker {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.Spec())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatal(err)
	}
	doc.Servers = nil
	for _, b := range bases {
		doc.Servers = append(doc.Servers, &openapi3.Server{URL: b})
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	// Bodies of these types are checked as strings.
	for _, ct := range []string{"text/html", "text/event-stream"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
		t.Cleanup(func() { openapi3filter.UnregisterBodyDecoder(ct) })
	}
	return &specChecker{t: t, router: router, seen: map[string]bool{}}
}

// specCase is one request and the answer it must get.
type specCase struct {
	method, path, body string
	header             []string // name, value, …
	status             int
	code               string // the error code, for an error answer
}

// run sends tc's request, checks the status and code, and validates the
// answer against the document; the request too when it succeeded.
func (c *specChecker) run(base string, tc specCase) {
	c.t.Helper()
	req, err := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(tc.header); i += 2 {
		req.Header.Set(tc.header[i], tc.header[i+1])
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", tc.method, tc.path, err)
	}
	var body []byte
	switch resp.StatusCode {
	case http.StatusSwitchingProtocols:
	case http.StatusOK:
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			body = readEvent(c.t, resp.Body)
			break
		}
		fallthrough
	default:
		if body, err = io.ReadAll(resp.Body); err != nil {
			c.t.Fatal(err)
		}
	}
	resp.Body.Close()
	a := answer{resp.StatusCode, resp.Header, body}
	if a.status != tc.status {
		c.t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, a.status, a.body, tc.status)
	}
	if tc.code != "" && a.errorCode(c.t) != tc.code {
		c.t.Fatalf("%s %s: %s, want code %s", tc.method, tc.path, a.body, tc.code)
	}
	c.validate(req, []byte(tc.body), a, a.status < 300)
}

// readEvent reads an event stream up to the end of its first event.
func readEvent(t *testing.T, r io.Reader) []byte {
	t.Helper()
	br := bufio.NewReader(r)
	var ev []byte
	for !bytes.HasSuffix(ev, []byte("\n\n")) {
		line, err := br.ReadBytes('\n')
		if err != nil {
			t.Fatalf("event stream: %v after %q", err, ev)
		}
		ev = append(ev, line...)
	}
	return ev
}

// validate checks a against the operation req resolves to. A 405 is
// checked against the 405 documented under each method its Allow header
// names.
func (c *specChecker) validate(req *http.Request, reqBody []byte, a answer, withRequest bool) {
	c.t.Helper()
	route, params, err := c.router.FindRoute(req)
	if errors.Is(err, routers.ErrMethodNotAllowed) && a.status == http.StatusMethodNotAllowed {
		for m := range strings.SplitSeq(a.header.Get("Allow"), ", ") {
			alt := req.Clone(context.Background())
			alt.Method = m
			if _, _, err := c.router.FindRoute(alt); err == nil {
				c.validate(alt, nil, a, false)
			}
		}
		return
	}
	if err != nil {
		c.t.Fatalf("%s %s: not in the document: %v", req.Method, req.URL, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if withRequest {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			c.t.Errorf("%s %s: request does not match the document: %v", req.Method, req.URL, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 a.status,
		Header:                 a.header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	out.SetBodyBytes(a.body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s %s: %d %s: answer does not match the document: %v", req.Method, req.URL, a.status, a.body, err)
	}
	c.seen[fmt.Sprintf("%s %s %d", route.Method, route.Path, a.status)] = true
}

// documented lists every answer the document describes.
func (c *specChecker) documented() []string {
	doc, _ := openapi3.NewLoader().LoadFromData(api.Spec())
	var all []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status := range op.Responses.Map() {
				all = append(all, method+" "+path+" "+status)
			}
		}
	}
	slices.Sort(all)
	return all
}

var upgrade = []string{"Upgrade", "websocket", "Connection", "Upgrade", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version", "13"}

// TestOpenAPIConformance sends a request for every answer the document
// describes, success and error alike, and validates each real answer
// against it. Only the answers that need authentication, which this
// server does not configure, are not triggered.
func TestOpenAPIConformance(t *testing.T) {
	// Small limits: a body over them fits in one read of the server, so
	// that its refusal cannot be lost to a connection reset.
	ts := start(t, Config{RingSize: 8, MaxMessageBytes: 64, MaxBatchBytes: 256})
	// A server whose ring a block subscriber may hold, and one that
	// allows a single topic.
	held := start(t, Config{RingSize: 8, PublishTimeout: 50 * time.Millisecond, Rules: []broker.TopicRule{{Match: "held", AllowBlock: true}}})
	limited := start(t, Config{MaxTopics: 1})
	// One message a second per address, and a heap threshold of a byte.
	rated := start(t, Config{Limits: Limits{PublishRatePerIP: 1, ReadyMaxHeapBytes: 1}})
	// A webhook destination whose target refuses connections.
	no := false
	hooked := start(t, Config{Destinations: []config.Destination{{
		Name: "hook", Type: "webhook", Topics: []string{"orders", "audit.>"}, URL: "http://127.0.0.1:1/in", CheckOnStart: &no,
	}}})
	c := newSpecChecker(t, ts.base, held.base, limited.base, rated.base, hooked.base)
	big := strings.Repeat("x", 64)
	octets := []string{"Content-Type", "application/octet-stream"}
	cases := []specCase{
		// Publish and read back.
		{method: "POST", path: "/v1/topics/orders", body: "hello", header: []string{"Content-Type", "text/plain", "X-Ringcast-Attr-Region", "eu"}, status: 201},
		{method: "POST", path: "/v1/topics/orders", body: "\xff\xfe", header: octets, status: 201},
		{method: "POST", path: "/v1/topics/orders/batch", body: "a\nb\n", header: octets, status: 201},
		{method: "GET", path: "/v1/topics/orders", status: 200},
		{method: "GET", path: "/v1/topics", status: 200},
		{method: "GET", path: "/v1/topics/orders/messages?from=oldest&limit=10", status: 200},
		{method: "GET", path: "/v1/topics/nowhere/messages", status: 200},
		{method: "GET", path: "/v1/topics/orders/sse?from=oldest&format=json", status: 200},
		{method: "GET", path: "/v1/topics/orders/sse?from=2", status: 200}, // a binary payload: event b64
		{method: "GET", path: "/v1/topics/orders/ws?from=oldest&format=json", header: upgrade, status: 101},
		{method: "GET", path: "/v1/topics/orders/ws?mode=pub", header: upgrade, status: 101},
		{method: "GET", path: "/healthz", status: 200},
		{method: "GET", path: "/readyz", status: 200},
		{method: "GET", path: "/metrics", status: 200},
		{method: "GET", path: "/", status: 200},
		{method: "GET", path: "/v1/openapi.yaml", status: 200},
		{method: "GET", path: "/v1/destinations", status: 200},

		// 400
		{method: "POST", path: "/v1/topics/a%20b", body: "x", status: 400, code: "bad_topic"},
		{method: "POST", path: "/v1/topics/a*b/batch", body: "x", status: 400, code: "bad_topic"},
		{method: "GET", path: "/v1/topics/a*b", status: 400, code: "bad_topic"},
		{method: "GET", path: "/v1/topics/a*b/ws", header: upgrade, status: 400, code: "bad_topic"},
		{method: "GET", path: "/v1/topics/a*b/sse", status: 400, code: "bad_topic"},
		{method: "GET", path: "/v1/topics/a*b/messages", status: 400, code: "bad_topic"},
		{method: "POST", path: "/v1/topics/t", status: 400, code: "bad_request"},
		{method: "POST", path: "/v1/topics/t/batch", body: "\n\n", status: 400, code: "bad_request"},
		{method: "GET", path: "/v1/topics/t/ws?from=0", header: upgrade, status: 400, code: "bad_request"},
		{method: "GET", path: "/v1/topics/t/ws", status: 400, code: "bad_request"}, // no upgrade
		{method: "GET", path: "/v1/topics/t/sse?format=xml", status: 400, code: "bad_request"},
		{method: "GET", path: "/v1/topics/t/messages?limit=0", status: 400, code: "bad_request"},
		// 403
		{method: "GET", path: "/v1/topics/t/ws?policy=block", header: upgrade, status: 403, code: "forbidden"},
		{method: "GET", path: "/v1/topics/t/sse?policy=block", status: 403, code: "forbidden"},
		// 404
		{method: "GET", path: "/v1/topics/unknown", status: 404, code: "not_found"},
		// 405
		{method: "DELETE", path: "/v1/topics/t", status: 405, code: "method_not_allowed"},
		{method: "GET", path: "/v1/topics/t/batch", status: 405, code: "method_not_allowed"},
		{method: "POST", path: "/v1/topics/t/ws", status: 405, code: "method_not_allowed"},
		{method: "POST", path: "/v1/topics/t/sse", status: 405, code: "method_not_allowed"},
		{method: "DELETE", path: "/v1/topics/t/messages", status: 405, code: "method_not_allowed"},
		{method: "POST", path: "/v1/topics", status: 405, code: "method_not_allowed"},
		{method: "POST", path: "/healthz", status: 405, code: "method_not_allowed"},
		{method: "POST", path: "/readyz", status: 405, code: "method_not_allowed"},
		{method: "POST", path: "/metrics", status: 405, code: "method_not_allowed"},
		{method: "POST", path: "/", status: 405, code: "method_not_allowed"},
		{method: "PUT", path: "/v1/openapi.yaml", status: 405, code: "method_not_allowed"},
		{method: "POST", path: "/v1/destinations", status: 405, code: "method_not_allowed"},
		// 413
		{method: "POST", path: "/v1/topics/t", body: big + "x", status: 413, code: "too_large"},
		{method: "POST", path: "/v1/topics/t/batch", body: big + "x\n", status: 413, code: "too_large"},
		{method: "POST", path: "/v1/topics/t/batch", body: strings.Repeat("x\n", 129), status: 413, code: "too_large"},
		{method: "POST", path: "/v1/topics/t/batch", body: "1\n2\n3\n4\n5\n6\n7\n8\n9\n", status: 413, code: "too_large"}, // more than the ring
	}
	for _, tc := range cases {
		c.run(ts.base, tc)
	}

	// 503 backpressure: a block subscriber that does not read holds the
	// ring full, once the socket buffers are full too.
	blocker := dial(t, held.ws+"/v1/topics/held/ws?policy=block&from=oldest")
	defer blocker.Close()
	mib := strings.Repeat("x", 1<<20)
	var a answer
	for i := 0; i < 100; i++ {
		if a = do(t, "POST", held.base+"/v1/topics/held", mib); a.status != 201 {
			break
		}
	}
	if a.status != 503 || a.errorCode(t) != "backpressure" {
		t.Fatalf("publish under a block subscriber: %d %s", a.status, a.body)
	}
	req, _ := http.NewRequest("POST", held.base+"/v1/topics/held", nil)
	c.validate(req, nil, a, false)
	if a = do(t, "POST", held.base+"/v1/topics/held/batch", "x\n"); a.status != 503 || a.errorCode(t) != "backpressure" {
		t.Fatalf("batch under a block subscriber: %d %s", a.status, a.body)
	}
	req, _ = http.NewRequest("POST", held.base+"/v1/topics/held/batch", nil)
	c.validate(req, nil, a, false)

	// 503 draining, as observed between the start of Shutdown and the
	// listener's close.
	ts.draining.Store(true)
	for _, tc := range []specCase{
		{method: "GET", path: "/readyz", status: 503, code: "draining"},
		{method: "POST", path: "/v1/topics/t", body: "x", status: 503, code: "draining"},
		{method: "POST", path: "/v1/topics/t/batch", body: "x", status: 503, code: "draining"},
		{method: "GET", path: "/v1/topics/t/ws", header: upgrade, status: 503, code: "draining"},
		{method: "GET", path: "/v1/topics/t/sse", status: 503, code: "draining"},
		{method: "GET", path: "/v1/topics/t/messages", status: 503, code: "draining"},
	} {
		c.run(ts.base, tc)
	}
	ts.draining.Store(false)

	// A destination with its cursors and last error.
	c.run(hooked.base, specCase{method: "POST", path: "/v1/topics/orders", body: "x", header: octets, status: 201})
	c.run(hooked.base, specCase{method: "GET", path: "/v1/destinations", status: 200})

	// 403 forbidden on publish: the server's topic limit.
	c.run(limited.base, specCase{method: "POST", path: "/v1/topics/one", body: "x", header: octets, status: 201})
	c.run(limited.base, specCase{method: "POST", path: "/v1/topics/two", body: "x", status: 403, code: "forbidden"})
	c.run(limited.base, specCase{method: "POST", path: "/v1/topics/two/batch", body: "x", status: 403, code: "forbidden"})

	// 429 rate_limited: a batch of 1000 leaves the address 999 seconds in
	// debt. 503 overloaded on /readyz: over ready_max_heap_bytes.
	c.run(rated.base, specCase{method: "POST", path: "/v1/topics/r/batch", body: strings.Repeat("x\n", 1000), header: octets, status: 201})
	c.run(rated.base, specCase{method: "POST", path: "/v1/topics/r", body: "x", status: 429, code: "rate_limited"})
	c.run(rated.base, specCase{method: "POST", path: "/v1/topics/r/batch", body: "x\n", status: 429, code: "rate_limited"})
	c.run(rated.base, specCase{method: "GET", path: "/readyz", status: 503, code: "overloaded"})

	// Every documented answer was seen, but those that need
	// authentication.
	needsAuth := map[string]bool{
		"GET /v1/topics/{topic} 403":          true,
		"GET /v1/topics/{topic}/messages 403": true,
	}
	for _, d := range c.documented() {
		if !c.seen[d] && !strings.HasSuffix(d, " 401") && !needsAuth[d] {
			t.Errorf("%s: documented, but no request of this test gets it", d)
		}
	}
}
