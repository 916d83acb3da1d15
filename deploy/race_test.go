//go:build race

package deploy

// raceBuild: the tests run under -race, so they build ringcast with -race
// too, and a data race in an instance fails the test.
const raceBuild = true
