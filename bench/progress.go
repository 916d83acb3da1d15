package bench

import (
	"fmt"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// progress writes a line a second to cfg.Progress until done is closed:
// the last second's publish and delivery rates and the p99 latency so far.
func (f *fanout) progress(t0 time.Time, done <-chan struct{}) {
	w := f.cfg.Progress
	if w == nil {
		return
	}
	hist := hdr.New(latencyMin, latencyMax, progressDigits)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := t0
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
			secs := now.Sub(last).Seconds()
			fmt.Fprintf(w, "%4.0fs %-7s published %7.0f/s  delivered %9.0f/s  lost %d  p99 %s\n",
				now.Sub(t0).Seconds(), f.phase(last.Add(now.Sub(last)/2)), float64(pub-lastPub)/secs, float64(del-lastDel)/secs,
				lost, time.Duration(hist.ValueAtQuantile(99))*time.Microsecond)
			last, lastPub, lastDel = now, pub, del
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
