package main

import (
	"os"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/config"
)

// TestGroupInstanceID: a configured id wins; a fixed index gives the host
// name and the index; automatic indexes are distinct while held and
// reused once released.
func TestGroupInstanceID(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	host, err := os.Hostname()
	if err != nil || host == "" {
		// Without a host name the default cannot be built: it must say so.
		if _, _, err := groupInstanceID(config.Kafka{GroupID: "g", GroupInstanceIndex: 0}); err == nil ||
			!strings.Contains(err.Error(), "set it") {
			t.Fatalf("no host name: %v, want an error asking for kafka.group_instance_id", err)
		}
		return
	}
	host = sanitizeInstanceID(host)
	group := "g-" + t.Name()
	id, c, err := groupInstanceID(config.Kafka{GroupID: group, GroupInstanceID: "detector-7"})
	if err != nil || id != "detector-7" {
		t.Fatalf("configured: %q, %v", id, err)
	}
	_ = c.Close()
	id, c, err = groupInstanceID(config.Kafka{GroupID: group, GroupInstanceIndex: 3})
	if err != nil || id != host+"-3" {
		t.Fatalf("fixed index: %q, %v", id, err)
	}
	_ = c.Close()

	first, c0, err := groupInstanceID(config.Kafka{GroupID: group, GroupInstanceIndex: -1})
	if err != nil {
		t.Fatal(err)
	}
	second, c1, err := groupInstanceID(config.Kafka{GroupID: group, GroupInstanceIndex: -1})
	if err != nil {
		t.Fatal(err)
	}
	if first != host+"-0" || second != host+"-1" {
		t.Errorf("two detectors on one host: %q and %q, want %s-0 and %s-1", first, second, host, host)
	}
	if err := c0.Close(); err != nil {
		t.Fatal(err)
	}
	again, c2, err := groupInstanceID(config.Kafka{GroupID: group, GroupInstanceIndex: -1})
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Errorf("after the first stopped, a new detector got %q, want its id %q back", again, first)
	}
	_, _ = c1.Close(), c2.Close()
	if !config.ValidInstanceID(first) {
		t.Errorf("derived id %q is not one Kafka accepts", first)
	}
}

func TestSanitizeInstanceID(t *testing.T) {
	for in, want := range map[string]string{
		"host-1.example.com":     "host-1.example.com",
		"my host/é":              "my-host--",
		strings.Repeat("h", 300): strings.Repeat("h", 200),
	} {
		if got := sanitizeInstanceID(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}
