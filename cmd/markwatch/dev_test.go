package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/pipeline"
)

// syncBuffer is a bytes.Buffer the dev command writes to while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// devRunning is one `markwatch dev` started by a test.
type devRunning struct {
	stdout, stderr *syncBuffer
	broker, http   string
	cancel         context.CancelFunc
	done           chan int
}

var (
	bannerBroker = regexp.MustCompile(`Kafka broker\s+(\S+)`)
	bannerHTTP   = regexp.MustCompile(`metrics\s+http://(\S+)/metrics`)
)

// startDev runs `markwatch dev` on free ports with its data in data, and
// returns once the banner has named the broker and HTTP addresses.
func startDev(t *testing.T, data string, extra ...string) *devRunning {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &devRunning{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	args := []string{"dev", "-data", data, "-broker", "127.0.0.1:0", "-listen", "127.0.0.1:0",
		"-rate", "50", "-status", "300ms", "-log-level", "error"}
	args = append(args, extra...) // a repeated flag: the last one counts
	go func() { d.done <- run(ctx, args, d.stdout, d.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-d.done:
		case <-time.After(15 * time.Second):
			t.Error("dev did not stop")
		}
	})
	// The banner comes after the marks' reference images are hashed: a
	// second or two, but much longer under the race detector.
	waitFor(t, 2*time.Minute, "the banner", func() bool {
		select {
		case code := <-d.done:
			t.Fatalf("dev exited with %d before its banner: %s", code, d.stderr.String())
		default:
		}
		out := d.stdout.String()
		b, h := bannerBroker.FindStringSubmatch(out), bannerHTTP.FindStringSubmatch(out)
		if b == nil || h == nil {
			return false
		}
		d.broker, d.http = b[1], h[1]
		return true
	})
	return d
}

// stop ends dev as Ctrl-C does and checks it exits cleanly within 10 s.
func (d *devRunning) stop(t *testing.T) {
	t.Helper()
	d.cancel()
	start := time.Now()
	select {
	case code := <-d.done:
		if code != 0 {
			t.Errorf("dev exited with %d: %s", code, d.stderr.String())
		}
		d.done <- code // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatalf("dev did not stop within 10 s")
	}
	t.Logf("dev stopped in %s", time.Since(start).Round(time.Millisecond))
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// findComplaint reads the complaints topic from the beginning until want
// says a complaint is the one looked for.
func findComplaint(t *testing.T, brokers string, limit time.Duration, want func(*domain.Complaint) bool) *domain.Complaint {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var found *domain.Complaint
	var bad error
	err := consumeTopic(ctx, []string{brokers}, config.Default().Kafka.Topics.Complaints, kafka.FirstOffset, func(m kafka.Message) bool {
		c, err := domain.DecodeComplaint(m.Value, domain.DefaultLimits)
		if err != nil {
			bad = err
			return false
		}
		if want(c) {
			found = c
			return false
		}
		return true
	})
	if bad != nil {
		t.Fatalf("a complaint on the topic does not decode: %v", bad)
	}
	if found == nil {
		t.Fatalf("complaint not found within %s: %v", limit, err)
	}
	return found
}

// TestDev runs `markwatch dev` in-process: fixture listings become
// complaints, a listing of our own gets its deterministic complaint, the
// endpoints answer, Ctrl-C stops it, and a restart on the same folder
// keeps the broker's data and does not publish the marks again.
func TestDev(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a broker and the detector")
	}
	data := t.TempDir()
	d := startDev(t, data)
	base := "http://" + d.http

	waitFor(t, time.Minute, "200 from /readyz", func() bool {
		code, _ := httpGet(t, base+"/readyz")
		return code == http.StatusOK
	})
	marksData, readErr := os.ReadFile(filepath.Join("..", "..", "fixtures", "data", "marks.jsonl"))
	if readErr != nil {
		t.Fatal(readErr)
	}
	nMarks := bytes.Count(marksData, []byte("\n"))
	if _, body := httpGet(t, base+"/readyz"); !strings.Contains(body, fmt.Sprintf("%d marks", nMarks)) {
		t.Errorf("/readyz = %q, want the %d fixture marks", body, nMarks)
	}
	if code, _ := httpGet(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d", code)
	}

	// The detector says which marks it watches.
	if code, body := httpGet(t, base+"/detector/marks/mk-veltaro"); code != http.StatusOK || !strings.Contains(body, `"watched":true`) ||
		!strings.Contains(body, fmt.Sprintf(`"marks_watched":%d`, nMarks)) {
		t.Errorf("/detector/marks/mk-veltaro: %d %s", code, body)
	}
	if code, body := httpGet(t, base+"/detector/marks/mk-nope"); code != http.StatusNotFound || !strings.Contains(body, `"watched":false`) {
		t.Errorf("/detector/marks/mk-nope: %d %s", code, body)
	}

	// The fixture marks are in the registry, as verified marks of their
	// holders: every view agrees with what the detector watches.
	for _, c := range []struct{ role, path, want string }{
		{"admin", "/v1/marks/mk-veltaro", `"status":"active"`},
		{"brand_owner", "/v1/marks/mk-veltaro", `"mark_id":"mk-veltaro"`},
		{"brand_owner", "/v1/marks", `"mark_id":"mk-veltaro"`},
		{"admin", "/v1/holders/h-corvane-atelier", `"h-corvane-atelier"`},
	} {
		code, body := apiGet(t, base, bannerToken(t, d.stdout.String(), c.role), c.path)
		if code != http.StatusOK || !strings.Contains(body, c.want) {
			t.Errorf("%s GET %s: %d %s; want 200 with %s", c.role, c.path, code, body, c.want)
		}
	}
	if _, body := apiGet(t, base, bannerToken(t, d.stdout.String(), "brand_owner"), "/v1/marks"); strings.Contains(body, "mk-corvane-atelier") {
		t.Errorf("the demo brand owner of h-veltaro sees another holder's mark: %s", body)
	}

	// Fixture listings flow into complaints.
	first := findComplaint(t, d.broker, 30*time.Second, func(*domain.Complaint) bool { return true })
	if !strings.HasPrefix(first.ListingID, "lst-") || first.ListingVersion != 1 {
		t.Errorf("first complaint is for %s v%d, want a fixture listing in round 1", first.ListingID, first.ListingVersion)
	}

	// A listing of our own, produced as kcat would, with its image on the
	// fixture server: its complaint carries the deterministic id.
	rule := config.Default().Detection.RuleVersion
	own := domain.Listing{
		SchemaVersion: 1, ListingID: "l-test-1", Version: 7, SellerID: "s-test", Title: "Veltaro replica tote bag, 1:1 mirror quality",
		Category: "bags", Price: &domain.Money{Amount: "89.00", Currency: "EUR"},
		Images: []string{base + devImagesPath + "marks/mk-veltaro/photo1.jpg"},
	}
	w := pipeline.NewWriter([]string{d.broker}, pipeline.WriterOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err := w.WriteMessages(ctx, kafka.Message{Topic: "listings", Key: []byte(own.ListingID), Value: mustJSON(t, own)})
	cancel()
	if cerr := pipeline.CloseWriter(w); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("produce own listing: %v", err)
	}
	wantID := domain.ComplaintID(own.ListingID, own.Version, "mk-veltaro", rule)
	c := findComplaint(t, d.broker, 30*time.Second, func(c *domain.Complaint) bool { return c.ListingID == own.ListingID })
	if c.ComplaintID != wantID || c.MarkID != "mk-veltaro" {
		t.Errorf("complaint %s for %s, want %s for mk-veltaro", c.ComplaintID, c.MarkID, wantID)
	}
	sawImage := false
	for _, e := range c.Evidence {
		if e.Matcher == "image" && e.Kind != "unavailable" {
			sawImage = true
		}
		if e.Kind == "unavailable" {
			t.Errorf("the fixture image was not fetched: %+v", e)
		}
	}
	if !sawImage {
		t.Errorf("no image evidence for the official photo; evidence %+v", c.Evidence)
	}

	// The review service in the same process stores the complaint; the
	// demo reviewer reads it through the API, and another holder's brand
	// owner would not (tenant isolation is the API's own tests' business).
	m := regexp.MustCompile(`reviewer\s+(mw_\S+)`).FindStringSubmatch(d.stdout.String())
	if m == nil {
		t.Fatalf("no demo reviewer token in the banner:\n%s", d.stdout.String())
	}
	waitFor(t, 30*time.Second, "the complaint in the review API", func() bool {
		req, _ := http.NewRequest("GET", base+"/v1/complaints/"+wantID, nil)
		req.Header.Set("Authorization", "Bearer "+m[1])
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == http.StatusOK
	})
	checkDevConsole(t, data, base, d.stdout.String(), wantID)
	if code, body := httpGet(t, base+"/metrics"); code != http.StatusOK || !strings.Contains(body, "markwatch_listings_scored_total") {
		t.Errorf("/metrics = %d without markwatch_listings_scored_total", code)
	}
	if code, _ := httpGet(t, base+devImagesPath+"../marks.jsonl"); code == http.StatusOK {
		t.Errorf("the image server serves files outside images/")
	}
	waitFor(t, 10*time.Second, "a status line with complaints", func() bool {
		return regexp.MustCompile(`complaints [1-9]`).MatchString(d.stdout.String())
	})
	// Buyer reports trickle in (one every 2 s) and are stored.
	waitFor(t, 30*time.Second, "a buyer report stored", func() bool {
		_, body := httpGet(t, base+"/metrics")
		return regexp.MustCompile(`markwatch_buyer_reports_ingested_total\{reason="[a-z_]+",result="inserted"\} [1-9]`).MatchString(body)
	})
	// The fixture listings are read for seller networks too, and the
	// sellers of a payout ring (devnetworks.go) are linked.
	waitFor(t, 30*time.Second, "sellers linked into networks", func() bool {
		_, body := httpGet(t, base+"/metrics")
		return regexp.MustCompile(`markwatch_networks_listings_total\{result="linked"\} [1-9]`).MatchString(body)
	})
	d.stop(t)
	if !strings.Contains(d.stdout.String(), "stopped:") {
		t.Errorf("no closing line:\n%s", d.stdout.String())
	}
	var st devState
	if b, err := os.ReadFile(filepath.Join(data, devStateFile)); err != nil || json.Unmarshal(b, &st) != nil || st.Round != 1 {
		t.Errorf("producer state %+v, %v; want round 1", st, err)
	}

	// Restart on the same folder: the marks are kept (not re-published),
	// the earlier complaint is still there, and listings go on in round 2.
	d2 := startDev(t, data)
	if !strings.Contains(d2.stdout.String(), "kept from the last run") {
		t.Errorf("restart re-seeded the marks:\n%s", d2.stdout.String())
	}
	waitFor(t, time.Minute, "200 from /readyz after restart", func() bool {
		code, _ := httpGet(t, "http://"+d2.http+"/readyz")
		return code == http.StatusOK
	})
	findComplaint(t, d2.broker, 20*time.Second, func(c *domain.Complaint) bool { return c.ComplaintID == wantID })
	findComplaint(t, d2.broker, 30*time.Second, func(c *domain.Complaint) bool { return c.ListingVersion == 2 })
	d2.stop(t)
}

func TestDevUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"negative rate", []string{"dev", "-rate", "-1"}, 2},
		{"stray argument", []string{"dev", "now"}, 2},
		{"help", []string{"dev", "-h"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if got := run(context.Background(), tt.args, &out, &errb); got != tt.want {
				t.Errorf("exit %d, want %d; stderr %s", got, tt.want, errb.String())
			}
		})
	}
}

func TestDevListings(t *testing.T) {
	dir := t.TempDir()
	lines := `{"schema_version":1,"listing_id":"a","version":1,"seller_id":"s","title":"t","images":["images/own/p1.jpg","https://cdn.example/x.jpg"],"label":{"infringing":true}}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "listings.jsonl"), []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	ls, err := devListings(dir, domain.DefaultLimits, "http://127.0.0.1:1/fixtures/images/")
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 1 || ls[0].Label != nil {
		t.Fatalf("got %+v, want one listing without its label", ls)
	}
	want := []string{"http://127.0.0.1:1/fixtures/images/own/p1.jpg", "https://cdn.example/x.jpg"}
	if strings.Join(ls[0].Images, " ") != strings.Join(want, " ") {
		t.Errorf("images %v, want %v", ls[0].Images, want)
	}
	if _, err := devListings(t.TempDir(), domain.DefaultLimits, ""); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

// bannerToken is the demo user's token of role from dev's banner.
func bannerToken(t *testing.T, banner, role string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  ` + role + `\s+(mw_\S+)`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("no %s token in the banner:\n%s", role, banner)
	}
	return m[1]
}

// apiGet calls the review API with a bearer token.
func apiGet(t *testing.T, base, token, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}
