// Package httpx holds what the HTTP-facing packages share without importing
// each other: the error codes and JSON error body of the wire contract, the
// client address, and the connection metrics.
package httpx
