package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/matchers/imagematch/imagetest"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
)

// rssBudget is issue 7's target: under 4 hostile JSON bodies and 4 hostile
// PNGs in parallel, serve's resident memory grows by less than this.
const rssBudget = 256 << 20

// servedProcess is `markwatch serve` run as a subprocess of the real
// binary, with an admin's and a brand owner's token and a mark to upload
// images to.
type servedProcess struct {
	cmd        *exec.Cmd
	base       string
	admin      string
	owner      string
	markID     string
	deepJSON   string
	hostilePNG []byte
}

// startServe builds the binary, prepares a SQLite store with two users,
// starts serve against an embedded broker and waits until it answers.
func startServe(tb testing.TB) *servedProcess {
	tb.Helper()
	if runtime.GOOS != "linux" {
		tb.Skip("reads /proc/PID/status")
	}
	dir := tb.TempDir()
	bin := filepath.Join(dir, "markwatch")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}

	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(dir, "markwatch.db")
	st, err := openStore(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	s := &servedProcess{}
	err = st.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.CreateHolder(ctx, store.Holder{ID: "h-mem", Name: "Memory"}); err != nil {
			return err
		}
		for _, u := range []struct {
			role, holder string
			token        *string
		}{{"admin", "", &s.admin}, {"brand_owner", "h-mem", &s.owner}} {
			token, hash, err := identity.NewToken()
			if err != nil {
				return err
			}
			if _, err := tx.CreateUser(ctx, store.User{Name: u.role, Role: u.role, HolderID: u.holder}, hash); err != nil {
				return err
			}
			*u.token = token
		}
		return nil
	})
	st.Close()
	if err != nil {
		tb.Fatal(err)
	}

	brokers := kafkatest.StartEmbedded(tb)
	for _, topic := range []string{"complaints", "complaints.dlq", "takedowns", "seller-actions", "seller-notices", "marks"} {
		kafkatest.CreateTopic(tb, brokers, kafka.TopicConfig{Topic: topic, NumPartitions: 1})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s.base = "http://" + addr
	s.cmd = exec.Command(bin, "serve", "-brokers", strings.Join(brokers, ","), "-listen", addr, "-db", dsn)
	s.cmd.Env = append(os.Environ(), "MARKWATCH_LOG_LEVEL=warn")
	var logs bytes.Buffer
	s.cmd.Stderr = &logs
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
		if tb.Failed() {
			tb.Logf("serve's log:\n%s", logs.String())
		}
	})
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("serve did not answer /healthz within 60 s:\n%s", logs.String())
		}
	}

	code, body := s.post(tb, "/v1/marks", s.owner, "application/json",
		[]byte(`{"name":"Memory","registration":{"office":"EUIPO","number":"018000001"}}`))
	if code != 201 {
		tb.Fatalf("create mark: %d %s", code, body)
	}
	var m struct {
		MarkID string `json:"mark_id"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		tb.Fatal(err)
	}
	s.markID = m.MarkID
	s.deepJSON = `{"name":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`
	s.hostilePNG = imagetest.HostilePNG(7000, 5700)
	return s
}

func (s *servedProcess) post(tb testing.TB, path, token, contentType string, body []byte) (int, []byte) {
	tb.Helper()
	req, err := http.NewRequest("POST", s.base+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Errorf("POST %s: %v", path, err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// upload is a multipart body with one logo file.
func (s *servedProcess) upload(tb testing.TB, data []byte) ([]byte, string) {
	tb.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, err := mw.CreateFormFile("logo", "hostile.png")
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(data)
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

// hostileRound sends 4 deeply nested JSON bodies and 4 hostile PNG
// uploads at once and checks that each is answered 2xx or 4xx.
func (s *servedProcess) hostileRound(tb testing.TB) {
	tb.Helper()
	pngBody, pngType := s.upload(tb, s.hostilePNG)
	var wg sync.WaitGroup
	codes := make([]int, 8)
	msgs := make([][]byte, 8)
	for i := range 8 {
		wg.Go(func() {
			if i%2 == 0 {
				codes[i], msgs[i] = s.post(tb, "/v1/holders", s.admin, "application/json", []byte(s.deepJSON))
			} else {
				codes[i], msgs[i] = s.post(tb, "/v1/marks/"+s.markID+"/images", s.owner, pngType, pngBody)
			}
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c < 200 || c >= 500 || (c >= 300 && c < 400) {
			tb.Errorf("request %d answered %d: %s", i, c, msgs[i])
		}
	}
}

// procStatus reads a field of /proc/PID/status in bytes (VmRSS, VmHWM).
func procStatus(tb testing.TB, pid int, field string) int64 {
	tb.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// TestServeMemoryUnderHostileInputs runs the real `markwatch serve` binary
// and sends it, three times over, 4 JSON bodies nested 10,000 levels deep
// (20 KB each) and 4 uploads of a 310 KB 16-bit RGBA PNG that declares
// 7000×5700 pixels (320 MB decoded), all at once. Every request must be
// answered 2xx or 4xx, and the process's peak resident memory (VmHWM)
// must stay within rssBudget of its resident memory before them. Before
// the fixes of issue 7 one such round took the process past 2 GB.
func TestServeMemoryUnderHostileInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and runs the binary")
	}
	s := startServe(t)
	pid := s.cmd.Process.Pid
	before := procStatus(t, pid, "VmRSS")
	for range 3 {
		s.hostileRound(t)
	}
	peak := procStatus(t, pid, "VmHWM")
	t.Logf("serve RSS before %d MiB, peak after %d MiB: grew %d MiB (budget %d MiB)",
		before>>20, peak>>20, (peak-before)>>20, rssBudget>>20)
	if peak-before >= rssBudget {
		t.Errorf("serve's peak RSS grew by %d MiB under hostile inputs, over the %d MiB budget", (peak-before)>>20, rssBudget>>20)
	}
}

// BenchmarkServeHostileRound measures one round of TestServeMemoryUnder-
// HostileInputs against the real binary: its latency, and serve's peak
// RSS growth over all rounds (peak-rss-growth-MiB).
func BenchmarkServeHostileRound(b *testing.B) {
	s := startServe(b)
	pid := s.cmd.Process.Pid
	before := procStatus(b, pid, "VmRSS")
	b.ResetTimer()
	for b.Loop() {
		s.hostileRound(b)
	}
	b.StopTimer()
	b.ReportMetric(float64(procStatus(b, pid, "VmHWM")-before)/(1<<20), "peak-rss-growth-MiB")
	b.ReportMetric(float64(before)/(1<<20), "rss-before-MiB")
}
