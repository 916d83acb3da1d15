package ingress

import (
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/broker"
)

// The 201 answers are encoded by hand into a stack buffer: encoding/json
// would cost several allocations per publish. Every string in them is
// plain ASCII that needs no escaping: a valid topic name, a hex epoch, a
// UUID and a timestamp.

// answerPublished answers 201 {"topic","seq","epoch","id","time"} for m.
func answerPublished(ctx *fasthttp.RequestCtx, m *broker.Message) {
	var buf [256]byte
	b := append(buf[:0], `{"topic":"`...)
	b = append(b, m.Topic...)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, m.Seq, 10)
	b = append(b, `,"epoch":"`...)
	b = append(b, m.Epoch...)
	b = append(b, `","id":"`...)
	b = m.AppendID(b)
	b = append(b, `","time":"`...)
	b = m.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, "\"}\n"...)
	answer(ctx, b)
}

// answerBatch answers 201 {"topic","first_seq","last_seq","count"} for ms.
func answerBatch(ctx *fasthttp.RequestCtx, ms []*broker.Message) {
	var buf [256]byte
	b := append(buf[:0], `{"topic":"`...)
	b = append(b, ms[0].Topic...)
	b = append(b, `","first_seq":`...)
	b = strconv.AppendUint(b, ms[0].Seq, 10)
	b = append(b, `,"last_seq":`...)
	b = strconv.AppendUint(b, ms[len(ms)-1].Seq, 10)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(len(ms)), 10)
	b = append(b, "}\n"...)
	answer(ctx, b)
}

// answer writes a 201 JSON answer, copying b into the response's buffer.
func answer(ctx *fasthttp.RequestCtx, b []byte) {
	ctx.Response.Header.SetContentType("application/json")
	ctx.SetStatusCode(fasthttp.StatusCreated)
	ctx.SetBody(b)
}
