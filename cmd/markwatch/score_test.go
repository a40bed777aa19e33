package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/fixtures"
	"github.com/markwatch/markwatch/internal/domain"
)

// batchFixture writes a marks file (two fixture marks, images resolved
// against the fixture data) and a listings file with good, malformed and
// image-less lines into a temp dir.
func batchFixture(t *testing.T) (marksPath, listingsPath string) {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(fixtures.Dir(), fixtures.MarksFile))
	if err != nil {
		t.Fatal(err)
	}
	var marks []string
	for _, line := range strings.Split(string(data), "\n") {
		for _, id := range []string{"mk-veltaro", "mk-harbor"} {
			if strings.Contains(line, `"mark_id":"`+id+`"`) {
				marks = append(marks, line)
				// Images are read relative to the marks file, and never
				// outside its directory: copy the mark's images along.
				copyDir(t, filepath.Join(fixtures.Dir(), "images", "marks", id), filepath.Join(dir, "images", "marks", id))
			}
		}
	}
	if len(marks) != 2 {
		t.Fatalf("found %d fixture marks", len(marks))
	}
	marksPath = filepath.Join(dir, "marks.jsonl")
	if err := os.WriteFile(marksPath, []byte(strings.Join(marks, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	listing := func(id, title string, images ...string) string {
		b, _ := json.Marshal(domain.Listing{
			SchemaVersion: 1, ListingID: id, Version: 1, SellerID: "s-1", Title: title, Category: "bags",
			Price: &domain.Money{Amount: "30.00", Currency: "USD"}, Images: images,
			Label: &domain.Label{Infringing: strings.Contains(title, "V3ltaro"), MarkID: "mk-veltaro", Kind: "leet"},
		})
		return string(b)
	}
	lines := []string{
		listing("l-1", "V3ltaro replica shoulder bag"),
		`{"schema_version":1,"listing_id":"l-2","seller_id":"s","title":"x","price":{"amount":"12,50","currency":"USD"}}`,
		listing("l-3", "plain canvas tote"),
		listing("l-4", "V3ltaro clutch", "missing.jpg"),
		"",
		"not json at all",
	}
	listingsPath = filepath.Join(dir, "listings.jsonl")
	if err := os.WriteFile(listingsPath, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return marksPath, listingsPath
}

func TestScoreCommand(t *testing.T) {
	marks, listings := batchFixture(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"score", "-marks", marks, "-listings", listings, "-quiet"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1 for malformed lines; stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{
		"listings.jsonl:2: skipped: price.amount", // names the line and the field
		"listings.jsonl:6: skipped:",
		"images[0] not used",
		"scored 3 listings",
		"2 malformed lines skipped",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	var results []domain.ScoreResult
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var r domain.ScoreResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		results = append(results, r)
	}
	if len(results) != 3 || results[0].ListingID != "l-1" || results[1].ListingID != "l-3" || results[2].ListingID != "l-4" {
		t.Fatalf("results out of order or missing: %+v", results)
	}
	if !results[0].Flagged || len(results[0].Complaints) != 1 || results[0].Complaints[0].MarkID != "mk-veltaro" {
		t.Errorf("l-1 should be flagged for mk-veltaro: %+v", results[0])
	}
	if c := results[0].Complaints[0]; c.ComplaintID != domain.ComplaintID("l-1", 1, "mk-veltaro", "r1") || !strings.Contains(c.Explanation, "leetspeak") {
		t.Errorf("complaint %+v", c)
	}
	if results[1].Flagged {
		t.Errorf("l-3 flagged: %+v", results[1])
	}
	if len(results[2].Warnings) == 0 {
		t.Errorf("l-4 should warn about its missing image: %+v", results[2])
	}
}

func TestEvalCommand(t *testing.T) {
	marks, listings := batchFixture(t)
	plot := filepath.Join(t.TempDir(), "pr.png")
	byThreshold := filepath.Join(t.TempDir(), "threshold.png")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"eval", "-marks", marks, "-listings", listings, "-plot", plot,
		"-plot-threshold", byThreshold, "-quiet"}, &stdout, &stderr)
	if code != 1 { // the malformed lines
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{"precision", "confusion matrix", "leet", "worst false negatives", "curve written"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
	for _, p := range []string{plot, byThreshold} {
		if b, err := os.ReadFile(p); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("no PNG plot %s: %v", p, err)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"score", "-listings", "x"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "missing -marks") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"nope"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "unknown command") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"score", "-marks", "/nonexistent/marks.jsonl", "-listings", "x"}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "no such file") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBarOnlyOnTerminal: a progress bar writing to a file (a log, a pipe)
// draws nothing; the summary at the end is what such a reader gets.
func TestBarOnlyOnTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	for _, w := range []io.Writer{f, &buf} {
		bar := newBar(1000, "scoring", false, w)
		for range 1000 {
			_ = bar.Add(1)
		}
		_ = bar.Finish()
	}
	if st, err := f.Stat(); err != nil || st.Size() != 0 {
		t.Errorf("a bar on a file wrote %d bytes (%v)", st.Size(), err)
	}
	if buf.Len() != 0 {
		t.Errorf("a bar on a buffer wrote %q", buf.String())
	}
}
