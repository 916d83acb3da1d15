package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// progress writes a line every second to cfg.Progress until done is
// closed: the last second's publish and delivery rates and the recent p99
// latency (of deliveries, or of HTTP requests without subscribers). Soak
// writes a line every cfg.Every instead, with the broker's CPU, memory and
// drops read from its /metrics (last being the sample before the run), and
// keeps each as an Interval.
func (f *fanout) progress(ctx context.Context, t0 time.Time, last serverSample, done <-chan struct{}) {
	w := f.cfg.Progress
	every := time.Second
	if f.cfg.Every > 0 {
		every = f.cfg.Every
	}
	if w == nil && f.cfg.Every == 0 {
		return
	}
	hist := hdr.New(latencyMin, latencyMax, progressDigits)
	tick := time.NewTicker(every)
	defer tick.Stop()
	lastAt := t0
	var lastPub, lastDel uint64
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			var pub, del, lost uint64
			for _, p := range f.pubs {
				pub += p.sent.Load()
			}
			for _, s := range f.subs {
				del += s.delivered.Load()
				lost += s.lost.Load()
				s.takeRecent(hist)
			}
			if len(f.subs) == 0 && f.http != nil {
				for _, p := range f.pubs {
					p.conn.(*httpSender).takeRecent(hist)
				}
			}
			secs := now.Sub(lastAt).Seconds()
			iv := Interval{
				At:           now.Sub(t0),
				Phase:        f.phase(lastAt.Add(now.Sub(lastAt) / 2)),
				PublishRate:  float64(pub-lastPub) / secs,
				DeliveryRate: float64(del-lastDel) / secs,
				Lost:         lost,
			}
			l := latencyOf(hist)
			iv.P50, iv.P99, iv.Max = l.P50, l.P99, l.Max
			hist.Reset()
			var line strings.Builder
			fmt.Fprintf(&line, "%4.0fs %-7s published %7.0f/s", iv.At.Seconds(), iv.Phase, iv.PublishRate)
			if len(f.subs) > 0 {
				fmt.Fprintf(&line, "  delivered %9.0f/s  lost %d", iv.DeliveryRate, iv.Lost)
			}
			if l.Samples > 0 {
				fmt.Fprintf(&line, "  p99 %s", iv.P99)
			}
			if f.cfg.Every > 0 {
				if s, err := f.scrape(ctx); err == nil {
					if last.rssBytes > 0 { // read before
						iv.ServerCPUCores = (s.cpuSeconds - last.cpuSeconds) / secs
						iv.ServerDropped = uint64(max(s.dropped-last.dropped, 0))
					}
					iv.ServerRSS = int64(s.rssBytes)
					last = s
					fmt.Fprintf(&line, "  server cpu %.2f rss %s dropped %d", iv.ServerCPUCores, mib(iv.ServerRSS), iv.ServerDropped)
				}
				f.intervals = append(f.intervals, iv)
			}
			if w != nil {
				fmt.Fprintln(w, line.String())
			}
			lastAt, lastPub, lastDel = now, pub, del
		}
	}
}

// phase names the part of the run that t is in.
func (f *fanout) phase(t time.Time) string {
	switch ns := t.UnixNano(); {
	case ns < f.win.start:
		return "warmup"
	case ns < f.win.end.Load():
		return "measure"
	}
	return "drain"
}
