package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// requestTimeout bounds one HTTP publish, waiting on block subscribers
// included (the broker's --publish-timeout is 5 s by default).
const requestTimeout = 10 * time.Second

// httpTarget is where HTTP publishers send, shared by all of them.
type httpTarget struct {
	addr    string      // host:port
	tls     *tls.Config // nil for http://
	uri     string      // http(s)://host:port/v1/topics/{topic}
	seqs    *seqSet
	hardEnd atomic.Int64 // Unix ns after which no request may still wait; 0: none yet
}

// httpSender publishes with POST /v1/topics/{topic} over one keep-alive
// connection that it owns, with fasthttp's request writer and response
// parser (and no pool: a fasthttp.HostClient would keep a cleaner
// goroutine alive after the run and would not hold exactly one connection
// per publisher). It checks every answer's seq and times every request.
type httpSender struct {
	target *httpTarget
	win    *window
	req    fasthttp.Request
	resp   fasthttp.Response
	br     *bufio.Reader
	bw     *bufio.Writer

	lastSeq   uint64            // the seq of the connection's last accepted publish
	accepted  uint64            // publishes answered 201
	reordered uint64            // seqs lower than the one before
	refused   map[string]uint64 // publishes refused, by "status code"
	latencies                   // request round trips

	mu      sync.Mutex // guards conn between the sender and abort
	conn    net.Conn   // nil between a close and the next dial
	aborted bool
	done    chan struct{} // closed at once: no incoming side
}

func newHTTPSender(t *httpTarget, win *window) *httpSender {
	s := &httpSender{target: t, win: win, refused: map[string]uint64{}, latencies: newLatencies(), done: make(chan struct{})}
	close(s.done)
	s.req.Header.SetMethod(fasthttp.MethodPost)
	s.req.SetRequestURI(t.uri)
	s.req.Header.SetContentType("application/octet-stream")
	s.req.Header.SetUserAgent("ringcast-bench")
	return s
}

// dial opens the connection; the run dials every publisher before it
// starts measuring.
func (s *httpSender) dial(ctx context.Context) error {
	d := net.Dialer{Timeout: handshakeTimeout}
	var c net.Conn
	var err error
	if s.target.tls != nil {
		c, err = (&tls.Dialer{NetDialer: &d, Config: s.target.tls}).DialContext(ctx, "tcp", s.target.addr)
	} else {
		c, err = d.DialContext(ctx, "tcp", s.target.addr)
	}
	if err != nil {
		return fmt.Errorf("bench: cannot connect to %s: %w", s.target.addr, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aborted {
		_ = c.Close()
		return fmt.Errorf("bench: POST %s: %w", s.target.uri, net.ErrClosed)
	}
	s.conn = c
	if s.br == nil {
		s.br, s.bw = bufio.NewReaderSize(c, 4096), bufio.NewWriterSize(c, 4096)
	} else {
		s.br.Reset(c)
		s.bw.Reset(c)
	}
	return nil
}

func (s *httpSender) send(payload []byte, sent int64) error {
	if s.conn == nil {
		if err := s.dial(context.Background()); err != nil {
			return err
		}
	}
	deadline := time.Unix(0, sent).Add(requestTimeout)
	if end := s.target.hardEnd.Load(); end != 0 && end < deadline.UnixNano() {
		deadline = time.Unix(0, end)
	}
	_ = s.conn.SetDeadline(deadline)
	s.req.SetBodyRaw(payload)
	err := s.req.Write(s.bw)
	if err == nil {
		err = s.bw.Flush()
	}
	if err == nil {
		err = s.resp.Read(s.br)
	}
	if err != nil {
		s.closeConn()
		return fmt.Errorf("bench: POST %s: %w", s.target.uri, err)
	}
	now := time.Now().UnixNano()
	if s.resp.ConnectionClose() {
		s.closeConn()
	}
	body := s.resp.Body()
	switch code := s.resp.StatusCode(); code {
	case fasthttp.StatusCreated:
		seq, ok := jsonUint(body, `"seq":`)
		if !ok {
			return fmt.Errorf("bench: POST %s: 201 without a seq: %.200q", s.target.uri, body)
		}
		s.target.seqs.add(seq)
		if seq <= s.lastSeq {
			s.reordered++
		}
		s.lastSeq = seq
		s.accepted++
		s.record(now-sent, s.win.contains(sent), now)
		return nil
	case fasthttp.StatusServiceUnavailable:
		errCode := jsonString(body, `"code":`)
		s.refused[strconv.Itoa(code)+" "+errCode]++
		if errCode == "backpressure" {
			return errRejected
		}
	}
	return fmt.Errorf("bench: POST %s: %d %s", s.target.uri, s.resp.StatusCode(), bytes.TrimSpace(body[:min(len(body), 300)]))
}

// closeConn closes the connection; the next send dials again.
func (s *httpSender) closeConn() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

// flush has nothing to do: every send waits for its answer.
func (s *httpSender) flush() error { return nil }

func (s *httpSender) read() {}

func (s *httpSender) readDone() <-chan struct{} { return s.done }

func (s *httpSender) readErr() error { return nil }

func (s *httpSender) stop() { s.abort() }

func (s *httpSender) abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aborted = true
	if s.conn != nil {
		_ = s.conn.Close()
	}
}

// jsonUint reads the unsigned number after key in a flat JSON object.
func jsonUint(b []byte, key string) (uint64, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0, false
	}
	b = bytes.TrimLeft(b[i+len(key):], " ")
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	v, err := strconv.ParseUint(string(b[:n]), 10, 64)
	return v, err == nil
}

// jsonString reads the string after key in a flat JSON object, without
// unescaping: the error codes are snake_case.
func jsonString(b []byte, key string) string {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return ""
	}
	b = bytes.TrimLeft(b[i+len(key):], " ")
	if len(b) == 0 || b[0] != '"' {
		return ""
	}
	b = b[1:]
	if j := bytes.IndexByte(b, '"'); j >= 0 {
		return string(b[:j])
	}
	return ""
}
