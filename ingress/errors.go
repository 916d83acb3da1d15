package ingress

import (
	"errors"
	"fmt"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
)

// Errors returned by PublishFrame, besides the broker's. Callers match them
// with errors.Is.
var (
	// ErrTooLarge means a message is over Config.MaxMessageBytes
	// (--max-message-bytes); nothing was accepted.
	ErrTooLarge = errors.New("ingress: message over the size limit (--max-message-bytes)")
	// ErrDraining means Shutdown ended a publish that was waiting for block
	// subscribers; nothing was accepted. It wraps broker.ErrClosed, so a
	// caller that knows only the broker's errors treats it as a close.
	ErrDraining = fmt.Errorf("ingress: shutting down, the publish was given up: %w", broker.ErrClosed)
)

// refusal is how a failed publish is answered: over HTTP a status, the
// contract's error code and a sentence; on a WebSocket a close code and a
// reason that fits a close frame (at most 123 bytes).
type refusal struct {
	status    int
	code      string
	sentence  string
	closeCode int
	reason    string
}

// refuse maps a publish error to its answer.
//
// broker.ErrTooManyTopics is 403 forbidden: the request is well formed, but
// the server's policy (the broker's topic limit) refuses to create one more
// topic, and retrying will not help until idle topics expire, where 503
// would invite retries.
func refuse(err error) refusal {
	switch {
	case errors.Is(err, broker.ErrBackpressure):
		return refusal{fasthttp.StatusServiceUnavailable, httpx.CodeBackpressure,
			"a block subscriber held the topic's ring full past the publish timeout (--publish-timeout); nothing was accepted, retry later",
			websocket.CloseTryAgainLater, "a block subscriber holds the topic's ring full"}
	case errors.Is(err, broker.ErrUnavailable):
		return refusal{fasthttp.StatusServiceUnavailable, httpx.CodeUnavailable,
			"Redis (the engine that shares topics between instances) cannot be reached; nothing was accepted, retry later",
			websocket.CloseTryAgainLater, "Redis cannot be reached"}
	case errors.Is(err, broker.ErrClosed): // also ErrDraining
		return refusal{fasthttp.StatusServiceUnavailable, httpx.CodeDraining,
			"the server is shutting down; nothing was accepted, publish to another instance",
			websocket.CloseGoingAway, "the server is shutting down"}
	case errors.Is(err, broker.ErrTooManyTopics):
		return refusal{fasthttp.StatusForbidden, httpx.CodeForbidden,
			"topic limit reached: the server will not create another topic; publish to an existing one",
			websocket.ClosePolicyViolation, "topic limit reached"}
	case errors.Is(err, broker.ErrBadTopic):
		return refusal{fasthttp.StatusBadRequest, httpx.CodeBadTopic, err.Error(),
			websocket.ClosePolicyViolation, "bad topic name"}
	case errors.Is(err, broker.ErrBatchTooLarge):
		return refusal{fasthttp.StatusRequestEntityTooLarge, httpx.CodeTooLarge,
			"the batch holds more messages or bytes than the topic's ring can retain; nothing was accepted, send smaller batches",
			websocket.CloseMessageTooBig, "too large for the topic's ring"}
	case errors.Is(err, ErrTooLarge):
		return refusal{fasthttp.StatusRequestEntityTooLarge, httpx.CodeTooLarge, err.Error(),
			websocket.CloseMessageTooBig, "message over the size limit"}
	}
	return refusal{fasthttp.StatusInternalServerError, codeInternal, "internal error: " + err.Error(),
		websocket.CloseInternalServerErr, "internal error"}
}
