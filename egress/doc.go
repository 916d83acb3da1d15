// Package egress is the subscriber side of Ringcast's HTTP server:
// WebSocket (mode=sub and mode=pubsub) and server-sent events subscribers,
// and GET /messages. A router validates the topic and method and calls
// Egress.WebSocket, Egress.SSE or Egress.Messages. It also runs the
// configured destinations, webhooks and outbound WebSockets.
//
// # Concurrency contract
//
// Every subscriber is an actor. Its writer goroutine (the goroutine fasthttp
// runs the hijacked connection in) owns every byte written to the socket:
// messages, pings, pongs and close frames. It reads every ready message off
// its broker.Subscription, appends each message's pre-encoded frame
// (broker.Message.Encoded, computed once per format and shared by every
// subscriber) to one pooled buffer and writes it with one write to the
// underlying net.Conn. When nothing is ready it parks in a select of three
// cases (each costs a parked goroutine memory): the subscription, its ping
// or heartbeat ticker, and its wake channel, on which its reader and
// Shutdown post.
//
// A WebSocket subscriber also has a reader goroutine: it answers nothing
// itself, but hands pong requests and close reasons to the writer through
// the connection's inbox (a mutex, then a send on the capacity-1 wake
// channel), tells it when it returns, extends
// the read deadline on every frame (a dead peer is closed within two ping
// intervals) and, in mode=pubsub, publishes each frame through
// Config.Publish. It reads frames from the socket itself (frameReader), so
// that an idle subscriber keeps neither the websocket library's reader nor
// fasthttp's request buffer; a frame that breaks RFC 6455 makes the writer
// close with 1002. The writer waits for its reader before it returns, and
// Egress.Shutdown waits for every writer and reader (a WaitGroup counts
// both), so no goroutine outlives Shutdown.
//
// The fasthttp RequestCtx is used only by the handler before it returns:
// everything the actor needs (query values, attributes, the SSE response
// header) is copied out first.
//
// The one exception to "one writer": fasthttp/websocket itself writes a
// close frame with code 1002 when the peer breaks the framing protocol.
// net.Conn writes are atomic per call, so that frame cannot interleave with
// a batch.
//
// # Destinations
//
// A destination (Egress.NewDestinations: webhook.go, wsclient.go) is a
// subscriber actor of the broker's own: it has a ManualCommit, Trusted
// subscription (policy block unless configured drop-oldest, on any topic)
// on every topic its patterns match. broker.Broker.Watch subscribes it to
// those that exist at Start and to each one created later, before anyone
// can publish to it. With the default dead letter topic ("<topic>.dlq"),
// wildcard patterns skip topics ending in ".dlq", so a destination never
// reads its own dead letters.
//
// Each subscription has a waiter goroutine parked on it. When something is
// ready, the waiter hands the subscription to the actor (destination.ready
// and the wake channel) and waits until the actor, having read it empty,
// hands it back (topicSub.rearm): one goroutine at a time reads it. The
// actor commits a topic's cursor past a message only when it is delivered
// (a webhook's success answer; for a WebSocket, the pong of a ping sent
// after the frame) or dead-lettered. So a block destination that is down
// holds its topics' rings and publishers wait, and what it read and has not
// delivered is still in the ring, never only in its memory.
//
// A webhook has a dispatcher goroutine (the actor) and MaxInFlight workers,
// each trying one message at a time until it is delivered or
// dead-lettered. A WebSocket destination's actor dials, writes every frame,
// ping and close frame itself, and confirms; a reader goroutine per
// connection takes the pongs. Destinations.Shutdown stops watching, cancels
// the destinations' context and waits for all of these goroutines.
//
// # Lock order
//
// Egress.mu (registration of connections), then a connection's inbox mutex.
// Neither is held while writing to a socket. For destinations: the broker's
// creation lock (a Watch callback), then destination.mu, then the topic's
// subscriber lock. No goroutine holding destination.mu creates a topic or
// publishes, which would wait for the creation lock.
package egress
