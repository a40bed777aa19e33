package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
)

// freeAddr returns a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// readyz fetches /readyz and decodes its JSON body.
func readyz(t *testing.T, base string) (int, readiness) {
	t.Helper()
	r, err := http.Get(base + "/readyz")
	if err != nil {
		return 0, readiness{}
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	var body readiness
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("/readyz %d: body is not JSON: %q", r.StatusCode, b)
	}
	return r.StatusCode, body
}

// TestServeReadyzFollowsKafka runs `markwatch serve` against a broker
// address where nothing listens: /readyz is 503 naming Kafka; once a broker
// with the topics starts there, /readyz turns 200 without a restart.
func TestServeReadyzFollowsKafka(t *testing.T) {
	brokerAddr := freeAddr(t)
	httpAddr := freeAddr(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "m.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		done <- run(ctx, []string{"serve", "-brokers", brokerAddr, "-listen", httpAddr, "-db", db}, io.Discard, &stderr)
	}()
	base := "http://" + httpAddr

	var body readiness
	waitFor(t, 20*time.Second, "a 503 naming Kafka from /readyz", func() bool {
		var code int
		code, body = readyz(t, base)
		return code == http.StatusServiceUnavailable && strings.Contains(body.Reason, "kafka unreachable")
	})
	if body.Ready || !strings.Contains(body.Reason, brokerAddr) {
		t.Errorf("not-ready body %+v: want ready false and the broker address", body)
	}

	// The broker comes up at that address, without topics first.
	port, err := strconv.Atoi(brokerAddr[strings.LastIndex(brokerAddr, ":")+1:])
	if err != nil {
		t.Fatal(err)
	}
	brokers := kafkatest.StartEmbedded(t, kfake.Ports(port))
	waitFor(t, 20*time.Second, "a 503 naming the missing topics", func() bool {
		code, b := readyz(t, base)
		body = b
		return code == http.StatusServiceUnavailable && strings.Contains(b.Reason, "lacks topics")
	})
	def := config.Default()
	for _, topic := range []string{def.Kafka.Topics.Complaints, def.Review.ComplaintsDLQ, def.Kafka.Topics.Takedowns,
		def.Kafka.Topics.SellerActions, def.Kafka.Topics.SellerNotices, def.Kafka.Topics.Marks} {
		kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: topic, NumPartitions: 1, ReplicationFactor: 1})
	}
	waitFor(t, 20*time.Second, "200 from /readyz once the broker is up", func() bool {
		code, b := readyz(t, base)
		body = b
		return code == http.StatusOK
	})
	if !body.Ready || body.Reason != "" {
		t.Errorf("ready body %+v", body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exit %d: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop within 15 s")
	}
}
