package logo

import (
	"testing"

	"github.com/markwatch/markwatch/fixtures/generate"
)

// TestDetectInSellerPhotos holds the detector to the bars on a
// small generated set: logos at 8–40% of an 800×800 photo, turned by up
// to ±30°, in mild perspective, recoloured, JPEG quality 40; and photos
// showing logos that are not indexed. The full-size measurement is
// BenchmarkLogoCurve.
func TestDetectInSellerPhotos(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: generating photos takes seconds")
	}
	logos := inventLogos(t, 1, 40)
	other := inventLogos(t, 2, 40)
	m, err := New(marksOf(logos), Options{})
	if err != nil {
		t.Fatal(err)
	}
	pos, neg := scenes(t, 3, logos, other, 60, generate.SceneOptions{})
	o := run(t, m, pos, neg)
	recall := float64(o.found) / float64(len(pos))
	t.Logf("found %d/%d (wrong logo %d, box inside the truth %d); unrelated photos matching a logo %d/%d; found only partly %d, unrelated with a partial match %d",
		o.found, len(pos), o.wrong, o.boxOK, o.negHit, len(neg), o.partFound, o.partNeg)
	// The target is 0.80 (TestLogoCurve measures it); the
	// detector is not there yet at the small end of the size range, and
	// this bar (0.68 found when written) keeps it from getting worse.
	if recall < 0.6 {
		t.Errorf("recall %.2f, want ≥ 0.60", recall)
	}
	if o.wrong > 0 {
		t.Errorf("%d photos matched another logo than theirs", o.wrong)
	}
	// The unrelated photos show other invented logos, which share the
	// generator's 8 emblems and 4 typefaces with the indexed ones: with
	// only 40 logos indexed, 4 of 60 verified at the defaults when this
	// was written (8 before the rival check; docs/BENCHMARKS.md). This
	// bar keeps it from getting worse; the target (0.2%) is not
	// met on such negatives.
	if o.negHit > len(neg)/10 {
		t.Errorf("%d of %d unrelated photos matched a logo, want at most a tenth", o.negHit, len(neg))
	}
	if o.boxOK < o.found*9/10 {
		t.Errorf("only %d of %d found logos have their box inside the truth", o.boxOK, o.found)
	}
}
