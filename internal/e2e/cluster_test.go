package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/testenv"
)

// cluster is the 3-node KRaft cluster of `scripts/kafka.sh cluster-start`,
// driven through the script: kill a node, start it again, ask who the
// active controller is, run Kafka's own tools.
type cluster struct {
	t       testing.TB
	brokers []string
	root    string
	// base is node 1's client port: MARKWATCH_KAFKA_CLUSTER_PORT for the
	// script.
	base   int
	client *kafka.Client
}

// openCluster returns the cluster of MARKWATCH_KAFKA_CLUSTER, skipping
// when it is not set (testenv.KafkaCluster) and failing, or skipping
// without MARKWATCH_REQUIRE_INTEGRATION, when it does not answer with all
// its nodes.
func openCluster(t testing.TB) *cluster {
	t.Helper()
	brokers := testenv.KafkaCluster(t)
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(brokers[0])
	base, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("%s: %v", testenv.EnvKafkaCluster, err)
	}
	// A short metadata TTL: after a leader dies, a client learns the new
	// one at the next refresh, and the default (6 s) would be measured as
	// unavailability of the cluster.
	transport := &kafka.Transport{MetadataTTL: 250 * time.Millisecond}
	t.Cleanup(transport.CloseIdleConnections)
	c := &cluster{t: t, brokers: brokers, root: root, base: base,
		client: &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second, Transport: transport}}
	if out, err := c.script("cluster-status"); err != nil {
		msg := fmt.Sprintf("the cluster of %s=%s is not (all) up: %v\n%s", testenv.EnvKafkaCluster, strings.Join(brokers, ","), err, out)
		if testenv.Require() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return c
}

// script runs scripts/kafka.sh with args for this cluster and returns its
// standard output, trimmed.
func (c *cluster) script(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(c.root, "scripts", "kafka.sh"), args...)
	cmd.Dir = c.root
	cmd.Env = append(os.Environ(), "MARKWATCH_KAFKA_CLUSTER_PORT="+strconv.Itoa(c.base))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out) + stderr.String(), fmt.Errorf("scripts/kafka.sh %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

func (c *cluster) must(args ...string) string {
	c.t.Helper()
	out, err := c.script(args...)
	if err != nil {
		c.t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// kill SIGKILLs node id.
func (c *cluster) kill(id int) { c.must("cluster-kill", strconv.Itoa(id)) }

// restart starts node id again on its data and waits until it answers.
func (c *cluster) restart(id int) { c.must("cluster-restart", strconv.Itoa(id)) }

// controller returns the active controller's node id.
func (c *cluster) controller() int {
	c.t.Helper()
	id, err := strconv.Atoi(c.must("cluster-controller"))
	if err != nil {
		c.t.Fatalf("cluster-controller: %v", err)
	}
	return id
}

// coordinator returns the node id of group's coordinator.
func (c *cluster) coordinator(group string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.client.FindCoordinator(ctx, &kafka.FindCoordinatorRequest{Key: group, KeyType: kafka.CoordinatorKeyTypeConsumer})
	if err == nil {
		err = resp.Error
	}
	if err != nil {
		return 0, fmt.Errorf("find coordinator of %s: %w", group, err)
	}
	return resp.Coordinator.NodeID, nil
}

// metadata returns the cluster's metadata for every topic, internal ones
// included.
func (c *cluster) metadata() (*kafka.MetadataResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.client.Metadata(ctx, &kafka.MetadataRequest{})
}

// leaders returns the leader of each partition of topic.
func (c *cluster) leaders(topic string) (map[int]int, error) {
	m, err := c.metadata()
	if err != nil {
		return nil, err
	}
	out := map[int]int{}
	for _, tp := range m.Topics {
		if tp.Name != topic {
			continue
		}
		for _, p := range tp.Partitions {
			out[p.ID] = p.Leader.ID
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("metadata: no partitions for %s", topic)
	}
	return out, nil
}

// waitHealthy waits until every node is a live broker and every partition
// of every topic has all its replicas in sync: the state in which one more
// node may die without a partition going read-only.
func (c *cluster) waitHealthy(timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	var why string
	for time.Now().Before(deadline) {
		why = c.unhealthy()
		if why == "" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.t.Fatalf("cluster not healthy after %s: %s", timeout, why)
}

// unhealthy says what is not yet healthy, or "".
func (c *cluster) unhealthy() string {
	m, err := c.metadata()
	if err != nil {
		return err.Error()
	}
	if len(m.Brokers) < len(c.brokers) {
		return fmt.Sprintf("%d of %d brokers live", len(m.Brokers), len(c.brokers))
	}
	for _, tp := range m.Topics {
		for _, p := range tp.Partitions {
			if p.Error != nil || len(p.Isr) < len(p.Replicas) {
				return fmt.Sprintf("%s/%d: isr %d of %d replicas (%v)", tp.Name, p.ID, len(p.Isr), len(p.Replicas), p.Error)
			}
		}
	}
	return ""
}

// groupStrategy returns the assignment strategy (protocol) the group's
// members agreed on, as Kafka's own kafka-consumer-groups reports it
// (range, cooperative-sticky, ...).
func (c *cluster) groupStrategy(group string) (string, error) {
	out, err := c.script("tool", "consumer-groups", "--bootstrap-server", strings.Join(c.brokers, ","),
		"--describe", "--group", group, "--state")
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, out)
	}
	// GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY STATE #MEMBERS: the
	// coordinator column holds one space in its title and in its value.
	var header []string
	for line := range strings.SplitSeq(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if f[0] == "GROUP" {
			header = f
			continue
		}
		if header != nil && f[0] == group {
			if i := slices.Index(header, "ASSIGNMENT-STRATEGY"); i >= 0 && i < len(f) {
				return f[i], nil
			}
		}
	}
	return "", errors.New("kafka-consumer-groups --describe --state: no line for the group: " + out)
}
