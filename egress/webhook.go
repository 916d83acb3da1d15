package egress

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/ringcast/ringcast/broker"
	"github.com/ringcast/ringcast/internal/httpx"
)

// webhookReadBatch is how many messages the webhook dispatcher reads off
// one subscription at a time.
const webhookReadBatch = 64

// maxWebhookAnswer bounds the body of a webhook's answer that is read; a
// larger answer fails the try.
const maxWebhookAnswer = 4 << 20

// Headers every webhook request carries, so that a receiver can order
// messages and drop the duplicates a retry after a lost answer makes.
const (
	HeaderTopic = "X-Ringcast-Topic"
	HeaderSeq   = "X-Ringcast-Seq"
	HeaderID    = "X-Ringcast-Id"
)

// webhook delivers each message as an HTTP request with fasthttp's Client:
// it has everything a webhook needs (keep-alive pools per host,
// DoRedirects with a limit that keeps the method and body on 307 and 308
// and drops credentials across hosts, per-request timeouts, TLS through
// tls.Config), so net/http is not used. A dispatcher goroutine reads the
// subscriptions and hands messages to MaxInFlight workers, each of which
// tries one message until it is delivered or dead-lettered; the dispatcher
// commits each topic's cursor past the longest run of finished messages.
// With one worker the messages go one at a time, in order.
type webhook struct {
	d       *destination
	client  *fasthttp.Client
	conns   *httpx.ConnTracker
	headers [][2]string // the configured headers, sorted
	jobs    chan webhookJob
	results chan webhookJob
}

// webhookJob is one message and the subscription it came from.
type webhookJob struct {
	ts *topicSub
	m  *broker.Message
}

// inflightSeq is a message the dispatcher read, and whether its worker is
// done with it.
type inflightSeq struct {
	seq  uint64
	done bool
}

// outcome is what a try of a message came to.
type outcome uint8

const (
	outcomeRetry   outcome = iota // try again after a backoff
	outcomeSuccess                // delivered
	outcomeDrop                   // dead-letter at once
)

func newWebhook(d *destination) *webhook {
	cfg := &d.cfg
	w := &webhook{
		d:       d,
		conns:   httpx.NewConnTracker(),
		jobs:    make(chan webhookJob),
		results: make(chan webhookJob),
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.Headers)) {
		w.headers = append(w.headers, [2]string{k, cfg.Headers[k]})
	}
	w.client = &fasthttp.Client{
		Name:                      cfg.UserAgent,
		DialTimeout:               w.conns.Dial,
		TLSConfig:                 cfg.TLS,
		MaxConnsPerHost:           cfg.MaxInFlight,
		MaxConnWaitTimeout:        cfg.Timeout,
		MaxIdemponentCallAttempts: 1, // the destination retries, with backoff, and counts it
		MaxResponseBodySize:       maxWebhookAnswer,
		DisablePathNormalizing:    true, // send the URL as configured
	}
	return w
}

// start starts the dispatcher and the workers.
func (w *webhook) start() {
	w.d.wg.Add(1 + w.d.cfg.MaxInFlight)
	go w.dispatch()
	for range w.d.cfg.MaxInFlight {
		go w.work()
	}
}

// abort closes the connections of requests in flight.
func (w *webhook) abort() { w.conns.Abort() }

// dispatch is the webhook's actor: it takes the ready subscriptions, reads
// their messages into a queue (one subscription at a time, in turn), feeds
// the workers and commits what they finish.
func (w *webhook) dispatch() {
	d := w.d
	defer d.wg.Done()
	if d.cfg.CheckOnStart {
		w.check()
	}
	buf := make([]*broker.Message, webhookReadBatch)
	var owned []*topicSub // subscriptions the dispatcher reads
	var queue []webhookJob
	turn := 0
	for {
		for len(queue) == 0 && len(owned) > 0 {
			turn %= len(owned)
			ts := owned[turn]
			n := d.read(ts, buf)
			if n == 0 {
				owned = slices.Delete(owned, turn, turn+1)
				continue
			}
			for _, m := range buf[:n] {
				queue = append(queue, webhookJob{ts, m})
				ts.inflight = append(ts.inflight, inflightSeq{seq: m.Seq})
			}
			clear(buf[:n])
			turn++
		}
		var jobs chan webhookJob
		var next webhookJob
		if len(queue) > 0 {
			jobs, next = w.jobs, queue[0]
		}
		select {
		case jobs <- next:
			queue[0] = webhookJob{}
			queue = queue[1:]
		case j := <-w.results:
			j.ts.finish(j.m.Seq)
		case <-d.wake:
			owned = d.takeReady(owned)
		case <-d.ctx.Done():
			return
		}
	}
}

// finish marks seq done and commits past every done message at the front.
// Only the dispatcher calls it.
func (ts *topicSub) finish(seq uint64) {
	for i := range ts.inflight {
		if ts.inflight[i].seq == seq {
			ts.inflight[i].done = true
			break
		}
	}
	n := 0
	for n < len(ts.inflight) && ts.inflight[n].done {
		n++
	}
	if n == 0 {
		return
	}
	next := ts.inflight[n-1].seq + 1
	ts.inflight = slices.Delete(ts.inflight, 0, n)
	ts.sub.Commit(next)
}

// work delivers the dispatcher's messages one at a time.
func (w *webhook) work() {
	d := w.d
	defer d.wg.Done()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	var body []byte // the rendered template, reused
	for {
		var j webhookJob
		select {
		case j = <-w.jobs:
		case <-d.ctx.Done():
			return
		}
		if !w.deliver(j.m, req, resp, &body) {
			return
		}
		select {
		case w.results <- j:
		case <-d.ctx.Done():
			return
		}
	}
}

// deliver tries m until it is delivered or dead-lettered; false means
// Shutdown interrupted it and m is neither.
func (w *webhook) deliver(m *broker.Message, req *fasthttp.Request, resp *fasthttp.Response, body *[]byte) bool {
	d := w.d
	for try := 1; ; try++ {
		err := w.send(m, req, resp, body)
		out, reason := w.judge(resp, err)
		switch out {
		case outcomeSuccess:
			d.setState(StateUp, nil)
			d.countDelivered(1, m)
			return true
		case outcomeDrop:
			d.setState(StateUp, nil)
			return d.deadLetter(m, reason)
		}
		d.setState(StateDown, errors.New(reason))
		if d.cfg.MaxAttempts > 0 && try >= d.cfg.MaxAttempts {
			return d.deadLetter(m, fmt.Sprintf("%s (after %d attempts)", reason, try))
		}
		if d.ctx.Err() != nil {
			return false
		}
		d.countRetries(1)
		wait := d.cfg.Retry.Delay(try)
		if err == nil || errors.Is(err, fasthttp.ErrTooManyRedirects) {
			if ra, ok := retryAfter(resp.Header.Peek(fasthttp.HeaderRetryAfter), time.Now()); ok {
				wait = ra
			}
		}
		if !d.sleep(wait) {
			return false
		}
	}
}

// send makes one request for m, following redirects up to the limit.
func (w *webhook) send(m *broker.Message, req *fasthttp.Request, resp *fasthttp.Response, body *[]byte) error {
	cfg := &w.d.cfg
	req.Reset()
	resp.Reset()
	req.SetRequestURI(cfg.URL)
	req.Header.SetMethod(cfg.Method)
	switch ct := m.Attrs["content_type"]; {
	case cfg.Template != nil && !cfg.Template.IsPayload():
		req.Header.SetContentType("text/plain; charset=utf-8")
	case ct != "":
		req.Header.SetContentType(ct)
	default:
		req.Header.SetContentType("application/octet-stream")
	}
	req.Header.Set(HeaderTopic, m.Topic)
	req.Header.Set(HeaderSeq, strconv.FormatUint(m.Seq, 10))
	req.Header.Set(HeaderID, m.ID.String())
	for _, h := range w.headers {
		req.Header.Set(h[0], h[1])
	}
	if cfg.Template != nil && !cfg.Template.IsPayload() {
		*body = cfg.Template.Append((*body)[:0], m)
		req.SetBodyRaw(*body)
	} else {
		req.SetBodyRaw(m.Data)
	}
	req.SetTimeout(cfg.Timeout)
	return w.client.DoRedirects(req, resp, cfg.MaxRedirects)
}

// judge classifies a try by its error and answer, with a reason for the
// last error and the dead letter.
func (w *webhook) judge(resp *fasthttp.Response, err error) (outcome, string) {
	cfg := &w.d.cfg
	if err != nil && !errors.Is(err, fasthttp.ErrTooManyRedirects) {
		return outcomeRetry, fmt.Sprintf("%s %s: %v", cfg.Method, redact(cfg.URL), err)
	}
	status := resp.StatusCode()
	ok := status >= 200 && status < 300
	if len(cfg.SuccessOn) > 0 {
		ok = slices.Contains(cfg.SuccessOn, status)
	}
	switch {
	case ok:
		return outcomeSuccess, ""
	case slices.Contains(cfg.DropOn, status):
		return outcomeDrop, "answered " + statusText(status) + excerpt(resp.Body())
	case err != nil:
		return outcomeRetry, fmt.Sprintf("answered %s after %d redirects, the limit (max_redirects)", statusText(status), cfg.MaxRedirects)
	}
	return outcomeRetry, "answered " + statusText(status) + excerpt(resp.Body())
}

// check sends the HEAD request of check_on_start: an error or a 5xx answer
// shows the destination down; delivery goes on either way.
func (w *webhook) check() {
	cfg := &w.d.cfg
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(cfg.URL)
	req.Header.SetMethod(fasthttp.MethodHead)
	for _, h := range w.headers {
		req.Header.Set(h[0], h[1])
	}
	req.SetTimeout(cfg.Timeout)
	err := w.client.DoRedirects(req, resp, cfg.MaxRedirects)
	switch {
	case err != nil && !errors.Is(err, fasthttp.ErrTooManyRedirects):
		w.d.setState(StateDown, fmt.Errorf("check_on_start: HEAD %s: %w", redact(cfg.URL), err))
	case resp.StatusCode() >= 500:
		w.d.setState(StateDown, fmt.Errorf("check_on_start: HEAD %s answered %s", redact(cfg.URL), statusText(resp.StatusCode())))
	default:
		w.d.setState(StateUp, nil)
	}
}

// statusText is "404 Not Found".
func statusText(code int) string {
	return strconv.Itoa(code) + " " + fasthttp.StatusMessage(code)
}

// excerpt is the start of an answer's body for an error message: ": " and
// up to 120 bytes of it when it is text, else nothing.
func excerpt(body []byte) string {
	const limit = 120
	if len(body) > limit {
		body = body[:limit]
		for len(body) > 0 && !utf8.Valid(body) {
			body = body[:len(body)-1]
		}
	}
	if len(body) == 0 || !utf8.Valid(body) {
		return ""
	}
	return ": " + string(body)
}
