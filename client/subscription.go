package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// SubscribeOptions says where a subscription starts and how it receives.
// The zero value receives new messages over WebSocket with the server's
// default policy.
type SubscribeOptions struct {
	// From is where delivery starts: Latest (the zero value), Oldest or
	// Seq(n).
	From Position
	// Epoch is the epoch From's seq belongs to, to resume a subscription
	// of an earlier process at Seq(lastSeq+1): if the topic's epoch is no
	// longer Epoch, delivery starts at the oldest retained message after a
	// Reset. Used only with Seq.
	Epoch string
	// Policy is what the server does when this subscriber falls behind by
	// a whole ring; "": the server's default, DropOldest.
	Policy Policy
	// Transport is WebSocket (the zero value) or SSE.
	Transport Transport
	// OnDisconnect, if set, is called each time the connection is lost or
	// a reconnection fails, with why and the wait before the next attempt.
	// It runs on the goroutine calling Next and must not call Next.
	OnDisconnect func(err error, retryIn time.Duration)
}

// Subscription is a subscription to one topic that survives disconnects:
// Next reconnects with backoff and resumes after the last message it
// returned, and reports what it could not deliver as Gap and Reset events.
// Close it, or end Subscribe's context, when done: that releases its
// connection. See the package documentation for its concurrency contract.
type Subscription struct {
	c     *Client
	topic string
	opts  SubscribeOptions

	ctx       context.Context // ends with Subscribe's ctx or Close
	cancel    context.CancelCauseFunc
	stopWatch func() bool // stops the AfterFunc that drops conn when ctx ends

	mu   sync.Mutex
	conn stream // nil between connections

	// Owned by the goroutine calling Next.
	next    uint64 // the seq expected next in epoch; 0: not known yet
	epoch   string // the epoch of next; "": not known yet
	events  []Event
	head    int   // events[head:] are still to be returned
	lost    error // why the last connection ended, or the last dial failed
	err     error // the subscription is over: every Next returns err
	backoff backoff
}

// Subscribe subscribes to topic. It connects before it returns, so a
// refusal (an *APIError such as bad_topic, forbidden or unauthorized) or
// an unreachable server is its error; from then on every message the
// server accepts is delivered, or reported missed, through Next. ctx bounds
// the whole subscription: when it ends, so does the subscription.
//
// It always asks for format=json, so that it knows each message's seq and
// epoch. With From Latest it first looks the topic up (GET
// /v1/topics/{topic}) to learn the next seq, so that a reconnection before
// the first message still resumes without loss.
func (c *Client) Subscribe(ctx context.Context, topic string, opts SubscribeOptions) (*Subscription, error) {
	if opts.Transport != WebSocket && opts.Transport != SSE {
		return nil, fmt.Errorf("client: subscribe to %q: unknown %v: want WebSocket or SSE", topic, opts.Transport)
	}
	s := &Subscription{c: c, topic: topic, opts: opts, backoff: backoff{min: c.backoffMin, max: c.backoffMax}}
	switch {
	case opts.From.seq != 0:
		s.next, s.epoch = opts.From.seq, opts.Epoch
	case !opts.From.oldest:
		s.pinLatest(ctx)
	}
	conn, err := s.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: subscribe to %q: %w", topic, err)
	}
	s.ctx, s.cancel = context.WithCancelCause(ctx)
	s.conn = conn
	s.stopWatch = context.AfterFunc(s.ctx, s.dropConn)
	return s, nil
}

// pinLatest turns From Latest into the seq after the topic's head, or 1
// when the topic does not exist yet. If the lookup fails otherwise (or
// takes longer than the dial timeout), the subscription asks for
// from=latest, and a reconnection before its first message resumes at the
// then latest.
func (s *Subscription) pinLatest(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.c.dialTimeout)
	defer cancel()
	req, err := s.c.newRequest(ctx, http.MethodGet, s.c.topicURL(s.topic, ""), nil)
	if err != nil {
		return
	}
	resp, err := s.c.hc.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotFound:
		s.next = 1
	case http.StatusOK:
		var st struct {
			Epoch   string `json:"epoch"`
			HeadSeq uint64 `json:"head_seq"`
		}
		if json.NewDecoder(resp.Body).Decode(&st) == nil && st.Epoch != "" {
			s.next, s.epoch = st.HeadSeq+1, st.Epoch
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // lets the connection be reused
	}
}

// connect opens a connection that resumes at s.next in s.epoch, or starts
// at From while no message has been seen.
func (s *Subscription) connect(ctx context.Context) (stream, error) {
	q := url.Values{"format": {"json"}, "from": {s.opts.From.String()}}
	if s.next != 0 {
		q.Set("from", strconv.FormatUint(s.next, 10))
		if s.epoch != "" {
			q.Set("epoch", s.epoch)
		}
	}
	if s.opts.Policy != "" {
		q.Set("policy", string(s.opts.Policy))
	}
	if s.opts.Transport == SSE {
		return s.c.openSSE(ctx, s.topic, q)
	}
	return s.c.openWS(ctx, s.topic, q)
}

// Next returns the next event: a Message, or a Gap or a Reset just before
// the message that revealed it. It blocks until there is one, reconnecting
// as often as needed, and returns an error only when ctx ends (the
// subscription goes on: call Next again, and it resumes where it was),
// when the subscription is over (its ctx ended, or Close: ErrClosed), or
// when the server refuses a reconnection for good (an *APIError, such as
// unauthorized once a token is revoked). Cancelling ctx while Next waits
// drops the connection; the next call reconnects, and nothing is lost.
func (s *Subscription) Next(ctx context.Context) (Event, error) {
	for {
		if err := context.Cause(s.ctx); err != nil && s.err == nil {
			s.err = err
		}
		if s.err != nil {
			return nil, s.err
		}
		if s.head < len(s.events) {
			ev := s.events[s.head]
			s.events[s.head] = nil
			if s.head++; s.head == len(s.events) {
				s.events, s.head = s.events[:0], 0
			}
			return ev, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.mu.Lock()
		conn := s.conn
		s.mu.Unlock()
		if conn == nil {
			if err := s.reconnect(ctx); err != nil {
				return nil, err
			}
			continue
		}
		data, err := s.read(ctx, conn)
		if err != nil {
			s.drop(conn)
			if ctx.Err() != nil || s.ctx.Err() != nil {
				continue // returns the right error above
			}
			s.lost = fmt.Errorf("connection lost: %w", err)
			continue
		}
		var m Message
		if err := json.Unmarshal(data, &m); err != nil {
			s.drop(conn)
			s.lost = fmt.Errorf("the server sent a frame that is not a message envelope (is %s a Ringcast server?): %w", s.c.base, err)
			continue
		}
		s.deliver(m)
	}
}

// read reads from conn; ctx ending closes it. Once ctx has closed conn it
// is dropped, even if the read got through, so that the next Next
// reconnects at once instead of reporting a lost connection.
func (s *Subscription) read(ctx context.Context, conn stream) ([]byte, error) {
	if ctx.Done() == nil {
		return conn.read()
	}
	stop := context.AfterFunc(ctx, conn.close)
	data, err := conn.read()
	if !stop() {
		s.drop(conn)
		if err != nil {
			return nil, ctx.Err()
		}
	}
	return data, err
}

// deliver queues m, after a Reset if its epoch is not the one expected and
// a Gap if seqs are missing before it. A seq already delivered (which the
// server does not send) is dropped.
func (s *Subscription) deliver(m Message) {
	if s.epoch != "" && m.Epoch != s.epoch {
		s.events = append(s.events, Reset{OldEpoch: s.epoch, NewEpoch: m.Epoch})
		s.next = 1
	}
	s.epoch = m.Epoch
	if s.next != 0 {
		if m.Seq < s.next {
			return
		}
		if m.Seq > s.next {
			s.events = append(s.events, Gap{From: s.next, To: m.Seq - 1})
		}
	}
	s.next = m.Seq + 1
	s.backoff.reset()
	s.events = append(s.events, m)
}

// reconnect waits the backoff (unless the last connection was dropped by
// a cancelled Next), plus the server's reconnect hint if the connection
// ended with one, then connects. It returns an error only if
// ctx or the subscription ended, or the server refused for good; a failed
// dial is left in s.lost for the next round.
func (s *Subscription) reconnect(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(s.ctx, func() { cancel(context.Cause(s.ctx)) })
	defer stop()

	if s.lost != nil { // else the connection was dropped by a cancelled Next: no need to wait
		wait := s.backoff.next()
		var ae *APIError
		if errors.As(s.lost, &ae) {
			wait = max(wait, ae.RetryAfter)
		}
		if hint, ok := reconnectHintOf(s.lost); ok {
			wait += hint // a draining server spreads its subscribers' returns
		}
		if s.opts.OnDisconnect != nil {
			s.opts.OnDisconnect(s.lost, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return s.ended(ctx)
		}
	}
	conn, err := s.connect(ctx)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return s.ended(ctx)
	case final(err):
		s.err = fmt.Errorf("client: subscription to %q refused on reconnecting: %w", s.topic, err)
		return s.err
	default:
		s.lost = fmt.Errorf("cannot reconnect: %w", err)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		conn.close()
		return s.ended(ctx)
	}
	s.conn, s.lost = conn, nil
	return nil
}

// ended returns why ctx (Next's, joined with the subscription's) ended,
// and ends the subscription if it was the subscription's.
func (s *Subscription) ended(ctx context.Context) error {
	if err := context.Cause(s.ctx); err != nil {
		s.err = err
		return err
	}
	return context.Cause(ctx)
}

// drop forgets conn, if it is still the current connection, and closes it.
func (s *Subscription) drop(conn stream) {
	s.mu.Lock()
	if s.conn == conn {
		s.conn = nil
	}
	s.mu.Unlock()
	conn.close()
}

// dropConn closes the current connection, if any.
func (s *Subscription) dropConn() {
	s.mu.Lock()
	conn := s.conn
	s.conn = nil
	s.mu.Unlock()
	if conn != nil {
		conn.close()
	}
}

// Close ends the subscription and closes its connection; a Next waiting
// on another goroutine returns ErrClosed. It may be called from any
// goroutine, more than once, and always returns nil.
func (s *Subscription) Close() error {
	s.stopWatch()
	s.cancel(ErrClosed)
	s.dropConn()
	return nil
}
