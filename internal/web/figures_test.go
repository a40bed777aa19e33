package web

import (
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

func TestMarkFigures(t *testing.T) {
	now := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	day := func(back int) time.Time { return now.Truncate(24*time.Hour).AddDate(0, 0, -back) }
	days := []store.MarkDay{
		{MarkID: "m1", Day: day(0), Auto: 4, Decided: 4, Upheld: 3},
		{MarkID: "m1", Day: day(10), Auto: 2, Decided: 2, Upheld: 0},
		{MarkID: "m2", Day: day(0), Auto: 50, Decided: 50, Upheld: 50}, // another mark of the holder
	}
	repeat := []time.Time{day(40), day(3).Add(time.Hour)}
	charts := markFigures("m1", days, repeat, now, 30)
	if len(charts) != 4 {
		t.Fatalf("%d charts", len(charts))
	}
	auto, share, down, running := charts[0], charts[1], charts[2], charts[3]
	if len(auto.Bars) != 30 || auto.Total != "6 over the last 30 days" || auto.Bars[29].H != 58 || auto.Bars[19].H != 29 || auto.Bars[0].H != 0 {
		t.Errorf("auto chart %+v", auto)
	}
	if !strings.Contains(auto.Bars[29].Title, "4 automatic") || !strings.Contains(auto.Label, "the highest 4") {
		t.Errorf("auto titles %q, label %q", auto.Bars[29].Title, auto.Label)
	}
	if len(share.Bars) != 5 || share.Total != "50% (3 of 6 decided) over the last 30 days" || share.Bars[4].H != 43 ||
		!strings.Contains(share.Bars[4].Title, "75% upheld (3 of 4 decided)") || share.Bars[3].H != 0 || !strings.Contains(share.Bars[3].Title, "0% upheld (0 of 2") {
		t.Errorf("share chart %+v", share)
	}
	if down.Total != "3 over the last 30 days" || down.Bars[29].H != 58 {
		t.Errorf("takedowns chart %+v", down)
	}
	// One repeat seller before the window, a second from three days ago.
	if running.Bars[0].H != 29 || running.Bars[25].H != 29 || running.Bars[26].H != 58 || running.Total != "2 seller(s) with more than one upheld complaint" {
		t.Errorf("repeat sellers chart %+v", running)
	}
}

// TestMarkPageFigures: the mark page charts its own complaints (not
// another mark's) and its repeat sellers, for its brand owner.
func TestMarkPageFigures(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		// The same seller upheld twice: a repeat seller; a third
		// complaint stays open.
		e.complaint(t, ownHolder)
		for range 2 {
			id := e.complaintBy(t, ownHolder, 0.9, "s_repeat")
			if err := e.review.Decide(t.Context(), id, reviewDecision()); err != nil {
				t.Fatal(err)
			}
		}
		page := e.login(t, "brand_owner").get("/marks/m_" + ownHolder)
		for _, want := range []string{
			"Automatic complaints per day: <strong>3 over the last 30 days</strong>",
			"Upheld share per week: <strong>100% (2 of 2 decided) over the last 30 days</strong>",
			"Takedowns per day: <strong>2 over the last 30 days</strong>",
			"Repeat sellers, running total: <strong>1 seller(s) with more than one upheld complaint</strong>",
			`role="img" aria-label="Automatic complaints per day: 3 over the last 30 days; 30 bars, the highest 3"`,
		} {
			if !strings.Contains(page.body, want) {
				t.Errorf("mark page lacks %s", want)
			}
		}
	})
}
