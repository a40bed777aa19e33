package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// EnvChromium names the Chromium (or Chrome) binary the console's browser
// tests drive; when unset, chromium, chromium-browser and google-chrome are
// looked up on PATH.
const EnvChromium = "MARKWATCH_CHROMIUM"

// Chromium returns the path of a headless-capable Chromium for browser
// tests, skipping the test when there is none, or failing it when
// MARKWATCH_REQUIRE_INTEGRATION is set (scripts/test.sh installs Debian's
// chromium when it is missing).
func Chromium(tb testing.TB) string {
	tb.Helper()
	if p := strings.TrimSpace(os.Getenv(EnvChromium)); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("testenv: %s=%s: %v", EnvChromium, p, err)
			return ""
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(tb, EnvChromium, "a Chromium browser", "apt-get install chromium")
	return ""
}
