//go:build race

package egress

// raceEnabled: memory numbers mean nothing under the race detector.
const raceEnabled = true
