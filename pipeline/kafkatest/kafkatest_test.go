package kafkatest

import (
	"regexp"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/testenv"
	"go.uber.org/goleak"
)

// TestMain checks that the suite leaves no goroutine behind: every Reader,
// Writer, Transport and embedded broker it opens must be closed.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestSmokeApacheKafka runs the smoke suite against the broker of
// scripts/kafka.sh (MARKWATCH_KAFKA_BROKERS); it skips when none is
// configured unless MARKWATCH_REQUIRE_INTEGRATION is set.
func TestSmokeApacheKafka(t *testing.T) {
	RunSmoke(t, testenv.KafkaBrokers(t))
}

// TestSmokeEmbedded runs the same suite against the in-process kfake broker
// of `markwatch dev`. It needs nothing outside the test, so it always runs.
func TestSmokeEmbedded(t *testing.T) {
	RunSmoke(t, StartEmbedded(t))
}

func TestTopicName(t *testing.T) {
	legal := regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
	tests := []struct {
		name       string
		prefix     string
		wantPrefix string
	}{
		{"plain", "listings", "listings-"},
		{"kept punctuation", "a.b_c-d", "a.b_c-d-"},
		{"test name with slash", "TestX/sub case", "TestX_sub_case-"},
		{"non-ASCII", "marké", "mark_-"},
		{"empty", "", "-"},
		{"too long", strings.Repeat("x", 300), strings.Repeat("x", 200) + "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := TopicName(tt.prefix), TopicName(tt.prefix)
			if a == b {
				t.Errorf("two calls gave the same name %q", a)
			}
			for _, n := range []string{a, b} {
				if !strings.HasPrefix(n, tt.wantPrefix) || len(n) != len(tt.wantPrefix)+12 {
					t.Errorf("TopicName(%q) = %q, want %q and 12 hex digits", tt.prefix, n, tt.wantPrefix)
				}
				if !legal.MatchString(n) || len(n) > 249 {
					t.Errorf("TopicName(%q) = %q is not a legal topic name", tt.prefix, n)
				}
			}
		})
	}
}
