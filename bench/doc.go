// Package bench holds the scenarios of ringcast's load generator (ringcast
// bench SCENARIO): each dials a running broker over its public wire
// protocol, drives load at a fixed rate and measures what arrives.
//
// Concurrency contract: a scenario owns every goroutine it starts and
// returns only after all of them have ended. Each subscriber goroutine is
// the only writer of its own counters and latency histograms; the
// once-a-second progress reporter reads them through atomics and one
// per-subscriber mutex that the subscriber takes a few times a second,
// never per message. Histograms are merged only after the subscribers have
// returned.
package bench
