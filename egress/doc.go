// Package egress is the subscriber side of Ringcast's HTTP server:
// WebSocket (mode=sub and mode=pubsub) and server-sent events subscribers,
// and GET /messages. A router validates the topic and method and calls
// Egress.WebSocket, Egress.SSE or Egress.Messages.
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
// Config.Publish. The writer waits for its reader before it returns, and
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
// # Lock order
//
// Egress.mu (registration of connections), then a connection's inbox mutex.
// Neither is held while writing to a socket.
package egress
