package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// brokerCheck tells whether the Kafka brokers answer and hold the topics a
// process needs. The review service's complaints consumer and outbox relay
// both need Kafka: without it manual complaints never reach the queue and
// decisions never reach the marketplace, so the service is not ready.
//
// Run probes in the background every period and Err reports the last
// result, so that /readyz answers at once whatever the network does (an
// unreachable broker may take the whole timeout to fail) and a storm of
// probes is not a storm of metadata requests.
type brokerCheck struct {
	brokers []string
	topics  []string
	period  time.Duration
	timeout time.Duration

	mu   sync.Mutex
	last error
}

// errNotChecked is the state before the first probe has answered.
var errNotChecked = errors.New("kafka: not checked yet")

func newBrokerCheck(brokers, topics []string) *brokerCheck {
	return &brokerCheck{brokers: brokers, topics: topics, period: 2 * time.Second, timeout: 2 * time.Second, last: errNotChecked}
}

// Err is nil when the last probe reached the brokers and found every
// topic; otherwise it says what failed and what to check.
func (c *brokerCheck) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// Run probes until ctx ends, at once and then every period.
func (c *brokerCheck) Run(ctx context.Context) {
	t := time.NewTicker(c.period)
	defer t.Stop()
	for {
		err := c.probe(ctx)
		if ctx.Err() != nil {
			return
		}
		c.mu.Lock()
		c.last = err
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// probe asks the brokers for the metadata of the topics.
func (c *brokerCheck) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	transport := &kafka.Transport{DialTimeout: c.timeout}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(c.brokers...), Timeout: c.timeout, Transport: transport}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: c.topics})
	if err != nil {
		return fmt.Errorf("kafka unreachable at %s: %w (is the broker up, and are kafka.brokers / -brokers right?)",
			strings.Join(c.brokers, ","), err)
	}
	found := map[string]error{}
	for _, t := range md.Topics {
		found[t.Name] = t.Error
	}
	var missing []string
	for _, name := range c.topics {
		if err, ok := found[name]; !ok || err != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("kafka at %s lacks topics %s (create them, or fix kafka.topics)",
			strings.Join(c.brokers, ","), strings.Join(missing, ", "))
	}
	return nil
}
