package bench

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// Spreading subscribers over several instances (FanoutConfig.SubscriberURLs,
// --sub-urls): with the redis engine, instances behind a load balancer
// share topics, and each counts only its own subscribers. Publishers and
// the metrics scrape still use FanoutConfig.URL.

// checkSubscriberURLs validates the extra base URLs.
func checkSubscriberURLs(urls []string) error {
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("bench: --sub-urls %q: want http://HOST:PORT or https://HOST:PORT, comma-separated", s)
		}
	}
	return nil
}

// subscriberBase returns the base URL of subscriber i: round-robin over
// SubscriberURLs, or URL when there are none.
func (f *fanout) subscriberBase(i int) string {
	if n := len(f.cfg.SubscriberURLs); n > 0 {
		return strings.TrimSuffix(f.cfg.SubscriberURLs[i%n], "/")
	}
	return strings.TrimSuffix(f.cfg.URL, "/")
}

// subscriberURL is subscriber i's URL with query q.
func (f *fanout) subscriberURL(i int, q string) string {
	topic := "/v1/topics/" + url.PathEscape(f.cfg.Topic)
	base := f.subscriberBase(i)
	if f.cfg.Transport == "sse" {
		return base + topic + "/sse?" + q
	}
	return "ws" + strings.TrimPrefix(base, "http") + topic + "/ws?" + q
}

// awaitSpread waits until every instance of SubscriberURLs counts the
// subscribers it was given.
func (f *fanout) awaitSpread(ctx context.Context, want int64) error {
	n := len(f.cfg.SubscriberURLs)
	for k, base := range f.cfg.SubscriberURLs {
		mine := want / int64(n)
		if int64(k) < want%int64(n) {
			mine++
		}
		base = strings.TrimSuffix(base, "/")
		topicURL := base + "/v1/topics/" + url.PathEscape(f.cfg.Topic)
		if err := awaitSubscribers(ctx, f.client, topicURL, base, f.cfg.Topic, mine); err != nil {
			return err
		}
	}
	return nil
}
