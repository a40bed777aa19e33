package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/testenv"
)

// restartPort is the client port of the broker TestBrokerRestart starts
// for itself with scripts/kafka.sh, so that restarting it disturbs no
// other test using the shared broker.
const restartPort = "19192"

// kafkaScript runs scripts/kafka.sh cmd for the broker on restartPort.
func kafkaScript(t testing.TB, cmd string) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(filepath.Join(root, "scripts", "kafka.sh"), cmd)
	c.Dir = root
	c.Env = append(os.Environ(), "MARKWATCH_KAFKA_PORT="+restartPort)
	start := time.Now()
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("scripts/kafka.sh %s (port %s): %v\n%s", cmd, restartPort, err, out)
	}
	t.Logf("scripts/kafka.sh %s took %s", cmd, time.Since(start).Round(100*time.Millisecond))
}

// TestBrokerRestart restarts the broker (its own, on port 19192, started
// with scripts/kafka.sh) while listings stream through a detector, and
// checks that every expected complaint arrives and the detector keeps
// running. It runs where the real-broker tests run (testenv's rule).
func TestBrokerRestart(t *testing.T) {
	const n = 6000
	testenv.KafkaBrokers(t)
	kafkaScript(t, "start")
	t.Cleanup(func() { kafkaScript(t, "stop") })
	brokers := []string{"127.0.0.1:" + restartPort}

	s := newStack(t, brokers, stackOptions{})
	marks := fixtureMarks(t)
	publishMarks(t, s, marks...)
	msgs := listingMessages(t, textListings(t, "restart", n))
	want := newOracle(t, s.cfg, marks).expected(t, msgs)
	complaints := collect(t, brokers, s.complaints, 3)
	d := startDetector(t, s, "detector")

	// About 12 s of production; the restart lands in its middle.
	fed := feed(t, newWriter(t, brokers, s.listings), msgs, 100, 200*time.Millisecond)
	deadline := time.Now().Add(30 * time.Second)
	for d.scored() < n/6 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	before := d.scored()
	kafkaScript(t, "restart")
	t.Logf("broker restarted after %v listings scored", before)
	if err := <-fed; err != nil {
		t.Fatal(err)
	}
	if !complaints.waitFor(2*time.Minute, allArrived(want)) {
		t.Errorf("not every expected complaint arrived after the broker restart")
	}
	s.waitLagZero(t, time.Minute)
	waitCaughtUp(t, complaints, brokers, s.complaints, 3)
	dups := compareComplaints(t, complaintCounts(t, complaints.snapshot()), want)
	if !d.running() {
		t.Errorf("the detector exited during the broker restart (%v)", d.waitErr)
	}
	t.Logf("%d listings, %d complaints expected and present, %d duplicate copies, detector scored %v", n, len(want), dups, d.scored())
}
