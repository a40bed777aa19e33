package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// readmeFlow is the shell block under "The whole flow, by hand" in the
// README, as a reader would paste it.
func readmeFlow(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "### The whole flow, by hand")
	if !ok {
		t.Fatal("README has no section \"The whole flow, by hand\"")
	}
	_, block, ok := strings.Cut(section, "```sh\n")
	if !ok {
		t.Fatal("the flow section has no sh block")
	}
	block, _, ok = strings.Cut(block, "\n```")
	if !ok {
		t.Fatal("the flow's sh block is not closed")
	}
	return block
}

// TestFlowRegistryToTakedown is the whole product in one process, driven
// by the README's "whole flow, by hand" block run as written with bash:
// a brand owner registers a mark, an admin verifies it, the block waits
// until the detector watches it, produces a counterfeit listing once, and
// the complaint it draws is upheld by a reviewer until the takedown is on
// the takedowns topic. Only the addresses differ (free ports); the block
// runs from a folder laid out as the checkout's root (bin/markwatch,
// var/dev).
func TestFlowRegistryToTakedown(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a broker, the detector and the review service, and builds the binary")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("the README's flow is a bash block: no bash on PATH")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the README's flow uses curl: no curl on PATH")
	}
	root := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(root, "bin", "markwatch"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	d := startDev(t, filepath.Join(root, "var", "dev"))
	defer d.stop(t)
	base := "http://" + d.http

	script := strings.ReplaceAll(readmeFlow(t), "http://127.0.0.1:8080", base)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-e", "-x", "-o", "pipefail", "-c", script)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "MARKWATCH_KAFKA_BROKERS="+d.broker)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("the README's flow ran in %s:\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("the README's flow failed: %v", err)
	}
	if !strings.Contains(string(out), `key "l-demo-2"`) || !strings.Contains(string(out), "takedown") {
		t.Errorf("the flow's last step printed no takedown for l-demo-2")
	}

	// The listing was produced once: no resending behind the reader's back.
	sent := 0
	// Long enough to read the whole topic on a loaded machine; the read
	// runs until the deadline.
	rctx, rcancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer rcancel()
	_ = consumeTopic(rctx, []string{d.broker}, "listings", kafka.FirstOffset, func(m kafka.Message) bool {
		if string(m.Key) == "l-demo-2" {
			sent++
		}
		return true
	})
	if sent != 1 {
		t.Errorf("l-demo-2 was produced %d times, want once", sent)
	}
	// The decision reached the seller's record: one strike, a warning.
	tokens, err := readTokens(filepath.Join(root, "var", "dev", devTokensFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range tokens {
		if tok.Role == "reviewer" {
			code, body := apiGet(t, base, tok.Token, "/v1/sellers/s-demo")
			if code != http.StatusOK || !strings.Contains(body, "warned") {
				t.Errorf("seller after one upheld complaint: %d %s", code, body)
			}
		}
	}
}
