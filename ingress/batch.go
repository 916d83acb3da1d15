package ingress

import (
	"bytes"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
)

// Batch handles POST /v1/topics/{topic}/batch: the body holds one message
// per line. Lines are split on \n only and kept byte for byte (a line "a\r"
// is the payload "a\r"); empty lines are skipped, so a trailing newline is
// fine. The batch is accepted whole with contiguous seqs or not at all. It
// answers 201 with the topic, first_seq, last_seq and count.
//
// The messages carry remote_addr and X-Ringcast-Attr-* attributes but no
// content_type: the request's Content-Type (application/x-ndjson, say)
// describes the batch, not each line.
func (i *Ingress) Batch(ctx *fasthttp.RequestCtx, topic string) {
	start := time.Now()
	i.batch(ctx, topic)
	i.m.durationBatch.Observe(time.Since(start).Seconds())
}

func (i *Ingress) batch(ctx *fasthttp.RequestCtx, topic string) {
	body := ctx.PostBody()
	if len(body) > i.maxBatch {
		i.fail(ctx, fasthttp.StatusRequestEntityTooLarge, httpx.CodeTooLarge,
			"the batch body is "+strconv.Itoa(len(body))+" bytes, over the limit of "+strconv.Itoa(i.maxBatch)+
				" (--max-batch-bytes); nothing was accepted")
		return
	}
	count, long, longLen := scanBatch(body, i.maxMessage)
	if long != 0 {
		i.fail(ctx, fasthttp.StatusRequestEntityTooLarge, httpx.CodeTooLarge,
			"line "+strconv.Itoa(long)+" is "+strconv.Itoa(longLen)+" bytes, over the limit of "+
				strconv.Itoa(i.maxMessage)+" (--max-message-bytes); nothing was accepted")
		return
	}
	if count == 0 {
		i.fail(ctx, fasthttp.StatusBadRequest, httpx.CodeBadRequest,
			"empty batch: send one message per line (\\n-separated); empty lines are skipped")
		return
	}
	ms := newBatch(body, count, httpx.Attrs(ctx, false))
	if err := i.publishHTTP(topic, ms); err != nil {
		i.refuseHTTP(ctx, err)
		return
	}
	i.m.publishedBatch.Add(float64(count))
	answerBatch(ctx, ms)
}

var newline = []byte{'\n'}

// scanBatch counts the non-empty lines of body. If a line is longer than
// maxLine it returns its number (1-based, counting empty lines) and length
// in long and longLen.
func scanBatch(body []byte, maxLine int) (count, long, longLen int) {
	for n, rest := 1, body; len(rest) > 0; n++ {
		var line []byte
		line, rest, _ = bytes.Cut(rest, newline)
		if len(line) > maxLine {
			return count, n, len(line)
		}
		if len(line) > 0 {
			count++
		}
	}
	return count, 0, 0
}

// newBatch copies body once and returns its count non-empty lines as
// messages sharing attrs. The payloads are slices of that one copy, each
// capped at its own end, and the messages share one array: three
// allocations for the whole batch instead of two per line. The copy stays
// in memory until the last message of the batch leaves the ring.
func newBatch(body []byte, count int, attrs map[string]string) []*broker.Message {
	data := bytes.Clone(body)
	msgs := make([]broker.Message, count)
	ms := make([]*broker.Message, count)
	k := 0
	for rest := data; len(rest) > 0; {
		var line []byte
		line, rest, _ = bytes.Cut(rest, newline)
		if len(line) == 0 {
			continue
		}
		msgs[k].Data = line[:len(line):len(line)]
		msgs[k].Attrs = attrs
		ms[k] = &msgs[k]
		k++
	}
	return ms
}
