package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// connect opens every subscriber, from the topic's next seq so that none
// misses a message whenever its subscription starts, then every
// publisher.
func (f *fanout) connect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	head, err := f.topicStats(ctx)
	if err != nil {
		return err
	}
	from := head.HeadSeq + 1
	if err := f.connectSubscribers(ctx, from, head.Epoch); err != nil {
		return err
	}
	if err := f.awaitSubscribed(ctx, head.Subscribers+int64(len(f.subs))); err != nil {
		return err
	}
	if f.http != nil {
		f.http.seqs = newSeqSet(from, f.cfg.MaxMessages)
		for i := range f.cfg.Publishers {
			s := newHTTPSender(f.http, &f.win)
			if err := s.dial(ctx); err != nil {
				return err
			}
			f.pubs = append(f.pubs, newPublisher(s, f.run, uint32(i), f.cfg.Size, &f.win))
		}
		return nil
	}
	pd := newDialer(1024, f.cfg.Size+14) // the largest client frame header
	for i := range f.cfg.Publishers {
		conn, err := dialWS(ctx, &pd, f.wsURL+"?mode=pub")
		if err != nil {
			return err
		}
		p := newPublisher(nil, f.run, uint32(i), f.cfg.Size, &f.win)
		p.conn = newWSSender(conn, p.closing.Load, f.cfg.Rate == 0)
		f.pubs = append(f.pubs, p)
	}
	return nil
}

// connectSubscribers opens every subscriber from seq from of epoch.
func (f *fanout) connectSubscribers(ctx context.Context, from uint64, epoch string) error {
	if f.cfg.Subscribers == 0 {
		return nil
	}
	q := url.Values{"format": {"raw"}, "from": {strconv.FormatUint(from, 10)}, "policy": {f.cfg.Policy}}
	if epoch != "" {
		q.Set("epoch", epoch)
	}
	subURL := f.wsURL + "?" + q.Encode()
	if f.cfg.Transport == "sse" {
		subURL = f.topicURL + "/sse?" + q.Encode()
	}
	if len(f.cfg.SubscriberURLs) > 0 {
		subURL = "" // per subscriber: subscriberURL
	}
	feeds := make([]feed, f.cfg.Subscribers)
	errs := make([]error, f.cfg.Subscribers)
	d := newDialer(subscriberReadBuffer, 1024)
	sem := make(chan struct{}, dialParallel)
	var wg sync.WaitGroup
	for i := range feeds {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			subURL := subURL
			if subURL == "" {
				subURL = f.subscriberURL(i, q.Encode())
			}
			if f.cfg.Transport == "sse" {
				var sse *sseFeed
				if sse, errs[i] = dialSSE(ctx, f.client, subURL, sseReadBuffer); sse != nil {
					feeds[i] = sse
				}
				return
			}
			var ws *wsFeed
			if ws, errs[i] = dialWSFeed(ctx, d, subURL, f.cfg.Size); ws != nil {
				feeds[i] = ws
			}
		})
	}
	wg.Wait()
	for _, fd := range feeds {
		if fd != nil {
			s := newSubscriber(fd, f.run, f.cfg.Size, f.cfg.Publishers, &f.win)
			s.policy = f.cfg.Policy
			f.subs = append(f.subs, s)
		}
	}
	if err := firstError(errs); err != nil {
		return fmt.Errorf("bench: %d of %d subscribers could not connect: %w", len(feeds)-len(f.subs), len(feeds), err)
	}
	return nil
}

// awaitSubscribed waits until the broker counts want subscribers of the
// topic (see awaitSubscribers).
func (f *fanout) awaitSubscribed(ctx context.Context, want int64) error {
	if len(f.subs) == 0 {
		return nil
	}
	if len(f.cfg.SubscriberURLs) > 0 {
		return f.awaitSpread(ctx, want)
	}
	return awaitSubscribers(ctx, f.client, f.topicURL, f.cfg.URL, f.cfg.Topic, want)
}

// awaitSubscribers polls the topic's stats until the broker counts want
// subscribers: its actor registers a subscription after the 101 it sent,
// so a count read right after the handshakes can still be short.
func awaitSubscribers(ctx context.Context, client *http.Client, topicURL, base, topic string, want int64) error {
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	for {
		st, err := getTopicStats(ctx, client, topicURL, base)
		if err != nil {
			return err
		}
		if st.Subscribers >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench: the broker counted %d subscribers of %s, not the %d expected: %w", st.Subscribers, topic, want, ctx.Err())
		case <-tick.C:
		}
	}
}

// topicStats is what GET /v1/topics/{topic} tells of a topic; the zero
// value for one that does not exist yet.
type topicStats struct {
	Epoch       string `json:"epoch"`
	HeadSeq     uint64 `json:"head_seq"`
	Subscribers int64  `json:"subscribers"`
}

func (f *fanout) topicStats(ctx context.Context) (topicStats, error) {
	return getTopicStats(ctx, f.client, f.topicURL, f.cfg.URL)
}

// getTopicStats reads GET /v1/topics/{topic}: the zero topicStats for a
// topic that does not exist yet, whose next seq is 1.
func getTopicStats(ctx context.Context, client *http.Client, topicURL, base string) (topicStats, error) {
	var st topicStats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, topicURL, nil)
	if err != nil {
		return st, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return st, fmt.Errorf("bench: cannot reach the broker at %s (--url): %w", base, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotFound:
		return st, nil
	case http.StatusOK:
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			return st, fmt.Errorf("bench: GET %s: cannot decode the topic's stats: %w", topicURL, err)
		}
		return st, nil
	}
	return st, fmt.Errorf("bench: GET %s: %s", topicURL, answer(resp))
}
