// Package server wires the broker, ingress and egress into one fasthttp
// server: the router, the topic listing, health, metrics, the console, and
// the lifecycle (Start, then Shutdown drains in reverse order).
//
// Concurrency: handlers run on fasthttp's workers; the draining flag is the
// only state they share with Shutdown. A RequestCtx never leaves its
// handler, except through egress and ingress, which copy what they keep.
package server
