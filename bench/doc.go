// Package bench holds the scenarios of ringcast's load generator (ringcast
// bench SCENARIO): each dials a running broker, and only the one at its
// URL, over its public wire protocol, drives load for a bounded time and
// count, and measures what arrives.
//
//   - Publish: HTTP POSTs over N keep-alive connections (fasthttp's request
//     writer and response parser), unpaced or at a rate; every 201's seq
//     is checked.
//   - WSPublish: mode=pub WebSocket frames as fast as possible; the
//     broker's published counter must grow by every frame sent. Unpaced,
//     a WebSocket publisher masks its frames into one buffer and writes
//     it once per 32 KiB (and before it returns): one write() per
//     100-byte frame held a connection near 200,000 frames/s, the cost of
//     the loopback write on the sender's core, not the broker's limit.
//     Paced, each frame is written as it is sent.
//   - Fanout: P publishers (WebSocket or HTTP), S WebSocket or SSE
//     subscribers at a rate; every subscriber checks every message.
//   - Soak: Fanout for long, with a report (and the broker's CPU, memory
//     and drops) every interval.
//   - Connections: ramp to C idle subscribers, the broker's resident memory
//     per connection, then a delivery check.
//
// Every message carries a stamp (run, publisher, counter, send time); a
// subscriber checks the counters of each publisher in order, so a loss is
// a gap, judged by the rules of the subscribers' policy (LossCheck). The
// broker's process and ringcast_* metrics are read from its /metrics before
// and after a run.
//
// Concurrency contract: a scenario owns every goroutine it starts and
// returns only after all of them have ended. Each subscriber and each
// publisher goroutine is the only writer of its own counters and latency
// histograms; the progress reporter reads them through atomics and one
// mutex per recorder that its owner takes a few times a second, never per
// message. Histograms are merged only after their owners have returned. A
// publisher's sender (WebSocket or HTTP connection) is used by that
// publisher's goroutine only; stop and abort, which close it, may come from
// any goroutine. The connections scenario's receivers share one latency
// histogram under a mutex: they see a few messages each.
package bench
