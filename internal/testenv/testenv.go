// Package testenv tells integration tests where the outside services they
// need are, and what to do when one is missing.
//
// The contract (DESIGN.md, Running and testing): an integration test skips
// when its service is not configured, unless MARKWATCH_REQUIRE_INTEGRATION is
// set, in which case it fails and says how to start the service. `make test`
// and CI set it, so a broken service set-up can never pass as a green run of
// skipped tests. A variable that is set but malformed always fails: that is a
// mistake in the environment, not a missing service.
package testenv

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Names of the environment variables this package reads.
const (
	// EnvRequire, when set to anything but a false value ("0", "false",
	// "no", "off"), turns a missing service into a test failure.
	EnvRequire = "MARKWATCH_REQUIRE_INTEGRATION"
	// EnvKafkaBrokers holds a comma-separated list of host:port Kafka
	// bootstrap brokers, as printed by `scripts/kafka.sh env`.
	EnvKafkaBrokers = "MARKWATCH_KAFKA_BROKERS"
	// EnvPostgresURL holds a postgres:// connection URL, as printed by
	// `scripts/postgres.sh env`.
	EnvPostgresURL = "MARKWATCH_POSTGRES_URL"
	// EnvKafkaCluster holds the comma-separated client addresses of the
	// 3-node fault-test cluster, as printed by `scripts/kafka.sh
	// cluster-env`; scripts/test.sh sets it.
	EnvKafkaCluster = "MARKWATCH_KAFKA_CLUSTER"
)

// Require reports whether integration tests must run: true when
// MARKWATCH_REQUIRE_INTEGRATION is set to anything but a false value.
func Require() bool {
	return requireValue(os.Getenv(EnvRequire))
}

// requireValue interprets the value of EnvRequire. An empty value is unset;
// "0", "false", "no" and "off" (any case) are explicit opt-outs, so that
// MARKWATCH_REQUIRE_INTEGRATION=0 does not mean the opposite of what it says.
func requireValue(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return false
	}
	if b, err := strconv.ParseBool(v); err == nil {
		return b
	}
	switch strings.ToLower(v) {
	case "no", "off":
		return false
	}
	return true
}

// KafkaBrokers returns the Kafka bootstrap brokers from
// MARKWATCH_KAFKA_BROKERS. When the variable is unset or empty the test is
// skipped, or fails if Require() is true; either way the message says how to
// start a broker. An entry that is not host:port fails the test.
func KafkaBrokers(tb testing.TB) []string {
	tb.Helper()
	brokers, err := parseBrokers(os.Getenv(EnvKafkaBrokers))
	if err != nil {
		tb.Fatalf("testenv: %s: %v", EnvKafkaBrokers, err)
		return nil
	}
	if len(brokers) == 0 {
		missing(tb, EnvKafkaBrokers, "a Kafka broker",
			`scripts/kafka.sh start && eval "$(scripts/kafka.sh env)"`)
		return nil
	}
	return brokers
}

// KafkaCluster returns the client addresses of the multi-node test cluster
// from MARKWATCH_KAFKA_CLUSTER, and is required like every other service:
// unset, the test fails when Require() is true and skips otherwise. The
// cluster costs three JVMs, so scripts/test.sh starts it only for its last
// step and runs its main pass with -skip '^TestClusterFaults$', the one
// test that needs it. An entry that is not host:port fails the test.
func KafkaCluster(tb testing.TB) []string {
	tb.Helper()
	brokers, err := parseBrokers(os.Getenv(EnvKafkaCluster))
	if err != nil {
		tb.Fatalf("testenv: %s: %v", EnvKafkaCluster, err)
		return nil
	}
	if len(brokers) == 0 {
		missing(tb, EnvKafkaCluster, "the 3-node test cluster",
			`scripts/kafka.sh cluster-start && eval "$(scripts/kafka.sh cluster-env)"`)
		return nil
	}
	return brokers
}

// PostgresURL returns the PostgreSQL connection URL from
// MARKWATCH_POSTGRES_URL, skipping or failing the test like KafkaBrokers
// when it is unset. A value that is not a postgres:// or postgresql:// URL
// fails the test.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	raw := strings.TrimSpace(os.Getenv(EnvPostgresURL))
	if raw == "" {
		missing(tb, EnvPostgresURL, "a PostgreSQL server",
			`scripts/postgres.sh start && eval "$(scripts/postgres.sh env)"`)
		return ""
	}
	if err := checkPostgresURL(raw); err != nil {
		tb.Fatalf("testenv: %s: %v", EnvPostgresURL, err)
		return ""
	}
	return raw
}

// missing skips or fails tb for an unset variable. Callers return right
// after it, so that a testing.TB whose Skip and Fatal do not stop the
// goroutine (a fake in this package's tests) sees no further calls.
func missing(tb testing.TB, env, service, howto string) {
	tb.Helper()
	if Require() {
		tb.Fatalf("testenv: %s is not set and %s is: this test needs %s; start one with `%s`",
			env, EnvRequire, service, howto)
		return
	}
	tb.Skipf("testenv: %s is not set; skipping (needs %s; start one with `%s`, or set %s=1 to fail instead)",
		env, service, howto, EnvRequire)
}

// parseBrokers splits a comma-separated broker list, dropping blanks, and
// checks that every entry is host:port with a numeric port.
func parseBrokers(v string) ([]string, error) {
	var brokers []string
	for _, b := range strings.Split(v, ",") {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		host, port, err := net.SplitHostPort(b)
		if err != nil {
			return nil, fmt.Errorf("broker %q: %w", b, err)
		}
		if host == "" {
			return nil, fmt.Errorf("broker %q: empty host", b)
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("broker %q: port %q is not a number from 1 to 65535", b, port)
		}
		brokers = append(brokers, b)
	}
	return brokers, nil
}

// checkPostgresURL rejects values that cannot be a PostgreSQL URL, so a
// keyword/value string or a typo fails with a clear message instead of an
// obscure driver error.
func checkPostgresURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, password included; keep the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("parse URL: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("scheme %q: want postgres:// or postgresql://", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("URL has no host")
	}
	return nil
}
