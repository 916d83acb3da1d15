//go:build linux || darwin

package bench

import (
	"fmt"
	"syscall"
)

// raiseFDLimit makes sure the process may hold need file descriptors,
// raising its soft RLIMIT_NOFILE up to the hard one, and returns the soft
// limit in force. Go raises the soft limit to the hard one at start on
// Linux already; the hard limit is the one a user must raise (ulimit -Hn,
// LimitNOFILE= under systemd).
func raiseFDLimit(need uint64) (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("bench: cannot read the file descriptor limit: %w", err)
	}
	if l.Cur >= need {
		return l.Cur, nil
	}
	if l.Max < need {
		return l.Cur, fmt.Errorf("bench: %d connections need about %d file descriptors but this process may open at most %d: raise the hard limit (ulimit -Hn %d as root, or LimitNOFILE=) and run again",
			need-fdReserve, need, l.Max, need)
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("bench: cannot raise the file descriptor limit to %d: %w", l.Max, err)
	}
	return l.Cur, nil
}
