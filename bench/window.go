package bench

import "sync/atomic"

// window is the measured part of a run, in Unix nanoseconds. The end
// moves earlier, once, when publishing stops early.
type window struct {
	start int64
	end   atomic.Int64
}

// cut ends the window at t unless it already ends earlier.
func (w *window) cut(t int64) {
	for {
		end := w.end.Load()
		if t >= end || w.end.CompareAndSwap(end, t) {
			return
		}
	}
}

// contains reports whether t is inside the window.
func (w *window) contains(t int64) bool { return t >= w.start && t < w.end.Load() }
