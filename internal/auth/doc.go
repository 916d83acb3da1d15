// Package auth decides who may publish and subscribe: static bearer tokens
// (kept only as their SHA-256) and JSON Web Tokens (HS256 and/or RS256),
// each granting topic patterns to publish to and subscribe to.
//
// Concurrency: an Authenticator and the Grants it returns are immutable
// after New and safe for concurrent use; there are no locks.
package auth
