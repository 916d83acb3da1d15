package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fasthttp/websocket"
)

// The error codes of the wire contract, in APIError.Code.
const (
	CodeBadTopic         = "bad_topic"          // 400: the topic name is not [A-Za-z0-9_.-]{1,128}
	CodeBadRequest       = "bad_request"        // 400: a bad query value or an empty body
	CodeNotFound         = "not_found"          // 404: unknown route or topic
	CodeMethodNotAllowed = "method_not_allowed" // 405
	CodeTooLarge         = "too_large"          // 413: over --max-message-bytes or --max-batch-bytes
	CodeUnauthorized     = "unauthorized"       // 401: no or a bad token (WithToken)
	CodeForbidden        = "forbidden"          // 403: the token or the server's configuration does not allow it
	CodeBackpressure     = "backpressure"       // 503: a block subscriber held the ring full; nothing was accepted, retry after RetryAfter
	CodeDraining         = "draining"           // 503: the server is shutting down; retry on another instance
	CodeInternal         = "internal"           // 500: the server failed; not one of the contract's codes, but what the server sends then
)

// ErrClosed is returned by a Subscription or Publisher used after Close.
var ErrClosed = errors.New("client: closed")

// APIError is an error the server answered with: an HTTP status with the
// contract's JSON error body {"error","code"}, or, on a WebSocket
// publisher, a close frame. Match it with errors.As and switch on Code.
type APIError struct {
	// Status is the HTTP status, or 0 when the server closed a WebSocket
	// publisher (see CloseCode).
	Status int
	// Code is one of the Code constants; "" when the answer was not the
	// contract's JSON error (a proxy's error page, say).
	Code string
	// Message is the server's sentence: what went wrong and what to do.
	Message string
	// RetryAfter is the server's Retry-After; 0 when it sent none.
	RetryAfter time.Duration
	// CloseCode is the WebSocket close code when the error came as a close
	// frame, else 0.
	CloseCode int
}

// Error describes the answer.
func (e *APIError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("server closed the WebSocket with %d (%s): %s", e.CloseCode, e.Code, e.Message)
	}
	s := "server answered " + strconv.Itoa(e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RetryAfter > 0 {
		s += " (retry after " + e.RetryAfter.String() + ")"
	}
	return s
}

// final reports whether err will not go away by retrying the same
// request: a 4xx answer other than 408 and 429, or a redirect or success
// where an upgrade was expected.
func final(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status != 0 && ae.Status < 500 &&
		ae.Status != http.StatusRequestTimeout && ae.Status != http.StatusTooManyRequests
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// readAPIError turns a refused request's answer into an *APIError. It
// reads the body but does not close it.
func readAPIError(resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &APIError{Status: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	var b struct{ Error, Code string }
	if json.Unmarshal(body, &b) == nil && b.Code != "" {
		e.Code, e.Message = b.Code, b.Error
		return e
	}
	e.Message = strings.TrimSpace(string(body))
	if len(e.Message) > 200 {
		e.Message = e.Message[:200] + "…"
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// parseRetryAfter reads Retry-After: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// closeCodes maps the close codes a WebSocket publisher can get to the
// contract's error codes (API.md; ingress closes with these).
var closeCodes = map[int]string{
	websocket.CloseGoingAway:               CodeDraining,
	websocket.CloseInvalidFramePayloadData: CodeBadRequest,
	websocket.ClosePolicyViolation:         CodeForbidden,
	websocket.CloseMessageTooBig:           CodeTooLarge,
	websocket.CloseInternalServerErr:       CodeInternal,
	websocket.CloseTryAgainLater:           CodeBackpressure,
}

// closeAPIError turns the server's close frame into an *APIError; it
// returns nil for a normal closure and err itself when it is no close
// frame.
func closeAPIError(err error) error {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return err
	}
	if ce.Code == websocket.CloseNormalClosure {
		return nil
	}
	code, ok := closeCodes[ce.Code]
	if !ok {
		return fmt.Errorf("server closed the WebSocket: %w", err)
	}
	return &APIError{Code: code, Message: ce.Text, CloseCode: ce.Code}
}
