package testenv

import (
	"os/exec"
	"testing"
)

// Binary returns the path of the program name on PATH. When it is not
// installed the test is skipped, or fails if Require() is true; either way
// the message says how to install it (howto).
func Binary(tb testing.TB, name, howto string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if Require() {
			tb.Fatalf("testenv: %s is not installed and %s is set: install it with `%s`", name, EnvRequire, howto)
			return ""
		}
		tb.Skipf("testenv: %s is not installed; skipping (install it with `%s`, or set %s=1 to fail instead)", name, howto, EnvRequire)
		return ""
	}
	return path
}
