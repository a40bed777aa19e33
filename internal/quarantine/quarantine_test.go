package quarantine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
)

var now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// complaints makes n complaints created at at, of status, each matching refs.
func complaints(n int, at time.Time, status string, refs ...string) []store.CalibrationComplaint {
	out := make([]store.CalibrationComplaint, n)
	for i := range out {
		out[i] = store.CalibrationComplaint{Status: status, References: refs, CreatedAt: at}
	}
	return out
}

func TestDecide(t *testing.T) {
	o := Options{}.WithDefaults()
	mark := &domain.Mark{MarkID: "m", Name: "Kavelo"}
	recent := now.Add(-time.Minute)
	released := &domain.Mark{MarkID: "m", Name: "Kavelo", Quarantines: []domain.Quarantine{{
		Kind: domain.QuarantineImage, Ref: "stock.jpg", Trigger: domain.TriggerFlood, Reason: "r", Since: now.Add(-48 * time.Hour),
		ReleasedAt: now.Add(-24 * time.Hour), ReleasedBy: "u_admin",
	}}}
	held := &domain.Mark{MarkID: "m", Name: "Kavelo", Quarantines: []domain.Quarantine{{
		Kind: domain.QuarantineImage, Ref: "stock.jpg", Trigger: domain.TriggerFlood, Reason: "r", Since: now.Add(-48 * time.Hour),
	}}}
	stock := append(complaints(900, recent, store.ComplaintOpen, "image:stock.jpg"), complaints(100, recent, store.ComplaintOpen, "variant:Kavelo")...)
	mixed := append(complaints(500, recent, store.ComplaintOpen, "image:a.jpg"), complaints(500, recent, store.ComplaintOpen, "image:b.jpg")...)
	tests := []struct {
		name     string
		mark     *domain.Mark
		rate     store.MarkComplaintRate
		cs       []store.CalibrationComplaint
		want     string // kind:ref, or "" for none
		trigger  string
		inReason string
	}{
		{"quiet", mark, store.MarkComplaintRate{Recent: 5, Baseline: 100}, nil, "", "", ""},
		{"busy but at its baseline", mark, store.MarkComplaintRate{Recent: 100, Baseline: 168 * 100}, nil, "", "", ""},
		{"flood under the minimum count", mark, store.MarkComplaintRate{Recent: 49, Baseline: 0}, nil, "", "", ""},
		{"stock photo flood", mark, store.MarkComplaintRate{Recent: 1000, Baseline: 168}, stock, "image:stock.jpg", domain.TriggerFlood, "900 of the 1000 (90%) matched image stock.jpg"},
		{"flood on two images: the mark", mark, store.MarkComplaintRate{Recent: 1000, Baseline: 168}, mixed, "mark:", domain.TriggerFlood, "no single reference"},
		{"flood on the name itself: the mark", mark, store.MarkComplaintRate{Recent: 1000}, complaints(1000, recent, store.ComplaintOpen, "variant:Kavelo"), "mark:", domain.TriggerFlood, ""},
		{"a variant floods", mark, store.MarkComplaintRate{Recent: 1000}, complaints(1000, recent, store.ComplaintOpen, "variant:KVL"), "variant:KVL", domain.TriggerFlood, ""},
		{"held already", held, store.MarkComplaintRate{Recent: 1000, Baseline: 168}, stock, "", "", ""},
		{"released a day ago", released, store.MarkComplaintRate{Recent: 1000, Baseline: 168}, stock, "", "", ""},
		{"low precision", mark, store.MarkComplaintRate{Recent: 1, Baseline: 100, Decided: 40, Upheld: 2},
			append(complaints(38, recent, store.ComplaintRejected, "image:a.jpg"), complaints(2, recent, store.ComplaintUpheld, "image:b.jpg")...),
			"image:a.jpg", domain.TriggerPrecision, "2 of 40 decided"},
		{"low precision, too few decisions", mark, store.MarkComplaintRate{Decided: 19, Upheld: 0}, nil, "", "", ""},
		{"precision above the floor", mark, store.MarkComplaintRate{Decided: 40, Upheld: 20}, nil, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, ok := o.Decide(tc.mark, tc.rate, tc.cs, now)
			if tc.want == "" {
				if ok {
					t.Fatalf("quarantined %+v, want nothing", q)
				}
				return
			}
			if !ok || q.Key() != tc.want || q.Trigger != tc.trigger || !q.Since.Equal(now) {
				t.Fatalf("got %+v (%v), want %s by %s", q, ok, tc.want, tc.trigger)
			}
			if !strings.Contains(q.Reason, tc.inReason) {
				t.Errorf("reason %q does not say %q", q.Reason, tc.inReason)
			}
			m := *tc.mark
			m.Quarantines = Apply(m.Quarantines, q)
			if err := (&domain.Mark{SchemaVersion: 1, MarkID: "m", HolderID: "h", Name: "n", Status: "active", Quarantines: m.Quarantines}).Validate(domain.Limits{}); err != nil {
				t.Errorf("the quarantine does not validate on a mark: %v", err)
			}
		})
	}
}

func TestReleaseAndApply(t *testing.T) {
	q := domain.Quarantine{Kind: domain.QuarantineMark, Trigger: domain.TriggerFlood, Reason: "r", Since: now}
	qs := Apply(nil, q)
	if _, ok := Release(qs, domain.QuarantineImage, "x.jpg", "u", now); ok {
		t.Error("released a quarantine that is not there")
	}
	rel, ok := Release(qs, domain.QuarantineMark, "", "u_admin", now.Add(time.Hour))
	if !ok || rel[0].Active() || rel[0].ReleasedBy != "u_admin" || !qs[0].Active() {
		t.Fatalf("release: %+v (%v); the input changed: %v", rel, ok, !qs[0].Active())
	}
	if _, ok := Release(rel, domain.QuarantineMark, "", "u_admin", now); ok {
		t.Error("released twice")
	}
	again := Apply(rel, domain.Quarantine{Kind: domain.QuarantineMark, Trigger: domain.TriggerPrecision, Reason: "r2", Since: now.Add(8 * 24 * time.Hour)})
	if len(again) != 1 || !again[0].Active() || again[0].Trigger != domain.TriggerPrecision {
		t.Errorf("a new quarantine replaces the released one: %+v", again)
	}
}

func ExampleOptions_Trips() {
	o := Options{}.WithDefaults()
	fmt.Println(o.Trips(store.MarkComplaintRate{Recent: 400, Baseline: 168}))
	fmt.Println(o.Trips(store.MarkComplaintRate{Recent: 9, Baseline: 1680}))
	// Output:
	// flood
	//
}
