// Package server wires the broker, ingress and egress into one fasthttp
// server: the router, the topic listing, health, metrics, the console, and
// the lifecycle (Start, then Shutdown drains in reverse order). Its
// listener is internal/edge's (PROXY protocol, TLS, ACL, connection
// limits); handle runs the edge's per-request checks (refused connections,
// X-Forwarded-For from trusted proxies, the ACL) before route, and the
// publish routes take publish_rate_per_ip tokens (edge.go).
//
// Concurrency: handlers run on fasthttp's workers; the draining flag is the
// only state they share with Shutdown. A RequestCtx never leaves its
// handler, except through egress and ingress, which copy what they keep.
package server
