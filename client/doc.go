// Package client is the Go client of Ringcast, built only on its wire
// contract (API.md): publish one message, a batch, or a stream over one
// WebSocket, and subscribe with a Subscription that survives disconnects.
//
// # Subscribing
//
// Client.Subscribe connects before it returns; Subscription.Next then
// returns one Event at a time:
//
//   - a Message, in seq order;
//   - a Gap, just before the message after seqs that were missed: the
//     subscriber fell behind by a whole ring (the server skipped ahead, or
//     closed it under Policy Disconnect), or they were no longer retained
//     when it came back;
//   - a Reset, just before the first message of a new epoch: the topic's
//     history started over (the server restarted, or the topic expired),
//     so seqs start again from 1.
//
// Nothing is missed silently. When the connection drops (the server shuts
// down with close code 1001, closes a lapped subscriber with 1008, the
// network fails, or a connection stays silent for 60 s), Next reconnects
// with jittered exponential backoff (WithBackoff) and resumes with
// from=lastSeq+1&epoch=lastEpoch, so what was published meanwhile arrives
// if the server still retains it, and is reported as a Gap if not. A 4xx
// refusal of a reconnection is final: Next returns it as an *APIError.
//
// A draining server says when to come back, a different wait for each of
// its subscribers: a WebSocket closes with 1001 and the reason "draining;
// reconnect in <ms> ms", an SSE stream ends after a "retry: <ms>" field.
// Next then waits that long (at most a minute) plus its backoff, so that
// the subscribers of a restarting instance do not all reconnect at once.
//
// Subscriptions always ask the server for format=json, over WebSocket by
// default or server-sent events (SubscribeOptions.Transport).
//
// # Errors
//
// Every refusal by the server is an *APIError; match it with errors.As
// and switch on its Code (CodeBadTopic, CodeBackpressure, …). Backpressure
// and draining carry RetryAfter.
//
// # Concurrency contract
//
// A Client is safe for concurrent use and holds no goroutine of its own;
// its HTTP client keeps idle connections as net/http does.
//
// A Subscription has one consumer: Next must not be called concurrently
// with itself. It starts no goroutine: connecting, reading, waiting out
// the backoff and reconnecting all happen inside Next, on the caller's
// goroutine, so a consumer that stops calling Next stops reading, and the
// server's policy applies (under DropOldest the skipped seqs come as a
// Gap). Close may be called from any goroutine at any time; it interrupts
// a Next in progress, which returns ErrClosed. When Subscribe's context
// ends the subscription ends the same way, with that context's error.
// Either way no goroutine is left behind.
//
// A Publisher owns one goroutine, which reads the server's pings and close
// frame; Close waits for it. Send and Close are safe for concurrent use;
// concurrent Sends go out one at a time.
//
// Lock order: a Subscription's mutex guards only its current connection
// and is never held while reading or dialing; a Publisher's semaphore
// (one Send at a time) is taken before its mutex.
package client
