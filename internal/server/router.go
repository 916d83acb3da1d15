package server

import (
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/edge"
	"github.com/ringcast/ringcast/internal/httpx"
)

// route dispatches a request by path, then method, then topic name.
//
// With auth configured, every /v1/topics route checks the caller's token
// (routeTopic, listTopics). /healthz, /readyz, /metrics, the console and
// its client (/, /v1/client.js), /v1/openapi.yaml and /v1/destinations
// stay open: load balancers and Prometheus carry no token, and whether
// metrics and destination status are exposed is the operator's decision
// (bind or firewall them).
func (s *Server) route(ctx *fasthttp.RequestCtx) {
	if s.ambiguousFraming(ctx) {
		return
	}
	// Interned: a keep-alive publisher's path is the same string every
	// time, and the topic in it is all that outlives the request.
	path := httpx.Intern(ctx.URI().PathOriginal())
	switch path {
	case "/healthz":
		s.onlyGet(ctx, s.healthz)
		return
	case "/readyz":
		s.onlyGet(ctx, s.readyz)
		return
	case "/metrics":
		s.onlyGet(ctx, s.metrics)
		return
	case "/v1/topics", "/v1/topics/":
		s.onlyGet(ctx, s.listTopics)
		return
	case "/v1/destinations", "/v1/destinations/":
		s.onlyGet(ctx, s.listDestinations)
		return
	case "/v1/openapi.yaml":
		s.onlyGet(ctx, s.openAPI)
		return
	case "/v1/client.js":
		s.onlyGet(ctx, s.clientJS)
		return
	}
	if rest, ok := strings.CutPrefix(path, "/v1/topics/"); ok {
		s.routeTopic(ctx, rest)
		return
	}
	if !strings.HasPrefix(path, "/v1/") && s.consoleOrStatic(ctx, path) {
		return
	}
	httpx.WriteError(ctx, fasthttp.StatusNotFound, httpx.CodeNotFound, "no route for "+path+"; see /v1/topics")
}

// routeTopic dispatches /v1/topics/{topic}[/action].
func (s *Server) routeTopic(ctx *fasthttp.RequestCtx, rest string) {
	rawTopic, action, _ := strings.Cut(rest, "/")
	publish := false
	var allow string
	switch action {
	case "":
		allow, publish = "GET, POST", ctx.IsPost()
	case "batch":
		allow, publish = "POST", true
	case "ws", "sse", "messages":
		allow = "GET"
	default:
		httpx.WriteError(ctx, fasthttp.StatusNotFound, httpx.CodeNotFound, "no route for /v1/topics/{topic}/"+action+"; see API.md")
		return
	}
	if !allowed(allow, string(ctx.Method())) {
		if publish || action == "" {
			s.ingress.RejectedCounter(httpx.CodeMethodNotAllowed).Inc()
		}
		httpx.MethodNotAllowed(ctx, allow)
		return
	}
	topic, err := url.PathUnescape(rawTopic)
	if err == nil {
		err = broker.ValidateTopic(topic)
	}
	if err != nil {
		if publish {
			s.ingress.RejectedCounter(httpx.CodeBadTopic).Inc()
		}
		httpx.WriteError(ctx, fasthttp.StatusBadRequest, httpx.CodeBadTopic, topicSentence(rawTopic, err))
		return
	}
	if s.draining.Load() && (action != "" || publish) {
		if publish {
			s.ingress.RejectedCounter(httpx.CodeDraining).Inc()
		}
		ctx.Response.Header.Set("Retry-After", "1")
		httpx.WriteError(ctx, fasthttp.StatusServiceUnavailable, httpx.CodeDraining, "the server is draining; retry on another instance")
		return
	}
	if pub, sub := needs(action, publish, string(ctx.QueryArgs().Peek("mode"))); !s.authorize(ctx, topic, pub, sub) {
		return
	}
	switch action {
	case "":
		if publish {
			if s.allowPublish(ctx, 1) {
				s.ingress.Publish(ctx, topic)
			}
		} else {
			s.topicStats(ctx, topic)
		}
	case "batch":
		if s.allowPublish(ctx, batchCost(ctx.PostBody())) {
			s.ingress.Batch(ctx, topic)
		}
	case "ws":
		switch mode := string(ctx.QueryArgs().Peek("mode")); mode {
		case "pub":
			s.ingress.WebSocket(ctx, topic)
		case "", "sub", "pubsub":
			s.egress.WebSocket(ctx, topic)
		default:
			httpx.WriteError(ctx, fasthttp.StatusBadRequest, httpx.CodeBadRequest, "mode "+quote(mode)+": want sub, pub or pubsub")
		}
	case "sse":
		s.egress.SSE(ctx, topic)
	case "messages":
		s.egress.Messages(ctx, topic)
	}
}

// allowed reports whether method is in the comma-separated allow list.
func allowed(allow, method string) bool {
	for m := range strings.SplitSeq(allow, ", ") {
		if m == method {
			return true
		}
	}
	return false
}

// topicSentence explains a bad topic in the response.
func topicSentence(raw string, err error) string {
	if errors.Is(err, broker.ErrBadTopic) {
		return "topic " + quote(raw) + " is not a valid topic name: " + strings.TrimPrefix(err.Error(), broker.ErrBadTopic.Error()+": ") + " (want [A-Za-z0-9_.-]{1,128})"
	}
	return "topic " + quote(raw) + " is not valid URL path escaping"
}

func quote(s string) string {
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return `"` + s + `"`
}

// onlyGet runs h for GET and HEAD and answers 405 otherwise.
func (s *Server) onlyGet(ctx *fasthttp.RequestCtx, h fasthttp.RequestHandler) {
	if !ctx.IsGet() && !ctx.IsHead() {
		httpx.MethodNotAllowed(ctx, "GET, HEAD")
		return
	}
	h(ctx)
}

// requestError answers requests fasthttp could not read with the contract's
// JSON errors.
func (s *Server) requestError(ctx *fasthttp.RequestCtx, err error) {
	s.conns.Errors.Inc()
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		s.ingress.RejectedCounter(httpx.CodeTooLarge).Inc()
		httpx.WriteError(ctx, fasthttp.StatusRequestEntityTooLarge, httpx.CodeTooLarge, "request body is larger than the server accepts (--max-batch-bytes)")
		discardUnread(ctx.Conn())
		return
	}
	var small *fasthttp.ErrSmallBuffer
	if errors.As(err, &small) {
		s.edgeMetrics.Rejected(edge.LimitHeaderSize).Inc()
		httpx.WriteError(ctx, fasthttp.StatusRequestHeaderFieldsTooLarge, httpx.CodeBadRequest, "request headers are too large (limits.max_header_bytes)")
		return
	}
	if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		if s.draining.Load() { // cut by shutdownHTTP
			ctx.Response.Header.Set("Retry-After", "1")
			httpx.WriteError(ctx, fasthttp.StatusServiceUnavailable, httpx.CodeDraining, "the server is draining; retry on another instance")
			return
		}
		s.edgeMetrics.Rejected(edge.LimitReadTimeout).Inc()
		httpx.WriteError(ctx, fasthttp.StatusRequestTimeout, httpx.CodeBadRequest, "the request was not received within limits.read_timeout")
		return
	}
	httpx.WriteError(ctx, fasthttp.StatusBadRequest, httpx.CodeBadRequest, "malformed HTTP request: "+err.Error())
}

// discardUnread reads and drops, for a moment, what a client is still
// sending: fasthttp refuses an oversize body from its headers and then
// closes the connection, and closing with unread input makes the kernel
// answer with a reset that can destroy the 413 before the client reads it.
// A body far over the limit is not drained whole; its sender may see the
// reset.
func discardUnread(c net.Conn) {
	if c.SetReadDeadline(time.Now().Add(100*time.Millisecond)) != nil {
		return
	}
	_, _ = io.CopyN(io.Discard, c, 1<<20)
}
