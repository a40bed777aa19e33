//go:build unix

package imagematch

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) the process has used: on a
// machine shared by other sessions a benchmark's wall time counts the time
// it waited for a core, its CPU time does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
