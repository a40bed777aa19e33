package calibration

import (
	"strings"
	"testing"
)

// many returns n samples at score with outcome and matchers.
func many(n int, score float64, o Outcome, matchers ...string) []Sample {
	out := make([]Sample, n)
	for i := range out {
		out[i] = Sample{Score: score, Outcome: o, Matchers: matchers}
	}
	return out
}

func join(parts ...[]Sample) []Sample {
	var out []Sample
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func opts(t *testing.T, o Options) Options {
	t.Helper()
	o, err := o.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestRecommendation(t *testing.T) {
	for _, tc := range []struct {
		name      string
		samples   []Sample
		o         Options
		want      float64 // 0: none
		reason    string
		precision float64
	}{
		{
			name:    "too few decisions",
			samples: join(many(29, 0.9, Upheld), many(100, 0.9, Undecided)),
			reason:  "29 decided complaints",
		},
		{
			name: "clean split: lowest threshold above the rejected",
			// 40 upheld at 0.8, 10 rejected at 0.6: at 0.61 and above
			// all 40 decisions are upheld.
			samples:   join(many(40, 0.8, Upheld), many(10, 0.6, Rejected)),
			want:      0.61,
			precision: 1,
		},
		{
			name: "target tolerates a few rejections",
			// 95 upheld and 5 rejected at 0.7: 0.95 precision, exactly
			// the target, from the lowest threshold on.
			samples:   join(many(95, 0.7, Upheld), many(5, 0.7, Rejected), many(20, 0.4, Rejected)),
			want:      0.41,
			precision: 0.95,
		},
		{
			name: "minimum decisions above the threshold",
			// Only 20 decisions clear 0.61, under the minimum of 30:
			// the recommendation stays at a threshold with enough
			// decisions, if one keeps the target (none here).
			samples: join(many(20, 0.8, Upheld), many(20, 0.6, Rejected)),
			reason:  "no threshold keeps precision",
		},
		{
			name:      "a lower target",
			samples:   join(many(30, 0.8, Upheld), many(10, 0.6, Rejected)),
			o:         Options{Target: 0.75},
			want:      0.01,
			precision: 0.75,
		},
		{
			name:      "undecided complaints do not count",
			samples:   join(many(30, 0.9, Upheld), many(50, 0.5, Undecided)),
			want:      0.01,
			precision: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Compute(tc.samples, opts(t, tc.o))
			if tc.want == 0 {
				if r.Recommended != nil {
					t.Fatalf("recommended %v, want none", *r.Recommended)
				}
				if !strings.Contains(r.Reason, tc.reason) {
					t.Errorf("reason %q, want it to say %q", r.Reason, tc.reason)
				}
				return
			}
			if r.Recommended == nil {
				t.Fatalf("no recommendation: %s", r.Reason)
			}
			if *r.Recommended != tc.want || *r.RecommendedPrecision != tc.precision {
				t.Errorf("recommended %v at precision %v, want %v at %v (%s)", *r.Recommended, *r.RecommendedPrecision, tc.want, tc.precision, r.Reason)
			}
		})
	}
}

func TestStatsAndWhatIf(t *testing.T) {
	samples := join(
		many(3, 0.95, Upheld, "text", "image", "text"),
		many(1, 0.72, Rejected, "text"),
		many(2, 0.55, Undecided, "price"),
		many(1, 1, Upheld, "image"),
	)
	r := Compute(samples, opts(t, Options{}))
	if r.Filed != 7 || r.Overall.Decided != 5 || r.Overall.Upheld != 4 || *r.Overall.Precision != 0.8 {
		t.Errorf("filed %d decided %d upheld %d precision %v", r.Filed, r.Overall.Decided, r.Overall.Upheld, *r.Overall.Precision)
	}
	if b := r.Overall.Scores[9]; b.Upheld != 4 || b.Rejected != 0 || b.From != 0.9 || b.To != 1 {
		t.Errorf("top bucket %+v, want 4 upheld (1 included)", b)
	}
	if b := r.Overall.Scores[7]; b.Rejected != 1 {
		t.Errorf("0.7 bucket %+v, want 1 rejected", b)
	}
	want := map[string][3]int{"image": {4, 4}, "text": {4, 3}, "price": {0, 0}}
	if len(r.Matchers) != 3 {
		t.Fatalf("matchers %+v", r.Matchers)
	}
	for _, m := range r.Matchers {
		w := want[m.Matcher]
		if m.Decided != w[0] || m.Upheld != w[1] {
			t.Errorf("matcher %s: decided %d upheld %d, want %v (a complaint counts once per matcher)", m.Matcher, m.Decided, m.Upheld, w)
		}
	}
	if r.Matchers[0].Matcher != "image" || r.Matchers[1].Matcher != "price" {
		t.Errorf("matchers not sorted: %+v", r.Matchers)
	}
	if r.Matchers[1].Precision != nil {
		t.Errorf("price has no decisions, precision %v", *r.Matchers[1].Precision)
	}
	if len(r.WhatIf) != 20 {
		t.Fatalf("%d what-if rows, want 20", len(r.WhatIf))
	}
	for _, tc := range []struct {
		row                    int
		threshold              float64
		filed, decided, upheld int
	}{
		{9, 0.5, 7, 5, 4},
		{10, 0.55, 7, 5, 4},
		{11, 0.6, 5, 5, 4},
		{14, 0.75, 4, 4, 4},
		{19, 1, 1, 1, 1},
	} {
		w := r.WhatIf[tc.row]
		if w.Threshold != tc.threshold || w.Filed != tc.filed || w.Decided != tc.decided || w.Upheld != tc.upheld {
			t.Errorf("what-if row %d: %+v, want threshold %v filed %d decided %d upheld %d", tc.row, w, tc.threshold, tc.filed, tc.decided, tc.upheld)
		}
	}
}

func TestOptions(t *testing.T) {
	o, err := Options{}.WithDefaults()
	if err != nil || o.Target != 0.95 || o.MinDecisions != 30 || o.WindowDays != 90 {
		t.Errorf("defaults %+v %v", o, err)
	}
	for _, bad := range []Options{{Target: 1.5}, {Target: -1}, {MinDecisions: -1}, {WindowDays: -3}, {WindowDays: 100000}} {
		if _, err := bad.WithDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
