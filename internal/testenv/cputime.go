package testenv

import (
	"syscall"
	"testing"
	"time"
)

// ReportCPUPerOp starts measuring the process's CPU time (user + system)
// and returns a function that reports it per iteration of b as
// "cpu-ns/op". On a machine shared with other work, ns/op counts the time
// spent waiting for a core; the CPU time does not, so it is the better
// figure of what an operation costs (it includes the process's other
// goroutines: the database driver's, and SQLite's work in-process, but not
// a PostgreSQL server's).
func ReportCPUPerOp(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
