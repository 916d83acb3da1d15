package bench

import "testing"

func TestSubscriberURLsRoundRobin(t *testing.T) {
	f := &fanout{cfg: FanoutConfig{URL: "http://a:1", Topic: "x.y", Transport: "ws",
		SubscriberURLs: []string{"http://a:1/", "http://b:2", "https://c:3"}}}
	want := []string{"ws://a:1/v1/topics/x.y/ws?q", "ws://b:2/v1/topics/x.y/ws?q", "wss://c:3/v1/topics/x.y/ws?q", "ws://a:1/v1/topics/x.y/ws?q"}
	for i, w := range want {
		if got := f.subscriberURL(i, "q"); got != w {
			t.Errorf("subscriber %d: %s, want %s", i, got, w)
		}
	}
	f.cfg.Transport = "sse"
	if got := f.subscriberURL(1, "q"); got != "http://b:2/v1/topics/x.y/sse?q" {
		t.Errorf("sse: %s", got)
	}
	for _, bad := range [][]string{{"b:2"}, {"ftp://b:2"}, {"http://"}} {
		if err := checkSubscriberURLs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := checkSubscriberURLs([]string{"http://a:1", "https://b:2"}); err != nil {
		t.Error(err)
	}
}
