package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
)

var tokenRe = regexp.MustCompile(`token \(shown once, keep it secret\): (mw_\S+)`)

func createUser(t *testing.T, db string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), append([]string{"users", "create", "-db", db}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("users create %v: exit %d: %s", args, code, stderr.String())
	}
	m := tokenRe.FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no token in %q", stdout.String())
	}
	return m[1]
}

func TestUsersCreate(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "m.db")
	token := createUser(t, db, "-role", "reviewer", "-name", "Rita")
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByTokenHash(context.Background(), identity.HashToken(token))
	if err != nil || u.Role != "reviewer" || u.Name != "Rita" {
		t.Fatalf("user %+v, %v", u, err)
	}
	var stdout, stderr bytes.Buffer
	for _, args := range [][]string{
		{"users", "create", "-db", db, "-role", "wizard", "-name", "x"},
		{"users", "create", "-db", db, "-role", "brand_owner", "-name", "x"},
		{"users", "create", "-db", db, "-role", "admin", "-holder", "h", "-name", "x"},
		{"users", "delete"},
	} {
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestServeCommand runs `markwatch serve` as a command on the embedded
// broker: health, readiness and one authenticated API call.
func TestServeCommand(t *testing.T) {
	brokers := kafkatest.StartEmbedded(t)
	def := config.Default()
	for _, topic := range []string{def.Kafka.Topics.Complaints, def.Review.ComplaintsDLQ, def.Kafka.Topics.Takedowns, def.Kafka.Topics.SellerActions, def.Kafka.Topics.SellerNotices, def.Kafka.Topics.Marks} {
		kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: topic, NumPartitions: 1, ReplicationFactor: 1})
	}
	db := "sqlite:" + filepath.Join(t.TempDir(), "m.db")
	admin := createUser(t, db, "-role", "admin", "-name", "Ada")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "-brokers", strings.Join(brokers, ","), "-listen", addr, "-db", db}, &bytes.Buffer{}, &stderr)
	}()
	base := "http://" + addr
	var ready bool
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if r, err := http.Get(base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				ready = true
				break
			}
		}
	}
	if !ready {
		cancel()
		t.Fatalf("serve never ready: %s", stderr.String())
	}
	req, _ := http.NewRequest("POST", base+"/v1/holders", strings.NewReader(`{"name":"Veltaro S.p.A."}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusCreated {
		t.Errorf("POST /v1/holders: %d", r.StatusCode)
	}
	req, _ = http.NewRequest("GET", base+"/v1/complaints?status=open", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	r, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/complaints: %d", r.StatusCode)
	}
	r, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(body), "markwatch_review_queue_depth") {
		t.Errorf("/metrics lacks the queue depth")
	}
	r, err = http.Get(base + "/v1/holders/x") // no token
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", r.StatusCode)
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

// TestUsersCreateDefaultStore: without -db the user goes to dev's store
// under var/dev, and the output names it; when that store is missing,
// nothing is created and the error says what to do. -h lists only the
// flags that apply.
func TestUsersCreateDefaultStore(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("MARKWATCH_STORE_DSN", "")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"users", "create", "-role", "reviewer", "-name", "Rita"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), filepath.Join("var", "dev", "markwatch.db")) ||
		!strings.Contains(stderr.String(), "-db") {
		t.Errorf("without a store: exit %d, %q; want 1 and an error naming var/dev/markwatch.db and -db", code, stderr.String())
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "var", "*")); len(matches) > 0 {
		t.Errorf("a database was created anyway: %v", matches)
	}

	// dev has created its store: the user goes there.
	st, err := openStore(context.Background(), "sqlite:"+filepath.Join(dir, "var", "dev", "markwatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"users", "create", "-role", "reviewer", "-name", "Rita"}, &stdout, &stderr); code != 0 {
		t.Fatalf("users create: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "in sqlite:"+filepath.Join("var", "dev", "markwatch.db")) {
		t.Errorf("output %q does not name the store written", stdout.String())
	}
	st, err = store.Open(context.Background(), "sqlite:"+filepath.Join(dir, "var", "dev", "markwatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := tokenRe.FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no token in %q", stdout.String())
	}
	if u, err := st.UserByTokenHash(context.Background(), identity.HashToken(m[1])); err != nil || u.Name != "Rita" {
		t.Errorf("user in dev's store: %+v, %v", u, err)
	}

	stderr.Reset()
	run(context.Background(), []string{"users", "create", "-h"}, &stdout, &stderr)
	for _, flag := range []string{"-role", "-holder", "-name", "-db", "-config"} {
		if !strings.Contains(stderr.String(), flag) {
			t.Errorf("users create -h lacks %s", flag)
		}
	}
	for _, flag := range []string{"-brokers", "-listen", "-group"} {
		if strings.Contains(stderr.String(), flag) {
			t.Errorf("users create -h lists %s, which does not apply:\n%s", flag, stderr.String())
		}
	}
}
