package egress

import (
	"sync"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
	"github.com/valyala/fasthttp"
)

// retainedPool holds GET /messages' read buffers.
var retainedPool = sync.Pool{New: func() any {
	s := make([]*broker.Message, maxLimit)
	return &s
}}

// Messages serves GET /v1/topics/{topic}/messages: a JSON array of the
// retained messages' envelopes, oldest first, from `from` (default oldest;
// a different `epoch` starts at the oldest), at most `limit` (default 100,
// at most 1000). An unknown topic gives [] and is not created. With the
// redis engine the messages come from Redis's history, the same on every
// instance; 503 unavailable when it cannot be reached.
func (e *Egress) Messages(ctx *fasthttp.RequestCtx, topic string) {
	args := ctx.QueryArgs()
	from := broker.Position{Kind: broker.Oldest}
	var err error
	if v := args.Peek("from"); len(v) > 0 {
		if from, err = broker.ParsePosition(string(v)); err != nil {
			err = badQuery(err)
		}
	}
	limit := 0
	if err == nil {
		limit, err = parseLimit(args)
	}
	if err != nil {
		httpx.WriteError(ctx, fasthttp.StatusBadRequest, httpx.CodeBadRequest, err.Error())
		return
	}
	mp := retainedPool.Get().(*[]*broker.Message)
	msgs := (*mp)[:limit]
	n, err := e.b.ReadRetained(topic, from, string(args.Peek("epoch")), msgs)
	if err != nil {
		retainedPool.Put(mp)
		ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, "1")
		httpx.WriteError(ctx, fasthttp.StatusServiceUnavailable, httpx.CodeUnavailable,
			"Redis (the engine that shares topics between instances) cannot be reached; retry later")
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/json")
	ctx.Response.AppendBodyString("[")
	for i, m := range msgs[:n] {
		if i > 0 {
			ctx.Response.AppendBodyString(",")
		}
		ctx.Response.AppendBody(envelope(m))
	}
	ctx.Response.AppendBodyString("]\n")
	clear(msgs[:n])
	retainedPool.Put(mp)
	e.m.delivered[TransportHTTP].Add(float64(n))
}
