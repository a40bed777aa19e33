package kafkatest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// setupTimeout bounds each helper's conversation with the broker. A single
// node answers in milliseconds; the margin is for a loaded 2-core machine.
const setupTimeout = 30 * time.Second

// TopicName returns a topic name that no earlier run used: prefix, a dash and
// 12 random hex digits. Only Kafka's legal characters are kept from prefix.
func TopicName(prefix string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, prefix)
	if len(clean) > 200 {
		clean = clean[:200]
	}
	return fmt.Sprintf("%s-%012x", clean, rand.Uint64()&(1<<48-1))
}

// CreateTopic creates topic through the cluster's controller and returns once
// every partition has a leader in the metadata, so a Writer or Reader started
// right after does not race the creation (a fresh topic answers
// UnknownTopicOrPartition or LeaderNotAvailable for a moment). ReplicationFactor
// 0 means 1. The test fails on any error.
//
// kafka-go's Conn.CreateTopics treats "topic already exists" as success even
// when the existing topic has other partitions or configs; CreateTopic checks
// the partition count so such a clash is not silent.
func CreateTopic(tb testing.TB, brokers []string, topic kafka.TopicConfig) {
	tb.Helper()
	if topic.ReplicationFactor == 0 {
		topic.ReplicationFactor = 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := createTopic(ctx, brokers, topic); err != nil {
		tb.Fatalf("kafkatest: create topic %s: %v", topic.Topic, err)
	}
}

func createTopic(ctx context.Context, brokers []string, topic kafka.TopicConfig) error {
	if len(brokers) == 0 {
		return errors.New("no brokers")
	}
	conn, err := kafka.DialContext(ctx, "tcp", brokers[0])
	if err != nil {
		return fmt.Errorf("dial %s: %w", brokers[0], err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}
	// Before KRaft only the controller accepted CreateTopics (any other
	// broker answered NOT_CONTROLLER); a KRaft broker forwards it. Sending
	// it to the node Metadata names as controller works on every broker.
	controller, err := conn.Controller()
	if err != nil {
		return fmt.Errorf("find controller: %w", err)
	}
	addr := net.JoinHostPort(controller.Host, strconv.Itoa(controller.Port))
	ctrl, err := kafka.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("dial controller %s: %w", addr, err)
	}
	defer ctrl.Close()
	// kafka-go derives the request's broker-side timeout from the deadline:
	// with one set the controller answers once the topic exists, not at once.
	if err := ctrl.SetDeadline(deadline); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}
	if err := ctrl.CreateTopics(topic); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	return waitForLeaders(ctx, conn, topic.Topic, topic.NumPartitions)
}

// waitForLeaders polls the metadata until topic has want partitions, each
// with a leader, or ctx ends.
func waitForLeaders(ctx context.Context, conn *kafka.Conn, topic string, want int) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		parts, err := conn.ReadPartitions(topic)
		switch {
		case err != nil:
			last = err
		case len(parts) > want:
			return fmt.Errorf("topic already exists with %d partitions, want %d", len(parts), want)
		case len(parts) == want && allLed(parts):
			return nil
		default:
			last = fmt.Errorf("%d of %d partitions have a leader", countLed(parts), want)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for partition leaders: %w (last: %v)", ctx.Err(), last)
		case <-tick.C:
		}
	}
}

func allLed(parts []kafka.Partition) bool { return countLed(parts) == len(parts) }

func countLed(parts []kafka.Partition) int {
	n := 0
	for _, p := range parts {
		if p.Leader.Host != "" && p.Leader.ID >= 0 {
			n++
		}
	}
	return n
}
