package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/fixtures"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/pipeline"
)

// TestFlowRegistryToTakedown is the whole product in one process: a brand
// owner registers a mark with its logo, an admin verifies it, the detector
// starts watching it within seconds, a counterfeit listing draws an
// automatic complaint, the review service stores it, a reviewer upholds it
// and the takedown reaches the takedowns topic.
func TestFlowRegistryToTakedown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker, the detector and the review service")
	}
	d := startDev(t, t.TempDir())
	defer d.stop(t)
	base := "http://" + d.http
	waitFor(t, time.Minute, "200 from /readyz", func() bool {
		code, _ := httpGet(t, base+"/readyz")
		return code == http.StatusOK
	})
	token := func(role string) string {
		m := regexp.MustCompile(role + `\s+(mw_\S+)`).FindStringSubmatch(d.stdout.String())
		if m == nil {
			t.Fatalf("no %s token in the banner", role)
		}
		return m[1]
	}
	call := func(role, method, path, contentType string, body io.Reader) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, body)
		req.Header.Set("Authorization", "Bearer "+token(role))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, b
	}

	// The demo brand owner acts for h-veltaro; register a new mark of it.
	mark := `{"name":"Quillora","variants":["奎洛拉"],
		"registration":{"office":"EUIPO","number":"019999999","jurisdictions":["EU"],"classes":[18]},
		"categories":["bags"],"reference_prices":[{"amount":"900.00","currency":"EUR"}]}`
	code, b := call("brand_owner", "POST", "/v1/marks", "application/json", strings.NewReader(mark))
	if code != http.StatusCreated {
		t.Fatalf("POST /v1/marks: %d %s", code, b)
	}
	var created struct {
		MarkID string `json:"mark_id"`
	}
	if err := json.Unmarshal(b, &created); err != nil || created.MarkID == "" {
		t.Fatalf("POST /v1/marks answered %s", b)
	}
	id := created.MarkID
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	logo, err := os.ReadFile(filepath.Join(fixtures.Dir(), "images", "marks", "mk-veltaro", "photo1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	fw, _ := mw.CreateFormFile("official", "photo1.jpg")
	fw.Write(logo)
	mw.Close()
	if code, b := call("brand_owner", "POST", "/v1/marks/"+id+"/images", mw.FormDataContentType(), &form); code/100 != 2 {
		t.Fatalf("upload: %d %s", code, b)
	}
	if code, b := call("admin", "POST", "/v1/marks/"+id+"/verify", "application/json", strings.NewReader(`{}`)); code/100 != 2 {
		t.Fatalf("verify: %d %s", code, b)
	}
	verified := time.Now()

	// A counterfeit listing naming the new mark, produced until the
	// detector has picked the mark up.
	listing := domain.Listing{
		SchemaVersion: 1, ListingID: "l-flow-1", Version: 1, SellerID: "s-flow", Category: "bags",
		Title: "Qui11ora shoulder bag replica 1:1", Price: &domain.Money{Amount: "79.00", Currency: "EUR"},
	}
	w := pipeline.NewWriter([]string{d.broker}, pipeline.WriterOptions{})
	defer pipeline.CloseWriter(w)
	var c *domain.Complaint
	for attempt := 1; c == nil && attempt <= 10; attempt++ {
		listing.Version = int64(attempt)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := w.WriteMessages(ctx, kafka.Message{Topic: "listings", Key: []byte(listing.ListingID), Value: mustJSON(t, listing)})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		c = tryFindComplaint(d.broker, 3*time.Second, func(c *domain.Complaint) bool {
			return c.ListingID == listing.ListingID && c.MarkID == id
		})
	}
	if c == nil {
		t.Fatal("no complaint for the newly verified mark")
	}
	t.Logf("complaint %s %.2f %q, %s after verification", c.ComplaintID, c.Score, c.Explanation, time.Since(verified).Round(time.Millisecond))

	// The review service stored it; a reviewer upholds it.
	waitFor(t, 30*time.Second, "the complaint in the queue", func() bool {
		code, _ := call("reviewer", "GET", "/v1/complaints/"+c.ComplaintID, "", nil)
		return code == http.StatusOK
	})
	if code, b := call("reviewer", "POST", "/v1/complaints/"+c.ComplaintID+"/decision", "application/json",
		strings.NewReader(`{"decision":"uphold","reason_code":"counterfeit","note":"leet spelling and 1:1"}`)); code != http.StatusOK {
		t.Fatalf("decision: %d %s", code, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var takedown map[string]any
	err = consumeTopic(ctx, []string{d.broker}, "takedowns", kafka.FirstOffset, func(m kafka.Message) bool {
		if string(m.Key) != listing.ListingID {
			return true
		}
		_ = json.Unmarshal(m.Value, &takedown)
		return false
	})
	if takedown == nil {
		t.Fatalf("no takedown for %s: %v", listing.ListingID, err)
	}
	code, b = call("reviewer", "GET", "/v1/sellers/s-flow", "", nil)
	if code != http.StatusOK || !strings.Contains(string(b), "warned") {
		t.Errorf("seller after one upheld complaint: %d %s", code, b)
	}
}

// tryFindComplaint is findComplaint without failing: nil when none is seen.
func tryFindComplaint(broker string, limit time.Duration, want func(*domain.Complaint) bool) *domain.Complaint {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var found *domain.Complaint
	_ = consumeTopic(ctx, []string{broker}, "complaints", kafka.FirstOffset, func(m kafka.Message) bool {
		c, err := domain.DecodeComplaint(m.Value, domain.Limits{})
		if err == nil && want(c) {
			found = c
			return false
		}
		return true
	})
	return found
}
