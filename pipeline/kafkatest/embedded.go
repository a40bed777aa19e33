package kafkatest

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// StartEmbedded starts franz-go's in-process kfake broker — the one `markwatch
// dev` embeds — as a single node on a random loopback port, and returns its
// address. It is closed when tb ends. opts are added after the defaults
// (NumBrokers(1)), so they can override them.
//
// kfake speaks the Kafka protocol but is not Kafka: compaction, retention and
// group coordination are its own re-implementations with their own timing, so
// RunSmoke asserts nothing that depends on when compaction runs.
func StartEmbedded(tb testing.TB, opts ...kfake.Opt) []string {
	tb.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		tb.Fatalf("kafkatest: start kfake: %v", err)
		return nil
	}
	tb.Cleanup(c.Close)
	return c.ListenAddrs()
}
