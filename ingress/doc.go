// Package ingress is the publish side of Ringcast's HTTP server: POST
// /v1/topics/{topic} (one message), POST /v1/topics/{topic}/batch (one
// message per line, all or nothing) and WebSocket publishers
// (GET /v1/topics/{topic}/ws?mode=pub, one message per frame). It turns
// requests and frames into broker messages, maps the broker's errors to the
// wire contract's answers and counts what it accepts and refuses.
//
// # Concurrency contract
//
// The HTTP handlers run on fasthttp's goroutines and return before the
// request ends: a request's body and RequestCtx die then, so payloads,
// attributes and the topic are copied into the message, and ctx never
// reaches another goroutine. A publish tries the broker first with a
// context that is already done, which costs nothing when the ring has
// room; only when block subscribers hold the ring full does it wait, for up
// to Config.PublishTimeout (HTTP) or without a deadline (WebSocket, which
// is then not read from, so TCP pushes back on the client).
//
// Each WebSocket publisher has one goroutine, the one fasthttp hijacks the
// connection into: it alone reads frames and publishes them, in order. Its
// pings are written by a time.AfterFunc callback and its close frames by
// the reader, both through websocket.Conn.WriteControl, which may run
// concurrently with reading; no data frame is ever written. Shutdown wakes
// each reader with an expired read deadline, the reader sends 1001, and
// Shutdown waits for every reader goroutine (Ingress.wg) and, through
// stopPings, every ping in flight.
//
// Sources (Ingress.NewSources: wssource.go, pollsource.go) pull from
// elsewhere: each has one goroutine that dials or polls and publishes what
// it gets, in order, into its topic, counted as transport "source". While
// block subscribers hold that topic full, the goroutine keeps retrying the
// same message and reads nothing more. Sources.Shutdown cancels their
// context and waits for the goroutines; when its own context ends first,
// it closes their connections.
//
// # Lock order
//
// Ingress.mu guards the set of WebSocket publishers and draining; a
// wsPublisher's mu guards its ping timer, its shutdown flags and every
// change of its read deadline. No goroutine holds both.
package ingress
