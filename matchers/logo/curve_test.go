package logo

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

// envInt reads a size of the curve from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestLogoCurve measures the logo-detection curve: recall on sellers'
// photos showing an indexed logo (8–40% of the width, ±30°, mild
// perspective, recoloured, JPEG 40) against the share of photos showing a
// logo that is not indexed in which some logo is found, at several
// MinInliers thresholds, with MARKWATCH_LOGO_CURVE_LOGOS logos indexed
// (default 1000). It runs only with MARKWATCH_LOGO_CURVE set (it draws
// hundreds of photos) and writes the table to the file that variable
// names, for docs/BENCHMARKS.md and docs/logo-curve.svg.
func TestLogoCurve(t *testing.T) {
	out := os.Getenv("MARKWATCH_LOGO_CURVE")
	if out == "" {
		t.Skip("set MARKWATCH_LOGO_CURVE=<file> to measure the logo-detection curve")
	}
	nLogos := envInt("MARKWATCH_LOGO_CURVE_LOGOS", 1000)
	nPos := envInt("MARKWATCH_LOGO_CURVE_PHOTOS", 300)
	nNeg := envInt("MARKWATCH_LOGO_CURVE_UNRELATED", 1000)
	logos := inventLogos(t, 11, nLogos)
	other := inventLogos(t, 12, max(50, nNeg/10))
	marks := marksOf(logos)
	pos, _ := scenes(t, 13, logos, other, nPos, generate.SceneOptions{})
	_, neg := scenes(t, 14, logos, other, nNeg, generate.SceneOptions{})
	var b strings.Builder
	fmt.Fprintf(&b, "# logos %d, photos with an indexed logo %d, photos with another logo %d\n", nLogos, len(pos), len(neg))
	if os.Getenv("MARKWATCH_LOGO_CURVE_DUMP") != "" {
		m, _ := New(marks, Options{MinInliers: 6, MinCoverage: 1e-9})
		dump(t, m, pos, "pos")
		dump(t, m, neg, "neg")
	}
	fmt.Fprintf(&b, "# min_inliers min_coverage recall false_match_rate box_inside wrong_logo\n")
	for _, th := range []struct {
		k   int
		cov float64
	}{{8, 0.1}, {10, 0.1}, {12, 0.12}, {12, 0.15}, {14, 0.15}, {16, 0.15}, {20, 0.15}, {16, 0.2}, {24, 0.2}} {
		m, err := New(marks, Options{MinInliers: th.k, MinCoverage: th.cov})
		if err != nil {
			t.Fatal(err)
		}
		o := run(t, m, pos, neg)
		fmt.Fprintf(&b, "%d %.2f %.4f %.4f %d %d\n", th.k, th.cov, float64(o.found)/float64(len(pos)), float64(o.negHit)/float64(len(neg)), o.boxOK, o.wrong)
	}
	t.Log("\n" + b.String())
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dump logs every detection's inliers and coverage, for choosing defaults.
func dump(t *testing.T, m *Matcher, sc []scene, what string) {
	for i, s := range sc {
		l := &matchers.Listing{Listing: &domain.Listing{}, Images: []matchers.ListingImage{{Features: s.f}}}
		ds, _ := m.Detect(t.Context(), l)
		for _, d := range ds {
			right := d.Mark.MarkID == fmt.Sprintf("m%05d", s.logo)
			t.Logf("%s %d right=%v inliers %d coverage %.3f", what, i, right, d.Inliers, d.Coverage)
		}
	}
}
