package ingress

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
)

// noWait is a context that is already done. The broker gives up with
// ErrBackpressure at once when it would have to wait on such a context and
// ignores it otherwise, so a first try with it costs nothing when the ring
// has room, and the timers and contexts of a wait are made only for a
// publish that really has to wait.
var noWait = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// Publish handles POST /v1/topics/{topic}: the body is one message, with
// the attributes content_type, remote_addr and X-Ringcast-Attr-*. It
// answers 201 with the message's topic, seq, epoch, id and time. The router
// has checked the method and the topic name.
//
// Refusals, after which nothing was accepted: 400 bad_request (empty body),
// 413 too_large (over MaxMessageBytes), 503 backpressure with Retry-After
// (block subscribers held the ring full for PublishTimeout), 503 draining
// (Shutdown, or the broker closed), 403 forbidden (the broker's topic limit
// is reached), 400 bad_topic, 503 unavailable with Retry-After (the redis
// engine cannot reach Redis).
func (i *Ingress) Publish(ctx *fasthttp.RequestCtx, topic string) {
	start := time.Now()
	body := ctx.PostBody()
	switch {
	case len(body) == 0:
		i.fail(ctx, fasthttp.StatusBadRequest, httpx.CodeBadRequest,
			"empty body: the request body is the message, and Ringcast has no empty messages")
	case len(body) > i.maxMessage:
		i.fail(ctx, fasthttp.StatusRequestEntityTooLarge, httpx.CodeTooLarge,
			"the message is "+strconv.Itoa(len(body))+" bytes, over the limit of "+strconv.Itoa(i.maxMessage)+
				" (--max-message-bytes); nothing was accepted")
	default:
		// A published message is immutable, so its attributes can be a
		// map shared with the other messages from the same address.
		m := &broker.Message{Data: bytes.Clone(body), Attrs: httpx.SharedAttrs(ctx, true)}
		one := [1]*broker.Message{m}
		if err := i.publishHTTP(topic, one[:]); err != nil {
			i.refuseHTTP(ctx, err)
			break
		}
		i.m.publishedHTTP.Inc()
		answerPublished(ctx, m)
	}
	i.m.durationHTTP.Observe(time.Since(start).Seconds())
}

// publishHTTP accepts ms into topic as one batch: at once when the ring has
// room, else after waiting up to the publish timeout for block subscribers,
// or until Shutdown (ErrDraining).
func (i *Ingress) publishHTTP(topic string, ms []*broker.Message) error {
	err := i.b.PublishBatch(noWait, topic, ms)
	if !errors.Is(err, broker.ErrBackpressure) {
		return err
	}
	ctx, cancel := context.WithTimeout(i.ctx, i.timeout)
	err = i.b.PublishBatch(ctx, topic, ms)
	cancel()
	if errors.Is(err, broker.ErrBackpressure) && i.isDraining() {
		return ErrDraining
	}
	return err
}

// refuseHTTP answers a failed publish and counts it.
func (i *Ingress) refuseHTTP(ctx *fasthttp.RequestCtx, err error) {
	r := refuse(err)
	if r.code == httpx.CodeBackpressure || r.code == httpx.CodeUnavailable {
		ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, "1")
	}
	i.fail(ctx, r.status, r.code, r.sentence)
}

// fail answers a refused publish request and counts it.
func (i *Ingress) fail(ctx *fasthttp.RequestCtx, status int, code, sentence string) {
	i.m.rejectedCounter(code).Inc()
	httpx.WriteError(ctx, status, code, sentence)
}
