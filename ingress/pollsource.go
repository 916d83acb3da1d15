package ingress

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/ringcast/ringcast/internal/httpx"
	"github.com/valyala/fasthttp"
)

// pollSource requests a URL on an interval with fasthttp's Client and
// publishes the body of a 2xx answer when it changed. It sends the last
// ETag as If-None-Match and the last Last-Modified as If-Modified-Since,
// so a server that supports them answers 304 with no body; and it
// compares the body with the last one published, for servers that do not.
// The first poll is at Start. A poll that fails is logged, and the next
// one comes at the next interval.
type pollSource struct {
	sourceBase
	client  *fasthttp.Client
	conns   *httpx.ConnTracker
	headers [][2]string // the configured headers, sorted

	// The poll goroutine's: the validators and digest of the last body
	// published.
	etag, lastModified []byte
	digest             [sha256.Size]byte
	published          bool
	failing            bool // the last poll failed, so the next success is logged
}

func newPollSource(b sourceBase) *pollSource {
	p := &pollSource{sourceBase: b, conns: httpx.NewConnTracker()}
	for _, k := range slices.Sorted(maps.Keys(b.cfg.Headers)) {
		p.headers = append(p.headers, [2]string{k, b.cfg.Headers[k]})
	}
	p.client = &fasthttp.Client{
		Name:                      b.cfg.UserAgent,
		DialTimeout:               p.conns.Dial,
		TLSConfig:                 b.cfg.TLS,
		MaxConnsPerHost:           1,
		MaxIdemponentCallAttempts: 1, // the next interval is the retry
		MaxResponseBodySize:       b.s.i.maxMessage,
		DisablePathNormalizing:    true,
	}
	return p
}

// run polls at Start and then every interval.
func (p *pollSource) run() {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	tick := time.NewTicker(p.cfg.Interval)
	defer tick.Stop()
	for {
		if err := p.poll(req, resp); err != nil {
			if p.s.ctx.Err() != nil {
				return
			}
			p.failing = true
			p.log.Warn("poll failed", "err", err)
		} else if p.failing {
			p.failing = false
			p.log.Info("poll works again")
		}
		select {
		case <-tick.C:
		case <-p.s.ctx.Done():
			return
		}
	}
}

// abort closes the connection of a poll in flight.
func (p *pollSource) abort() { p.conns.Abort() }

// poll makes one request and publishes its body if it changed.
func (p *pollSource) poll(req *fasthttp.Request, resp *fasthttp.Response) error {
	req.Reset()
	resp.Reset()
	req.SetRequestURI(p.cfg.URL)
	req.Header.SetMethod(p.cfg.Method)
	if len(p.etag) > 0 {
		req.Header.SetBytesV(fasthttp.HeaderIfNoneMatch, p.etag)
	}
	if len(p.lastModified) > 0 {
		req.Header.SetBytesV(fasthttp.HeaderIfModifiedSince, p.lastModified)
	}
	for _, h := range p.headers {
		req.Header.Set(h[0], h[1])
	}
	req.SetTimeout(p.cfg.Timeout)
	err := p.client.DoRedirects(req, resp, p.cfg.MaxRedirects)
	switch {
	case errors.Is(err, fasthttp.ErrTooManyRedirects):
		return fmt.Errorf("%s %s: answered %d after %d redirects, the limit (max_redirects)", p.cfg.Method, redact(p.cfg.URL), resp.StatusCode(), p.cfg.MaxRedirects)
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return fmt.Errorf("%s %s: the body is over the limit of %d bytes (--max-message-bytes)", p.cfg.Method, redact(p.cfg.URL), p.s.i.maxMessage)
	case err != nil:
		return fmt.Errorf("%s %s: %w", p.cfg.Method, redact(p.cfg.URL), err)
	}
	status := resp.StatusCode()
	switch {
	case status == fasthttp.StatusNotModified:
		return nil
	case status < 200 || status > 299:
		return fmt.Errorf("%s %s: answered %s", p.cfg.Method, redact(p.cfg.URL), strconv.Itoa(status)+" "+fasthttp.StatusMessage(status))
	}
	body := resp.Body()
	digest := sha256.Sum256(body)
	if len(body) == 0 || p.published && digest == p.digest {
		p.keepValidators(resp)
		return nil
	}
	var attrs map[string]string
	if ct := resp.Header.ContentType(); len(ct) > 0 {
		attrs = maps.Clone(p.attrs)
		attrs["content_type"] = string(ct)
	} else {
		attrs = p.attrs
	}
	if err := p.publish(bytes.Clone(body), attrs); err != nil {
		return fmt.Errorf("cannot publish to %s: %w", p.cfg.Topic, err)
	}
	p.digest, p.published = digest, true
	p.keepValidators(resp)
	return nil
}

// keepValidators keeps the answer's ETag and Last-Modified for the next
// poll's If-None-Match and If-Modified-Since.
func (p *pollSource) keepValidators(resp *fasthttp.Response) {
	p.etag = append(p.etag[:0], resp.Header.Peek(fasthttp.HeaderETag)...)
	p.lastModified = append(p.lastModified[:0], resp.Header.Peek(fasthttp.HeaderLastModified)...)
}
