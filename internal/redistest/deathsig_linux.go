package redistest

import (
	"os/exec"
	"syscall"
)

// setDeathSignal has the kernel kill cmd if the test process dies first.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
