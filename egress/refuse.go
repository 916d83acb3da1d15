package egress

import (
	"errors"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
	"github.com/valyala/fasthttp"
)

// codeInternal answers a broker error the contract has no code for.
const codeInternal = "internal"

// refusal is how a subscription the broker refused is answered: an HTTP
// status and error code (SSE), a WebSocket close code, and a sentence.
type refusal struct {
	status    int
	code      string
	closeCode int
	sentence  string
}

// refuse maps a broker.Subscribe error to its answer. Like ingress, it
// answers the topic limit with 403: retrying will not help until topics
// expire.
func refuse(err error) refusal {
	switch {
	case errors.Is(err, broker.ErrClosed):
		return refusal{fasthttp.StatusServiceUnavailable, httpx.CodeDraining, closeGoingAway,
			"the server is shutting down; reconnect to another instance"}
	case errors.Is(err, broker.ErrUnavailable):
		return refusal{fasthttp.StatusServiceUnavailable, httpx.CodeUnavailable, closeTryAgainLater,
			"Redis (the engine that shares topics between instances) cannot be reached; retry later"}
	case errors.Is(err, broker.ErrTooManyTopics):
		return refusal{fasthttp.StatusForbidden, httpx.CodeForbidden, closePolicy,
			"topic limit reached: the server will not create another topic; subscribe to an existing one"}
	case errors.Is(err, broker.ErrBlockNotAllowed):
		return refusal{fasthttp.StatusForbidden, httpx.CodeForbidden, closePolicy, err.Error()}
	case errors.Is(err, broker.ErrBadTopic):
		return refusal{fasthttp.StatusBadRequest, httpx.CodeBadTopic, closePolicy, err.Error()}
	}
	return refusal{fasthttp.StatusInternalServerError, codeInternal, closeInternalError, "internal error: " + err.Error()}
}

// reason is how the refusal counts: a shutdown, or an error.
func (r refusal) reason() reason {
	if r.closeCode == closeGoingAway {
		return reasonShutdown
	}
	return reasonNoSubscription
}
