package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/markwatch/markwatch/internal/config"
)

// maxInstanceIndex bounds the search for a free instance index: more
// detectors of one group on one host than this is a mistake.
const maxInstanceIndex = 64

// groupInstanceID returns the detector's group.instance.id: kafka's
// group_instance_id when set, else the host name (characters Kafka
// refuses turned into '-'), a dash and an index. The index is
// group_instance_index, or when that is negative the lowest index whose
// lock file no other detector of the group on this host holds; the
// returned Closer releases it (at exit the system releases it anyway, so
// a SIGKILLed detector's index is free for its restart).
func groupInstanceID(k config.Kafka) (string, io.Closer, error) {
	if k.GroupInstanceID != "" {
		return k.GroupInstanceID, io.NopCloser(nil), nil
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "", nil, fmt.Errorf("kafka.group_instance_id: unset and the host name is unknown (%v): set it", err)
	}
	host = sanitizeInstanceID(host)
	if k.GroupInstanceIndex >= 0 {
		return fmt.Sprintf("%s-%d", host, k.GroupInstanceIndex), io.NopCloser(nil), nil
	}
	dir := filepath.Join(os.TempDir(), "markwatch-instances")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", nil, fmt.Errorf("kafka.group_instance_id: unset, and the instance lock directory: %w", err)
	}
	for i := range maxInstanceIndex {
		lock, err := lockFile(filepath.Join(dir, fmt.Sprintf("%s-%d.lock", sanitizeInstanceID(k.GroupID), i)))
		if errors.Is(err, errLocked) {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("kafka.group_instance_id: unset, and the instance lock: %w", err)
		}
		return fmt.Sprintf("%s-%d", host, i), lock, nil
	}
	return "", nil, fmt.Errorf("kafka.group_instance_id: unset, and %d detectors of group %s on this host hold every index: set it", maxInstanceIndex, k.GroupID)
}

// sanitizeInstanceID keeps what Kafka accepts in a group.instance.id
// ([a-zA-Z0-9._-]) and turns the rest into '-'.
func sanitizeInstanceID(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '-'
	}, s)
	return s[:min(len(s), 200)]
}

// errLocked: another process holds the lock.
var errLocked = errors.New("held by another process")
