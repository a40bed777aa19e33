package testenv

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// fakeTB records how a helper ended the test. Its Skip and Fatal return
// instead of stopping the goroutine, which is why the helpers return right
// after calling them.
type fakeTB struct {
	testing.TB // methods not overridden panic (nil): the helpers must not use them
	skipped    bool
	failed     bool
	msg        string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = true
	f.msg = fmt.Sprintf(format, args...)
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = true
	f.msg = fmt.Sprintf(format, args...)
}

// outcome names what happened to a fake test.
func (f *fakeTB) outcome() string {
	switch {
	case f.failed:
		return "fail"
	case f.skipped:
		return "skip"
	}
	return "run"
}

func TestRequire(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  bool
	}{
		{"unset", "", false},
		{"blank", "  ", false},
		{"one", "1", true},
		{"true", "true", true},
		{"yes", "yes", true},
		{"zero", "0", false},
		{"false", "FALSE", false},
		{"no", "no", false},
		{"off", "Off", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvRequire, tt.value)
			if got := Require(); got != tt.want {
				t.Errorf("Require() with %s=%q = %v, want %v", EnvRequire, tt.value, got, tt.want)
			}
		})
	}
}

func TestKafkaBrokers(t *testing.T) {
	tests := []struct {
		name     string
		brokers  string
		require  string
		want     []string
		outcome  string
		msgParts []string
	}{
		{name: "one broker", brokers: "127.0.0.1:19092", want: []string{"127.0.0.1:19092"}, outcome: "run"},
		{name: "list with blanks", brokers: " a:1, ,b:2 ,", require: "1", want: []string{"a:1", "b:2"}, outcome: "run"},
		{name: "ipv6", brokers: "[::1]:9092", want: []string{"[::1]:9092"}, outcome: "run"},
		{name: "unset skips", outcome: "skip", msgParts: []string{EnvKafkaBrokers, "scripts/kafka.sh start"}},
		{name: "only commas skip", brokers: ",,", outcome: "skip"},
		{name: "unset fails when required", require: "1", outcome: "fail",
			msgParts: []string{EnvKafkaBrokers, EnvRequire, "scripts/kafka.sh start", "scripts/kafka.sh env"}},
		{name: "explicit opt-out skips", require: "0", outcome: "skip"},
		{name: "missing port fails", brokers: "localhost", outcome: "fail", msgParts: []string{`"localhost"`}},
		{name: "bad port fails", brokers: "a:1,b:x", outcome: "fail", msgParts: []string{`"b:x"`}},
		{name: "port out of range fails", brokers: "a:70000", outcome: "fail"},
		{name: "empty host fails", brokers: ":9092", outcome: "fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvKafkaBrokers, tt.brokers)
			t.Setenv(EnvRequire, tt.require)
			f := &fakeTB{}
			got := KafkaBrokers(f)
			if f.outcome() != tt.outcome {
				t.Fatalf("outcome %s (%q), want %s", f.outcome(), f.msg, tt.outcome)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("brokers %q, want %q", got, tt.want)
			}
			for _, part := range tt.msgParts {
				if !strings.Contains(f.msg, part) {
					t.Errorf("message %q does not mention %q", f.msg, part)
				}
			}
		})
	}
}

func TestKafkaCluster(t *testing.T) {
	tests := []struct {
		name, cluster, require, outcome string
		want                            []string
	}{
		{name: "three nodes", cluster: "127.0.0.1:39092,127.0.0.1:39094,127.0.0.1:39096", outcome: "run",
			want: []string{"127.0.0.1:39092", "127.0.0.1:39094", "127.0.0.1:39096"}},
		{name: "unset skips", outcome: "skip"},
		{name: "unset fails when required", require: "1", outcome: "fail"},
		{name: "malformed fails", cluster: "127.0.0.1", outcome: "fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvKafkaCluster, tt.cluster)
			t.Setenv(EnvRequire, tt.require)
			f := &fakeTB{}
			got := KafkaCluster(f)
			if f.outcome() != tt.outcome {
				t.Fatalf("outcome %s (%q), want %s", f.outcome(), f.msg, tt.outcome)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("brokers %q, want %q", got, tt.want)
			}
			if tt.cluster == "" && !strings.Contains(f.msg, "scripts/kafka.sh cluster-start") {
				t.Errorf("message %q does not say how to start the cluster", f.msg)
			}
		})
	}
}

func TestPostgresURL(t *testing.T) {
	const good = "postgres://postgres@127.0.0.1:15432/markwatch_test?sslmode=disable"
	tests := []struct {
		name     string
		url      string
		require  string
		want     string
		outcome  string
		msgParts []string
		secret   string // must not appear in the message
	}{
		{name: "url", url: good, want: good, outcome: "run"},
		{name: "postgresql scheme", url: "postgresql://u@h/db", require: "1", want: "postgresql://u@h/db", outcome: "run"},
		{name: "unset skips", outcome: "skip", msgParts: []string{EnvPostgresURL, "scripts/postgres.sh start"}},
		{name: "unset fails when required", require: "true", outcome: "fail",
			msgParts: []string{EnvPostgresURL, EnvRequire, "scripts/postgres.sh start"}},
		{name: "keyword form fails", url: "host=localhost dbname=x", outcome: "fail", msgParts: []string{"scheme"}},
		{name: "wrong scheme fails", url: "mysql://u:hunter2@h/db", outcome: "fail", msgParts: []string{`"mysql"`}, secret: "hunter2"},
		{name: "no host fails", url: "postgres:///db", outcome: "fail", msgParts: []string{"no host"}},
		{name: "unparsable hides password", url: "postgres://u:hunter2@h:port/db", outcome: "fail", secret: "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvPostgresURL, tt.url)
			t.Setenv(EnvRequire, tt.require)
			f := &fakeTB{}
			got := PostgresURL(f)
			if f.outcome() != tt.outcome {
				t.Fatalf("outcome %s (%q), want %s", f.outcome(), f.msg, tt.outcome)
			}
			if got != tt.want {
				t.Errorf("url %q, want %q", got, tt.want)
			}
			for _, part := range tt.msgParts {
				if !strings.Contains(f.msg, part) {
					t.Errorf("message %q does not mention %q", f.msg, part)
				}
			}
			if tt.secret != "" && strings.Contains(f.msg, tt.secret) {
				t.Errorf("message %q leaks the password", f.msg)
			}
		})
	}
}

// FuzzParseBrokers checks that any accepted broker list round-trips: every
// entry splits into a host and a numeric port, and nothing blank survives.
func FuzzParseBrokers(f *testing.F) {
	for _, s := range []string{"127.0.0.1:19092", "a:1,b:2", "[::1]:9092", ",,", "x", ":1", "a:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		brokers, err := parseBrokers(v)
		if err != nil {
			return
		}
		for _, b := range brokers {
			if strings.TrimSpace(b) != b || b == "" || strings.Contains(b, ",") {
				t.Fatalf("parseBrokers(%q) kept %q", v, b)
			}
			if _, err := parseBrokers(b); err != nil {
				t.Fatalf("entry %q of accepted %q is rejected alone: %v", b, v, err)
			}
		}
	})
}
