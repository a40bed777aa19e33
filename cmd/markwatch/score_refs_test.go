package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScoreSkipsUnusableReference: a mark whose logos include a blank
// image is scored without it; the run reports the image with its mark and
// reason, counts it in the summary, and exits 0 (it exited with an error
// for the whole run before).
func TestScoreSkipsUnusableReference(t *testing.T) {
	marksPath, _ := batchFixture(t)
	dir := filepath.Dir(marksPath)
	data, err := os.ReadFile(marksPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	logos, _ := m["logos"].([]any)
	m["logos"] = append(logos, "images/blank.png")
	b, _ := json.Marshal(m)
	lines[0] = string(b)
	if err := os.WriteFile(marksPath, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var blank bytes.Buffer
	if err := png.Encode(&blank, image.NewGray(image.Rect(0, 0, 64, 64))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "images", "blank.png"), blank.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	listings := filepath.Join(dir, "good.jsonl")
	if err := os.WriteFile(listings, []byte(`{"schema_version":1,"listing_id":"l-1","version":1,"seller_id":"s-1","title":"V3ltaro replica shoulder bag","price":{"amount":"30.00","currency":"USD"}}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"score", "-marks", marksPath, "-listings", listings, "-quiet"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{
		"mark " + m["mark_id"].(string) + ": logo images/blank.png not used (featureless)",
		"scored 1 listings",
		"1 reference images skipped",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr.String())
		}
	}
	if !strings.Contains(stdout.String(), `"flagged":true`) {
		t.Errorf("the mark was not used: %s", stdout.String())
	}
}
