package marks

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: every Run must stop
// its readers, and every Writer, Transport and broker a test opens must close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
