//go:build !race

package deploy

// raceBuild: the tests run without -race, and so does ringcast.
const raceBuild = false
