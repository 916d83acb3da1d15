// Package web holds the built-in console and the JavaScript client,
// embedded into the binary.
//
// The console is plain HTML, CSS and JavaScript ES modules under static/,
// with no build step. It speaks only the public wire contract (API.md)
// through static/ringcast.js, the JavaScript client (types in
// static/ringcast.d.ts; package.json publishes both to npm as "ringcast"),
// which the server also serves at /v1/client.js. Serve FS() at "/"
// (index.html for "/").
//
// Tests: web_test.go checks the files; e2e_test.go builds the server and
// runs the node tests in e2e/ (the client against a real server, the
// console in headless Chromium through Playwright).
package web

import (
	"embed"
	"io/fs"
)

// ClientFile is the JavaScript client's name in FS(), served at /v1/client.js.
const ClientFile = "ringcast.js"

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
