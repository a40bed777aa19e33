// Command probe tells scripts/kafka.sh whether a Kafka broker really answers:
// a listening socket is not enough, since a KRaft broker accepts connections
// before it has caught up with the metadata log and been unfenced. The probe
// asks for the API versions and the cluster metadata with the same client the
// project uses (segmentio/kafka-go), and succeeds only when the broker lists
// itself among the live brokers and names a controller.
//
// Usage: probe -addr 127.0.0.1:19092 [-timeout 2s] [-min-brokers 1]
//
// -min-brokers N (scripts/kafka.sh cluster-start uses 3) also requires N live
// brokers in the answer, so that a cluster counts as up only once every node
// has registered and been unfenced.
//
// Exit status 0: the broker answers; 1: it does not (the reason on stderr);
// 2: bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/segmentio/kafka-go"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:19092", "broker address, host:port")
	timeout := flag.Duration("timeout", 2*time.Second, "time allowed for the whole probe")
	minBrokers := flag.Int("min-brokers", 1, "live brokers the metadata answer must list")
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := probe(ctx, *addr, *minBrokers); err != nil {
		fmt.Fprintf(os.Stderr, "probe %s: %v\n", *addr, err)
		os.Exit(1)
	}
}

// probe returns nil when the broker at addr answers ApiVersions and a
// Metadata request that lists at least minBrokers live brokers and a
// controller.
func probe(ctx context.Context, addr string, minBrokers int) error {
	conn, err := kafka.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			return fmt.Errorf("set deadline: %w", err)
		}
	}
	versions, err := conn.ApiVersions()
	if err != nil {
		return fmt.Errorf("api versions: %w", err)
	}
	if len(versions) == 0 {
		return errors.New("api versions: empty answer")
	}
	brokers, err := conn.Brokers()
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	// Fenced brokers are left out of metadata answers, so an empty list means
	// the broker is still starting.
	if len(brokers) == 0 {
		return errors.New("metadata: no live broker yet")
	}
	if len(brokers) < minBrokers {
		return fmt.Errorf("metadata: %d live brokers, want %d", len(brokers), minBrokers)
	}
	if _, err := conn.Controller(); err != nil {
		return fmt.Errorf("metadata: controller: %w", err)
	}
	return nil
}
