package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/segmentio/kafka-go"
)

// kafka-go reports the errors it retries by itself only through its
// ErrorLogger, as printf text with the error among the arguments, and
// calls them all "unknown error". Most are routine: a fetch long-poll on an
// idle partition runs past its read deadline about once a minute, the broker
// closes an idle connection, shutdown cancels a fetch. Logged at warn they
// teach operators to ignore warnings. KafkaLogger sorts them by the error
// itself: routine ones go to debug, faults to warn or error with a hint of
// what to do. A broker that hangs shows as repeated timeouts at debug; it is
// caught by consumer lag and /healthz (no progress), not by this log.

// KafkaClass is the verdict on one error kafka-go reports.
type KafkaClass struct {
	// Level is the level the report is logged at.
	Level slog.Level
	// Class names the kind of error for the error_class log key.
	Class string
	// Hint says what an operator should do; empty for routine reports.
	Hint string
}

// ClassifyKafkaError sorts an error kafka-go retries by itself (or
// returns). A nil error is a report without an error value: kafka-go's
// notices about offsets, logged at info.
func ClassifyKafkaError(err error) KafkaClass {
	const reach = "cannot reach the broker: check that Kafka runs at the configured address (kafka.brokers, -brokers, MARKWATCH_KAFKA_BROKERS) and that the network lets this host connect"
	var kerr kafka.Error
	var nerr net.Error
	var dns *net.DNSError
	switch {
	case err == nil:
		return KafkaClass{Level: slog.LevelInfo, Class: "notice"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return KafkaClass{Level: slog.LevelDebug, Class: "canceled"}
	case errors.As(err, &kerr):
		return classifyKafkaProtocol(kerr)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		// A fetch waits for data up to MaxWait; on an idle partition the
		// connection's read deadline ends it and kafka-go fetches again.
		return KafkaClass{Level: slog.LevelDebug, Class: "timeout"}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		// The broker closed an idle connection (connections.max.idle.ms),
		// or this process is closing it; kafka-go reconnects.
		return KafkaClass{Level: slog.LevelDebug, Class: "connection_closed"}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return KafkaClass{Level: slog.LevelInfo, Class: "connection_reset",
			Hint: "kafka-go reconnects; if this repeats, check the broker's logs (restarts, crashes) and any proxy or load balancer in between"}
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH), errors.As(err, &dns):
		return KafkaClass{Level: slog.LevelWarn, Class: "unreachable", Hint: reach}
	}
	return KafkaClass{Level: slog.LevelWarn, Class: "unknown",
		Hint: "kafka-go retries this itself; if it repeats, check the broker's logs and the network to it"}
}

// classifyKafkaProtocol sorts an error code the broker answered with.
func classifyKafkaProtocol(e kafka.Error) KafkaClass {
	switch e {
	case kafka.UnknownTopicOrPartition:
		return KafkaClass{Level: slog.LevelWarn, Class: "unknown_topic",
			Hint: "the topic does not exist on this cluster: create it, or fix the topic names under kafka.topics"}
	case kafka.TopicAuthorizationFailed, kafka.GroupAuthorizationFailed, kafka.ClusterAuthorizationFailed,
		kafka.SASLAuthenticationFailed, kafka.TransactionalIDAuthorizationFailed:
		return KafkaClass{Level: slog.LevelError, Class: "not_authorized",
			Hint: "the broker refuses this client: grant its principal access to the topic and group (ACLs) or fix its credentials"}
	case kafka.OffsetOutOfRange:
		return KafkaClass{Level: slog.LevelWarn, Class: "offset_out_of_range",
			Hint: "records were deleted by retention before they were read: the consumer fell behind or was down too long"}
	}
	rebalancing := e == kafka.RebalanceInProgress || e == kafka.IllegalGeneration || e == kafka.UnknownMemberId ||
		e == kafka.GroupCoordinatorNotAvailable || e == kafka.NotCoordinatorForGroup || e == kafka.GroupLoadInProgress
	if e.Temporary() || rebalancing {
		// Leader elections, rebalances, a coordinator loading: kafka-go
		// waits and retries, and the cluster settles within seconds.
		return KafkaClass{Level: slog.LevelInfo, Class: "retriable",
			Hint: "routine while the cluster moves leaders or rebalances; if it lasts minutes, check the brokers' health"}
	}
	return KafkaClass{Level: slog.LevelWarn, Class: "broker_error",
		Hint: "the broker refused the request: see its logs for " + e.Title()}
}

// KafkaLogger adapts log to kafka-go's ErrorLogger: each report is logged
// at the level ClassifyKafkaError gives the error among its arguments, with
// error_class and, for faults, a hint.
func KafkaLogger(log *slog.Logger) kafka.Logger {
	return kafka.LoggerFunc(func(format string, args ...any) {
		var err error
		for _, a := range args {
			if e, ok := a.(error); ok {
				err = e
			}
		}
		c := ClassifyKafkaError(err)
		msg := fmt.Sprintf(format, args...)
		if err == nil && strings.Contains(msg, "skipping from offset") {
			// "reading before the first offset ..., skipping": records
			// were lost to retention before this reader got to them.
			c = classifyKafkaProtocol(kafka.OffsetOutOfRange)
		}
		attrs := []any{"error_class", c.Class}
		if c.Hint != "" {
			attrs = append(attrs, "hint", c.Hint)
		}
		log.Log(context.Background(), c.Level, "kafka client: "+msg, attrs...)
	})
}
