// Package httpx holds what the HTTP-facing packages share without importing
// each other: the error codes and JSON error body of the wire contract, the
// client address, the attributes of a publish, the connection metrics, and
// the connection tracker of the outbound HTTP clients.
package httpx
