// Package web holds the built-in console, embedded into the binary.
//
// The console is plain HTML, CSS and JavaScript ES modules under static/,
// with no build step. It speaks only the public wire contract (API.md):
// subscriptions over WebSocket or SSE with format=json, publishing and
// topic stats over HTTP. Serve FS() at "/" (index.html for "/").
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// FS returns the console's files (index.html at the root).
func FS() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic("BUG: web: embedded static directory missing: " + err.Error())
	}
	return sub
}
