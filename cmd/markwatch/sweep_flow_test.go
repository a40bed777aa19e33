package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/pipeline"
)

// TestFlowSweepBeforeAndAfterVerification is the README's flow by hand,
// with the listing produced before the mark is verified as well as after:
// a brand owner registers a mark, a counterfeit listing naming it is
// published, an admin verifies the mark, and the retroactive sweep files
// the complaint (source sweep) that the live stream could not; a listing
// published after verification draws its complaint too. The review
// service stores the sweep's complaint like any other.
func TestFlowSweepBeforeAndAfterVerification(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker, the detector and the review service")
	}
	// No fixture trickle: the live detector is idle, so it has scored the
	// first listing (against the marks of that moment) before the mark is
	// verified, which is the case the sweep exists for.
	d := startDev(t, t.TempDir(), "-rate", "0")
	defer d.stop(t)
	base := "http://" + d.http
	waitFor(t, time.Minute, "200 from /readyz", func() bool {
		code, _ := httpGet(t, base+"/readyz")
		return code == http.StatusOK
	})
	call := func(role, method, path, body string) (int, []byte) {
		t.Helper()
		m := regexp.MustCompile(role + `\s+(mw_\S+)`).FindStringSubmatch(d.stdout.String())
		if m == nil {
			t.Fatalf("no %s token in the banner", role)
		}
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, base+path, r)
		req.Header.Set("Authorization", "Bearer "+m[1])
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	w := pipeline.NewWriter([]string{d.broker}, pipeline.WriterOptions{})
	defer pipeline.CloseWriter(w)
	produce := func(l domain.Listing) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.WriteMessages(ctx, kafka.Message{Topic: "listings", Key: []byte(l.ListingID), Value: mustJSON(t, l)}); err != nil {
			t.Fatal(err)
		}
	}

	// 1. Register the mark (pending: not watched yet).
	code, b := call("brand_owner", "POST", "/v1/marks", `{"name":"Quillora",
		"registration":{"office":"EUIPO","number":"019999999","classes":[18]},
		"categories":["bags"],"reference_prices":[{"amount":"900.00","currency":"EUR"}]}`)
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

	// 2. A counterfeit is already on sale before the mark is verified.
	before := domain.Listing{SchemaVersion: 1, ListingID: "l-before-1", Version: 1, SellerID: "s-before", Category: "bags",
		Title: "Qui11ora shoulder bag replica 1:1", Price: &domain.Money{Amount: "79.00", Currency: "EUR"}}
	produce(before)
	// The live stream scores it against the marks of the moment, which do
	// not include the pending mark: no complaint.
	waitFor(t, 30*time.Second, "the listing scored by the live detector", func() bool {
		_, metrics := httpGet(t, base+"/metrics")
		return regexp.MustCompile(`markwatch_listings_scored_total\{outcome="clean"\} [1-9]`).MatchString(metrics)
	})
	if c := tryFindComplaint(d.broker, time.Second, func(c *domain.Complaint) bool { return c.ListingID == before.ListingID }); c != nil {
		t.Fatalf("a complaint for %s before the mark was verified: %+v", before.ListingID, c)
	}

	// 3. The admin verifies the mark; the sweep finds the listing.
	if code, b := call("admin", "POST", "/v1/marks/"+id+"/verify", `{}`); code/100 != 2 {
		t.Fatalf("verify: %d %s", code, b)
	}
	verified := time.Now()
	c := tryFindComplaint(d.broker, 30*time.Second, func(c *domain.Complaint) bool {
		return c.ListingID == before.ListingID && c.MarkID == id
	})
	if c == nil {
		t.Fatal("no complaint for the listing published before verification")
	}
	if c.Source != domain.SourceSweep {
		t.Errorf("complaint source %q, want %q", c.Source, domain.SourceSweep)
	}
	t.Logf("sweep complaint %s %.2f, %s after verification", c.ComplaintID, c.Score, time.Since(verified).Round(time.Millisecond))

	// 4. A listing published after verification draws its complaint too
	// (from the live stream once it watches the mark).
	after := before
	after.ListingID, after.SellerID = "l-after-1", "s-after"
	var ca *domain.Complaint
	for attempt := 1; ca == nil && attempt <= 10; attempt++ {
		after.Version = int64(attempt)
		produce(after)
		ca = tryFindComplaint(d.broker, 3*time.Second, func(c *domain.Complaint) bool {
			return c.ListingID == after.ListingID && c.MarkID == id
		})
	}
	if ca == nil {
		t.Fatal("no complaint for the listing published after verification")
	}

	// 5. The review service stored the sweep's complaint, and the queue
	// filters by the new source.
	waitFor(t, 30*time.Second, "the sweep complaint in the queue", func() bool {
		code, _ := call("reviewer", "GET", "/v1/complaints/"+c.ComplaintID, "")
		return code == http.StatusOK
	})
	code, b = call("reviewer", "GET", "/v1/complaints?source=sweep", "")
	if code != http.StatusOK || !strings.Contains(string(b), c.ComplaintID) {
		t.Errorf("GET /v1/complaints?source=sweep: %d %s", code, b)
	}
}

// tryFindComplaint reads the complaints topic from the beginning for up to
// limit and returns the first complaint want accepts, or nil.
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
