package server

import (
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/internal/auth"
	"github.com/ringcast/ringcast/internal/httpx"
)

// authenticate reads the request's bearer token (Authorization or
// ?token=) and returns its grant; with auth off it returns nil and true.
// A missing or bad token is answered 401 here, counted as a publish
// rejection when counted is set, and authenticate returns false.
func (s *Server) authenticate(ctx *fasthttp.RequestCtx, counted bool) (*auth.Grant, bool) {
	if s.cfg.Auth == nil {
		return nil, true
	}
	tok := auth.ExtractToken(string(ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)), string(ctx.QueryArgs().Peek("token")))
	g, err := s.cfg.Auth.Authenticate(tok)
	if err == nil {
		return g, true
	}
	if counted {
		s.ingress.RejectedCounter(httpx.CodeUnauthorized).Inc()
	}
	sentence := "invalid or expired token"
	challenge := `Bearer realm="ringcast", error="invalid_token"`
	if errors.Is(err, auth.ErrMissing) {
		sentence = "this server needs a token: send Authorization: Bearer <token>, or ?token=<token> from a browser"
		challenge = `Bearer realm="ringcast"`
	}
	ctx.Response.Header.Set(fasthttp.HeaderWWWAuthenticate, challenge)
	httpx.WriteError(ctx, fasthttp.StatusUnauthorized, httpx.CodeUnauthorized, sentence)
	return nil, false
}

// authorize answers 401 or 403 and returns false unless the request's
// token may publish to topic (when pub) and subscribe to it (when sub).
// With auth off everyone may do everything. Refusals of a publish are
// counted in ringcast_publish_rejected_total.
func (s *Server) authorize(ctx *fasthttp.RequestCtx, topic string, pub, sub bool) bool {
	g, ok := s.authenticate(ctx, pub)
	if !ok || s.cfg.Auth == nil {
		return ok
	}
	var what string
	switch {
	case pub && !g.CanPublish(topic):
		what = "publish to"
	case sub && !g.CanSubscribe(topic):
		what = "subscribe to"
	default:
		return true
	}
	if pub {
		s.ingress.RejectedCounter(httpx.CodeForbidden).Inc()
	}
	httpx.WriteError(ctx, fasthttp.StatusForbidden, httpx.CodeForbidden, "your token may not "+what+" topic "+quote(topic))
	return false
}

// needs says what a topic route needs the token to grant: publishing for
// POST /v1/topics/{topic}, batch and WebSocket mode=pub, subscribing for
// the topic's stats, WebSocket mode=sub, SSE and messages, both for
// WebSocket mode=pubsub. An unknown mode needs only a valid token; the
// route then answers 400.
func needs(action string, publish bool, mode string) (pub, sub bool) {
	switch action {
	case "":
		return publish, !publish
	case "batch":
		return true, false
	case "ws":
		switch mode {
		case "pub":
			return true, false
		case "", "sub":
			return false, true
		case "pubsub":
			return true, true
		}
		return false, false
	}
	return false, true // sse, messages
}
