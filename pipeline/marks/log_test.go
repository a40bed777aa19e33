package marks

import (
	"log/slog"
	"testing"
)

// testLogger sends the follower's logs to t.Log, so a failing test shows them.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}
