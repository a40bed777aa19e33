package evaluation_test

import (
	"os"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/evaluation"
)

// TestQualityOnFixtures holds the detection core, as configured by
// default, to the quality bar of the detection issue on the deterministic
// fixtures: precision ≥ 0.97 and recall ≥ 0.93 overall, recall ≥ 0.90 for
// every positive kind, and no false positive on authorized sellers or
// nominative use. Logo detection is off by default, so the logo_in_photo
// kind is held to its bar by TestLogoQualityOnFixtures, with it on.
func TestQualityOnFixtures(t *testing.T) {
	if testing.Short() {
		t.Skip("scores every fixture listing")
	}
	checkQuality(t, scoreFixtures(t), 0)
}

// TestLogoQualityOnFixtures is TestQualityOnFixtures with logo detection
// on (detection.logo.enabled): the same bars, the logo_in_photo kind's
// too (0.90, 54 of 60; the issue's own target for the kind is 0.80).
func TestLogoQualityOnFixtures(t *testing.T) {
	if testing.Short() {
		t.Skip("scores every fixture listing")
	}
	checkQuality(t, scoreFixtures(t, func(c *config.Config) { c.Detection.Logo.Enabled = true }), 0.90)
}

// TestLogoShortlistQualityOnFixtures is TestLogoQualityOnFixtures with a
// shortlist of 24 logos (detection.logo.shortlist): the same bars but
// logo_in_photo's, 0.88 (53 of 60; 52 before the colour planes). The default shortlist, 64, holds
// every one of the fixtures' 45 logos, so the defaults match in one stage
// there; 24 makes the photos go through both stages. lst-003911, found
// whole in one stage, is then found partly only and scores 0.498 (not
// diagnosed; lst-003906 before dense verification read the pose's own
// samples). On 1,000 logos the two stages' curve is
// the one stage's within what the RANSAC seed moves (docs/BENCHMARKS.md,
// "Two stages by default").
func TestLogoShortlistQualityOnFixtures(t *testing.T) {
	if testing.Short() {
		t.Skip("scores every fixture listing")
	}
	checkQuality(t, scoreFixtures(t, func(c *config.Config) { c.Detection.Logo.Enabled, c.Detection.Logo.Shortlist = true, 24 }), 0.88)
}

// checkQuality applies the bars to ev; logoBar is the logo_in_photo
// kind's, 0 when logo detection was off (the kind is then reported, not
// held to a bar).
func checkQuality(t *testing.T, ev *evaluation.Evaluation, logoBar float64) {
	t.Helper()
	c := ev.Overall()
	t.Logf("%d listings: precision %.4f recall %.4f F1 %.4f (TP %d FP %d FN %d TN %d)",
		len(ev.Outcomes), c.Precision(), c.Recall(), c.F1(), c.TP, c.FP, c.FN, c.TN)
	if len(ev.Outcomes) < 2000 {
		t.Errorf("only %d labeled listings, want at least 2000", len(ev.Outcomes))
	}
	if c.Precision() < 0.97 {
		t.Errorf("precision %.4f < 0.97", c.Precision())
	}
	if c.Recall() < 0.93 {
		t.Errorf("recall %.4f < 0.93", c.Recall())
	}
	for _, k := range ev.ByKind() {
		switch {
		case k.Kind == "logo_in_photo" && logoBar == 0:
			// Found by other signals only; reported, not held.
			t.Logf("kind %s without logo detection: recall %.3f (%d of %d)", k.Kind, k.Recall(), k.TP, k.TP+k.FN)
		case k.Kind == "logo_in_photo":
			// Issue 11 section 4 asks 0.90 of this kind too; logo
			// detection reaches 0.900 (54 of 60, none false): 0.80 since
			// a listing's pyramid starts with an enlarged level (0.767
			// before), two more since partly seen logos are evidence in
			// context (logo_partial), one more since RANSAC samples on
			// to confidence (MaxIterations), one less since an unevenly
			// explained logo is partial (MinEvenness 0.7: a third fewer
			// sellers' photos of other logos with a logo found, see
			// TestLogoUnrelatedPhotos), one less since a logo must be
			// confirmed in place as evenly (MinGuidedEvenness 0.7:
			// lst-003898's fit is confirmed just under it; on the
			// 1,000-logo curve false matches fall by two thirds), one
			// less since a logo must be confirmed by the photo's own
			// pixels at its pose (MinDenseShare 0.4, with MinCoverage
			// 0.15 and MinDistinct 1.0: lst-003906 (then scored under the
			// threshold) and lst-003916 found whole, lst-003890 and
			// lst-003922, tone-on-tone prints
			// whose letters barely differ from their ground, not; at
			// the fixtures' scale sellers' photos with a logo found fall
			// from 2.0% to 0.95%, docs/BENCHMARKS.md, "Dense
			// verification"), one more since a whole detection scores
			// 0.75 at the fewest inliers instead of 0.6 (lst-003906, the
			// logo found whole with the cue "imitation", now reaches the
			// threshold; docs/BENCHMARKS.md, "A whole logo's strength"),
			// one more since a fit the pixels confirm strongly and
			// evenly needs the keypoints' evenness less 0.15
			// (StrongDense 0.7: lst-003878, a small logo confirmed at
			// 0.74 all over, its 24 inliers' evenness 0.59; docs/
			// BENCHMARKS.md, "Strong pixel confirmation"), one more
			// since guided matching places the logo's keypoints by the
			// homography refined on the fit's inliers (lst-003898, a
			// 45-pixel badge in perspective, guided evenness 0.697 →
			// 0.771; docs/BENCHMARKS.md, "Guided matching in
			// perspective"), two more since dense verification reads each
			// logo keypoint's samples where the pose puts them
			// (lst-003922 and lst-003890, small turned logos confirmed
			// at 0.29 and 0.38 before, 0.83 and 0.85 now; the bars
			// rose to 0.6 / 0.8 / 0.4; docs/BENCHMARKS.md, "Dense
			// verification at the pose's own samples"), one more since
			// the photo's colour planes are matched (lst-003876,
			// Hollisant printed teal on brown wood, a luma contrast of
			// 0.08: no fit in the luma, 43 inliers confirmed at 0.97 in
			// the Cr plane; docs/BENCHMARKS.md, "Colour planes"): 54 of
			// 60, the 0.90 the issue asks of every kind. The 6 still
			// missed are diagnosed in docs/BENCHMARKS.md, "Small and
			// faint logos: why logo_in_photo listings are missed" and
			// "Partly seen logos as evidence in context": most lack the
			// evidence (keypoints, near descriptors) to verify.
			if k.Recall() < logoBar {
				t.Errorf("kind %s: recall %.3f < %.2f (%d of %d)", k.Kind, k.Recall(), logoBar, k.TP, k.TP+k.FN)
			}
		case k.Infringing && k.Recall() < 0.90:
			t.Errorf("kind %s: recall %.3f < 0.90 (%d of %d)", k.Kind, k.Recall(), k.TP, k.TP+k.FN)
		case !k.Infringing && (k.Kind == "authorized_seller" || k.Kind == "nominative") && k.FP > 0:
			t.Errorf("kind %s: %d false positives, want none", k.Kind, k.FP)
		}
	}
	if t.Failed() || os.Getenv("MARKWATCH_EVAL_REPORT") != "" {
		var b strings.Builder
		if err := ev.WriteReport(&b, 400); err != nil {
			t.Fatal(err)
		}
		t.Log("\n" + b.String())
	}
}
