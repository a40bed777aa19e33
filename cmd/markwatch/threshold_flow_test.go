package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// TestFlowCalibratedThreshold is an admin's threshold end to end in
// markwatch dev: a listing files a complaint at score s; an admin applies
// a mark threshold above s through the API; the mark's new version goes
// through the outbox and the marks topic to the detector (its
// /detector/marks/{id} says so), which then does not file the listing's
// next version; a threshold below s files again. Sweeps are off so that
// only the produced versions are scored.
func TestFlowCalibratedThreshold(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a broker, the detector and the review service")
	}
	d, tok, mark := devWithMark(t, "Quenlido", "019999997", "-rate", "0", "-sweep=false")
	defer d.stop(t)
	base := "http://" + d.http
	// detectorThreshold is the mark's threshold in the engine the
	// detector scores with now: -1 while not watched, 0 for the default.
	detectorThreshold := func() float64 {
		r, err := http.Get(base + "/detector/marks/" + mark.MarkID)
		if err != nil {
			return -1
		}
		defer r.Body.Close()
		var w watchedMark
		if r.StatusCode != http.StatusOK || json.NewDecoder(r.Body).Decode(&w) != nil {
			return -1
		}
		if w.Threshold == nil {
			return 0
		}
		return *w.Threshold
	}
	waitFor(t, time.Minute, "the detector to watch the mark", func() bool { return detectorThreshold() == 0 })

	w := &kafka.Writer{Addr: kafka.TCP(d.broker), Topic: "listings", Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond}
	defer w.Close()
	scored := func() float64 {
		return metricValue(t, base, `markwatch_listings_scored_total{outcome="flagged"}`) +
			metricValue(t, base, `markwatch_listings_scored_total{outcome="clean"}`)
	}
	// produce sends version v of the listing and waits until it is scored.
	produce := func(v int) {
		t.Helper()
		before := scored()
		msg := `{"schema_version":1,"listing_id":"l-thr","version":` + strconv.Itoa(v) +
			`,"seller_id":"s-thr","title":"Quenlido tote bag, replica","category":"bags","price":{"amount":"420.00","currency":"EUR"}}`
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("l-thr"), Value: []byte(msg)}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Minute, "version "+strconv.Itoa(v)+" scored", func() bool { return scored() > before })
	}
	type complaint struct {
		Complaint struct {
			ListingVersion int     `json:"listing_version"`
			Score          float64 `json:"score"`
		} `json:"complaint"`
	}
	// complaints returns the mark's complaints by listing version, once
	// the review service has stored what the detector emitted (the
	// complaints topic is read in order, so waiting for n is enough).
	complaints := func() map[int]float64 {
		_, body := apiGet(t, base, tok["reviewer"], "/v1/complaints?mark_id="+mark.MarkID)
		var page struct {
			Complaints []complaint `json:"complaints"`
		}
		_ = json.Unmarshal([]byte(body), &page)
		out := map[int]float64{}
		for _, c := range page.Complaints {
			out[c.Complaint.ListingVersion] = c.Complaint.Score
		}
		return out
	}
	produce(1)
	var s float64
	waitFor(t, time.Minute, "the complaint on version 1", func() bool {
		s = complaints()[1]
		return s > 0
	})
	if s >= 0.99 {
		t.Fatalf("version 1 scored %v: no threshold above it to apply", s)
	}
	apply := func(threshold float64) {
		t.Helper()
		th := strconv.FormatFloat(threshold, 'f', 2, 64)
		if code, body := apiPost(t, base, tok["admin"], "/v1/marks/"+mark.MarkID+"/threshold", `{"threshold":`+th+`,"reason":"calibration"}`); code != http.StatusOK {
			t.Fatalf("apply %s: %d %s", th, code, body)
		}
		want, _ := strconv.ParseFloat(th, 64)
		waitFor(t, time.Minute, "threshold "+th+" in the detector", func() bool { return detectorThreshold() == want })
	}
	apply(min(0.99, s+0.05))
	produce(2)
	// The review service reads the complaints topic in order: a third
	// version filed later shows that the second was not.
	apply(max(0.05, s-0.05))
	produce(3)
	waitFor(t, time.Minute, "the complaint on version 3", func() bool { return complaints()[3] > 0 })
	if got := complaints(); got[2] != 0 {
		t.Errorf("version 2 filed at %v with the mark's threshold above it: %v", got[2], got)
	}
	t.Logf("score %.2f; thresholds %.2f (not filed) and %.2f (filed)", s, min(0.99, s+0.05), max(0.05, s-0.05))
}
