package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// realTimeout returns the error a read past its deadline gives on a real
// loopback connection: what kafka-go reports for an idle fetch.
func realTimeout(t *testing.T) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err = c.Read(make([]byte, 1))
	if err == nil {
		t.Fatal("read past its deadline succeeded")
	}
	return err
}

// refused is what dialing a closed port gives.
func refused(t *testing.T) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = net.Dial("tcp", addr)
	if err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
	return err
}

func TestClassifyKafkaError(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		level    slog.Level
		class    string
		wantHint bool
	}{
		{"idle fetch read timeout", realTimeout(t), slog.LevelDebug, "timeout", false},
		{"deadline wrapped", fmt.Errorf("read: %w", os.ErrDeadlineExceeded), slog.LevelDebug, "timeout", false},
		{"context canceled", fmt.Errorf("fetch: %w", context.Canceled), slog.LevelDebug, "canceled", false},
		{"broker closed idle connection", fmt.Errorf("read: %w", io.EOF), slog.LevelDebug, "connection_closed", false},
		{"closed by us", &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}, slog.LevelDebug, "connection_closed", false},
		{"connection refused", refused(t), slog.LevelWarn, "unreachable", true},
		{"no such host", &net.DNSError{Err: "no such host", Name: "kafka-1", IsNotFound: true}, slog.LevelWarn, "unreachable", true},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, slog.LevelInfo, "connection_reset", true},
		{"leader moving", kafka.NotLeaderForPartition, slog.LevelInfo, "retriable", true},
		{"rebalance", fmt.Errorf("commit: %w", kafka.RebalanceInProgress), slog.LevelInfo, "retriable", true},
		{"request timed out (broker side)", kafka.RequestTimedOut, slog.LevelInfo, "retriable", true},
		{"unknown topic", kafka.UnknownTopicOrPartition, slog.LevelWarn, "unknown_topic", true},
		{"not authorized", kafka.TopicAuthorizationFailed, slog.LevelError, "not_authorized", true},
		{"retention ate records", kafka.OffsetOutOfRange, slog.LevelWarn, "offset_out_of_range", true},
		{"other broker error", kafka.InvalidRequiredAcks, slog.LevelWarn, "broker_error", true},
		{"anything else", errors.New("boom"), slog.LevelWarn, "unknown", true},
		{"no error at all", nil, slog.LevelInfo, "notice", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ClassifyKafkaError(tc.err)
			if c.Level != tc.level || c.Class != tc.class {
				t.Errorf("ClassifyKafkaError(%v) = %s/%s, want %s/%s", tc.err, c.Level, c.Class, tc.level, tc.class)
			}
			if (c.Hint != "") != tc.wantHint {
				t.Errorf("hint %q, want one: %v", c.Hint, tc.wantHint)
			}
		})
	}
}

// TestKafkaLogger feeds the adapter the reports kafka-go makes, in its own
// words, and checks the level each is logged at.
func TestKafkaLogger(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format string
		args   []any
		level  string
	}{
		{"idle fetch timeout, as kafka-go words it",
			"the kafka reader got an unknown error reading partition %d of %s at offset %d: %s",
			[]any{5, "complaints", int64(78), realTimeout(t)}, "DEBUG"},
		{"broker down", "failed to read from current broker %v for partition %d of %s at offset %d: %v",
			[]any{[]string{"127.0.0.1:9092"}, 1, "listings", int64(3), refused(t)}, "WARN"},
		{"retention skipped records",
			"the kafka reader is reading before the first offset for partition %d of %s, skipping from offset %d to %d (%d messages)",
			[]any{0, "listings", int64(1), int64(11), int64(10)}, "WARN"},
		{"past the last offset", "the kafka reader is reading passed the last offset for partition %d of %s at offset %d",
			[]any{0, "listings", int64(4)}, "INFO"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			KafkaLogger(log).Printf(tc.format, tc.args...)
			out := buf.String()
			if !strings.Contains(out, "level="+tc.level+" ") {
				t.Errorf("logged %q, want level %s", out, tc.level)
			}
			if tc.level == "WARN" && !strings.Contains(out, "hint=") {
				t.Errorf("a warning without a hint: %q", out)
			}
		})
	}
}
