//go:build race

package web

// raceEnabled: this test binary runs under -race, so the server it builds does too.
const raceEnabled = true
