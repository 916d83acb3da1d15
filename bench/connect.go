package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
)

// connect opens every subscriber, from the topic's next seq so that none
// misses a message whenever its subscription starts, then every
// publisher.
func (f *fanout) connect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	from, epoch, err := f.topicHead(ctx)
	if err != nil {
		return err
	}
	q := url.Values{"format": {"raw"}, "from": {strconv.FormatUint(from, 10)}}
	if epoch != "" {
		q.Set("epoch", epoch)
	}
	subURL := f.wsURL + "?" + q.Encode()
	if f.cfg.Transport == "sse" {
		subURL = f.topicURL + "/sse?" + q.Encode()
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
			if f.cfg.Transport == "sse" {
				feeds[i], errs[i] = dialSSE(ctx, f.client, subURL)
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
			f.subs = append(f.subs, newSubscriber(fd, f.run, f.cfg.Size, f.cfg.Publishers, &f.win))
		}
	}
	if err := firstError(errs); err != nil {
		return fmt.Errorf("bench: %d of %d subscribers could not connect: %w", len(feeds)-len(f.subs), len(feeds), err)
	}
	pd := newDialer(1024, f.cfg.Size+14) // the largest client frame header
	for i := range f.cfg.Publishers {
		conn, err := dialWS(ctx, &pd, f.wsURL+"?mode=pub")
		if err != nil {
			return err
		}
		f.pubs = append(f.pubs, newPublisher(conn, f.run, uint32(i), f.cfg.Size, &f.win))
	}
	return nil
}

// topicHead returns the seq and epoch that the next message published to
// the topic will have: 1 and none for a topic that does not exist yet.
func (f *fanout) topicHead(ctx context.Context) (from uint64, epoch string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.topicURL, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("bench: cannot reach the broker at %s (--url): %w", f.cfg.URL, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotFound:
		return 1, "", nil
	case http.StatusOK:
		var st struct {
			Epoch   string `json:"epoch"`
			HeadSeq uint64 `json:"head_seq"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			return 0, "", fmt.Errorf("bench: GET %s: cannot decode the topic's stats: %w", f.topicURL, err)
		}
		return st.HeadSeq + 1, st.Epoch, nil
	}
	return 0, "", fmt.Errorf("bench: GET %s: %s", f.topicURL, answer(resp))
}
