package httpx

import (
	"encoding/json"

	"github.com/valyala/fasthttp"
)

// Error codes of the wire contract (API.md). They are also the label values
// of ringcast_publish_rejected_total.
const (
	CodeBadTopic         = "bad_topic"
	CodeBadRequest       = "bad_request"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeTooLarge         = "too_large"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeBackpressure     = "backpressure"
	CodeDraining         = "draining"
	CodeUnavailable      = "unavailable"  // 503: the redis engine cannot reach Redis
	CodeRateLimited      = "rate_limited" // 429: over limits.publish_rate_per_ip
	CodeOverloaded       = "overloaded"   // 503: over limits.max_connections(_per_ip), or /readyz over a ready_max_* threshold
)

// errorBody is the contract's JSON error.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// WriteError answers with the contract's JSON error body.
func WriteError(ctx *fasthttp.RequestCtx, status int, code, sentence string) {
	WriteJSON(ctx, status, errorBody{Error: sentence, Code: code})
}

// WriteJSON answers with v as JSON.
func WriteJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic("BUG: httpx: cannot encode JSON answer: " + err.Error())
	}
	ctx.Response.Header.SetContentType("application/json")
	ctx.SetStatusCode(status)
	ctx.Response.SetBodyRaw(append(b, '\n'))
}

// MethodNotAllowed answers 405 with the Allow header.
func MethodNotAllowed(ctx *fasthttp.RequestCtx, allow string) {
	ctx.Response.Header.Set("Allow", allow)
	WriteError(ctx, fasthttp.StatusMethodNotAllowed, CodeMethodNotAllowed,
		"method "+string(ctx.Method())+" is not allowed here; use "+allow)
}
