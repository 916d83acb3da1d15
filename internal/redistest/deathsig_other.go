//go:build !linux

package redistest

import "os/exec"

// setDeathSignal does nothing: only Linux kills a child with its parent.
func setDeathSignal(*exec.Cmd) {}
