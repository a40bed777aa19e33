package pipeline

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind: every
// worker, emitter, commit loop, reader, writer and broker must be stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
