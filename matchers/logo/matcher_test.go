package logo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/matchertest"
)

// TestConformance runs the matcher conformance suite: a photo showing the
// first logo large is a hit, a seller's photo without a logo a miss.
func TestConformance(t *testing.T) {
	logos := inventLogos(t, 31, 6)
	marks := marksOf(logos)
	m, err := New(marks, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ex := NewExtractor(ExtractorOptions{})
	r := rand.New(rand.NewPCG(32, 1))
	hitImg, _ := generate.LogoScene(r, logos.imgs[0], generate.SceneOptions{MinShare: 0.35, MaxShare: 0.4, KeepColours: true, MaxRotation: 5})
	missImg := generate.SellerPhoto(r, 800, 800)
	listing := func(f *matchers.Features) *matchers.Listing {
		return &matchers.Listing{
			Listing: &domain.Listing{ListingID: "l1", Title: "bag"},
			Images:  []matchers.ListingImage{{Index: 0, URL: "p.jpg", Features: f}},
		}
	}
	hit := listing(ex.Listing(lumaOf(t, encodeJPEG(t, hitImg, 85))))
	matchertest.Run(t, m, matchertest.Fixture{Marks: marks, Hit: hit, Miss: listing(ex.Listing(lumaOf(t, encodeJPEG(t, missImg, 85))))})

	// The evidence names the logo and where it is.
	sigs, err := m.Match(t.Context(), hit, marks)
	if err != nil {
		t.Fatal(err)
	}
	if sigs[0].Score == 0 {
		t.Fatal("the logo shown was not found")
	}
	e := sigs[0].Evidence[0]
	if e.Matcher != Name || e.Kind != Kind || e.Reference != "logo-00000.png" || e.Region == nil || e.Region.ImageW != 800 || e.Field != "images[0]" {
		t.Errorf("evidence %+v", e)
	}
	ids, _, err := m.MatchCandidates(t.Context(), hit)
	if err != nil || len(ids) == 0 || ids[0] != marks[0].MarkID {
		t.Errorf("candidates %v, %v", ids, err)
	}
}

// TestOptionsValidate: out-of-range options are refused, disabled finds
// nothing.
func TestOptionsValidate(t *testing.T) {
	for name, o := range map[string]Options{
		"distance":  {MaxDistance: 300},
		"ratio":     {Ratio: 2},
		"inliers":   {MinInliers: 2},
		"widths":    {MinWidth: 0.5, MaxWidth: 0.4},
		"rival":     {MaxRival: -1},
		"shortlist": {Shortlist: -2},
		"margin":    {ShortlistMargin: -2},
		"votes":     {ShortlistMinVotes: math.NaN()},
		"tables":    {Shortlist: 8, ShortlistTables: 17},
		"partial":   {MinCoverage: 0.2, MinPartialCoverage: 0.3},
		"partial>1": {MinPartialCoverage: 1.5},
		"colour>1":  {ColourMinDense: 1.5},
		"colourNaN": {ColourMinDense: math.NaN()},
		"colour<0":  {ColourMinInliers: -1},
	} {
		if _, err := New(nil, o); err == nil {
			t.Errorf("%s: accepted %+v", name, o)
		}
	}
	// -1: one stage; no margin.
	if _, err := New(nil, Options{Shortlist: -1, ShortlistMargin: -1}); err != nil {
		t.Errorf("one stage refused: %v", err)
	}
	logos := inventLogos(t, 31, 6)
	m, err := New(marksOf(logos), Options{Disabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := m.Logos(); n != 0 {
		t.Errorf("disabled matcher indexes %d logos", n)
	}
}

// TestDecide: a fit is kept only when it passes every threshold, a rival
// over the same region with nearly as many inliers rejects it, and of
// overlapping kept fits the one with most inliers stays; a fit passing
// every threshold but coverage, with at least MinPartialCoverage, is kept
// as partial (marked ~ here), after the whole ones and never over one.
func TestDecide(t *testing.T) {
	o := Options{}.withDefaults() // 16 inliers, coverage 0.15, distinct 1.0 (2.0 partial), rival 0.8, evenness 0.7, dense 0.4
	at := func(x int) domain.Region {
		return domain.Region{X: x, Y: 100, W: 200, H: 100, ImageW: 800, ImageH: 800}
	}
	fit := func(logo string, inliers int, cov, dist float64, rival, x int) Detection {
		return Detection{Logo: logo, Inliers: inliers, Coverage: cov, Distinct: dist, Rival: rival, Region: at(x), Evenness: 1, Guided: 1, Dense: 1, DenseEvenness: 1, RivalDense: -1}
	}
	for name, c := range map[string]struct {
		fits []Detection
		want []string
	}{
		"kept":                    {[]Detection{fit("a", 30, 0.3, 3, 0, 0)}, []string{"a"}},
		"few inliers":             {[]Detection{fit("a", 15, 0.3, 3, 0, 0)}, nil},
		"low coverage":            {[]Detection{fit("a", 30, 0.09, 3, 0, 0)}, nil},
		"partial":                 {[]Detection{fit("a", 30, 0.12, 3, 0, 0)}, []string{"a~"}},
		"partial, few inliers":    {[]Detection{fit("a", 15, 0.12, 3, 0, 0)}, nil},
		"partial, shared emblem":  {[]Detection{fit("a", 30, 0.12, 1.9, 0, 0)}, nil},
		"partial, rival too near": {[]Detection{fit("a", 30, 0.12, 3, 25, 0)}, nil},
		"overlap: whole before partial": {
			[]Detection{fit("a", 20, 0.3, 3, 0, 0), fit("b", 40, 0.12, 3, 0, 50)}, []string{"a"},
		},
		"apart: whole and partial": {
			[]Detection{fit("a", 20, 0.3, 3, 0, 0), fit("b", 40, 0.12, 3, 0, 500)}, []string{"a", "b~"},
		},
		"shared emblem":    {[]Detection{fit("a", 30, 0.3, 0.9, 0, 0)}, nil},
		"rival just below": {[]Detection{fit("a", 30, 0.3, 3, 24, 0)}, []string{"a"}},
		"rival too near":   {[]Detection{fit("a", 30, 0.3, 3, 25, 0)}, nil},
		"overlap: strongest": {
			[]Detection{fit("a", 20, 0.3, 3, 0, 0), fit("b", 40, 0.3, 3, 0, 50)}, []string{"b"},
		},
		// Overlapping by 0.49 of the smaller, each box holding the
		// other's centre: the same print.
		"same print, overlap under half: strongest": {
			[]Detection{fit("a", 20, 0.3, 3, 0, 0), {Logo: "b", Inliers: 40, Coverage: 0.3, Distinct: 3, Evenness: 1, Guided: 1, Dense: 1, DenseEvenness: 1, RivalDense: -1, Region: domain.Region{X: 60, Y: 130, W: 200, H: 100, ImageW: 800, ImageH: 800}}}, []string{"b"},
		},
		"apart: both": {
			[]Detection{fit("a", 20, 0.3, 3, 0, 0), fit("b", 40, 0.3, 3, 0, 500)}, []string{"b", "a"},
		},
	} {
		var got []string
		for _, d := range o.decide(c.fits) {
			if d.Partial {
				d.Logo += "~"
			}
			got = append(got, d.Logo)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: kept %v, want %v", name, got, c.want)
		}
	}
	// MinEvenness: a fit explaining the logo unevenly is partial, one
	// explaining it evenly whole (default 0.7); negative: not checked.
	// MinGuidedEvenness likewise, on the keypoints confirmed in place.
	for _, c := range []struct {
		name string
		// with returns a fit of that evenness, the other one 1 (the
		// pixels' confirmation under StrongDense).
		with func(v float64) Detection
		// set returns the options with that threshold.
		set func(v float64) Options
	}{
		{"evenness", func(v float64) Detection {
			return Detection{Logo: "a", Inliers: 30, Coverage: 0.3, Distinct: 3, Evenness: v, Guided: 1, Dense: 0.6, DenseEvenness: 1, RivalDense: -1, Region: at(0)}
		}, func(v float64) Options { return Options{MinEvenness: v} }},
		{"guided evenness", func(v float64) Detection {
			return Detection{Logo: "a", Inliers: 30, Coverage: 0.3, Distinct: 3, Evenness: 1, Guided: v, Dense: 0.6, DenseEvenness: 1, RivalDense: -1, Region: at(0)}
		}, func(v float64) Options { return Options{MinGuidedEvenness: v} }},
	} {
		for _, k := range []struct {
			fit, min float64
			partial  bool
		}{{0.65, 0, true}, {0.75, 0, false}, {0.75, 0.8, true}, {0.65, -1, false}} {
			ds := c.set(k.min).withDefaults().decide([]Detection{c.with(k.fit)})
			if len(ds) != 1 || ds[0].Partial != k.partial {
				t.Errorf("%s %.2f, threshold %g (0: the default 0.7, -1: not checked): %+v, want one detection, partial %v", c.name, k.fit, k.min, ds, k.partial)
			}
		}
		if err := c.set(1.2).Validate(); err == nil {
			t.Errorf("%s threshold 1.2 accepted", c.name)
		}
	}
	// MinDenseShare: a fit whose logo the photo's pixels confirm in too
	// few places is partial (default 0.6); negative: not checked; a fit
	// measured without pixels (Dense -1) is not checked either.
	for _, k := range []struct {
		dense, min float64
		partial    bool
	}{{0.55, 0, true}, {0.65, 0, false}, {0.65, 0.7, true}, {0.55, -1, false}, {-1, 0, false}, {0, 0, true}} {
		d := Detection{Logo: "a", Inliers: 30, Coverage: 0.3, Distinct: 3, Evenness: 1, Guided: 1, Dense: k.dense, DenseEvenness: 1, RivalDense: -1, Region: at(0)}
		ds := Options{MinDenseShare: k.min}.withDefaults().decide([]Detection{d})
		if len(ds) != 1 || ds[0].Partial != k.partial {
			t.Errorf("dense share %.2f, threshold %g (0: the default 0.6, -1: not checked): %+v, want one detection, partial %v", k.dense, k.min, ds, k.partial)
		}
	}
	if err := (Options{MinDenseShare: 1.2}).Validate(); err == nil {
		t.Error("dense share threshold 1.2 accepted")
	}
	// MinDenseEvenness: by default 0.8; negative: not checked, nor with
	// the dense check off; a fit confirmed over too few of its parts is
	// partial, whatever its share; not measured (-1): not checked.
	for _, k := range []struct {
		even, min, minShare float64
		partial             bool
	}{
		{0.75, 0, 0, true}, {0.85, 0, 0, false}, {0.8, 0, 0, false}, {0.85, 0.9, 0, true}, {0.95, 0.9, 0, false},
		{0.3, -1, 0, false}, {0.3, 0, -1, false}, {-1, 0, 0, false},
	} {
		d := Detection{Logo: "a", Inliers: 30, Coverage: 0.3, Distinct: 3, Evenness: 1, Guided: 1, Dense: 0.9, DenseEvenness: k.even, RivalDense: -1, Region: at(0)}
		ds := Options{MinDenseEvenness: k.min, MinDenseShare: k.minShare}.withDefaults().decide([]Detection{d})
		if len(ds) != 1 || ds[0].Partial != k.partial {
			t.Errorf("dense evenness %.2f, threshold %g (0: the default 0.8), dense share threshold %g: %+v, want one detection, partial %v", k.even, k.min, k.minShare, ds, k.partial)
		}
	}
	if err := (Options{MinDenseEvenness: 1.2}).Validate(); err == nil {
		t.Error("dense evenness threshold 1.2 accepted")
	}
	// RivalDenseMargin (default 0.4; negative: off): a rival within
	// MaxRival rejects a fit unless the pixels settle it (the fit at
	// RivalMinDense, 0.6, or more and by the margin over the rival's
	// share); settled, half MinDistinct will do.
	for _, k := range []struct {
		name                 string
		margin, dense, rival float64
		distinct             float64
		kept                 bool
	}{
		{"off", -1, 0.9, 0.1, 3, false},
		{"settled (the default)", 0, 0.9, 0.45, 3, true},
		{"margin short (the default)", 0, 0.9, 0.55, 3, false},
		{"settled at 0.3", 0.3, 0.9, 0.55, 3, true},
		{"margin short", 0.3, 0.9, 0.7, 3, false},
		{"under rival_min_dense", 0.3, 0.55, 0.1, 3, false},
		{"rival not measured", 0.3, 0.9, -1, 3, false},
		{"settled, shared inliers", 0.3, 0.9, 0.5, 0.6, true},
		{"settled, too little its own", 0.3, 0.9, 0.5, 0.4, false},
	} {
		d := Detection{Logo: "a", Inliers: 30, Coverage: 0.3, Distinct: k.distinct, Rival: 29, Evenness: 1, Guided: 1, Dense: k.dense, RivalDense: k.rival, DenseEvenness: 1, Region: at(0)}
		ds := Options{RivalDenseMargin: k.margin}.withDefaults().decide([]Detection{d})
		if (len(ds) == 1 && !ds[0].Partial) != k.kept {
			t.Errorf("rival %s: %+v, want kept whole %v", k.name, ds, k.kept)
		}
	}
	// RivalApartMargin (default 0.1 over RivalApartMin 0.6; negative:
	// off): the shares of each logo's own parts, those the other does
	// not share, settle a rival the whole shares do not.
	for _, k := range []struct {
		name                 string
		margin, apart, rival float64
		distinct             float64
		kept                 bool
	}{
		{"settled (the default)", 0, 0.7, 0.3, 3, true},
		{"off", -1, 0.7, 0.3, 3, false},
		{"margin short", 0, 0.7, 0.65, 3, false},
		{"own parts under rival_apart_min", 0, 0.55, 0.1, 3, false},
		{"not measured", 0, -1, -1, 3, false},
		{"rival's own parts not measured", 0, 0.7, -1, 3, false},
		{"settled, shared inliers", 0, 0.7, 0.3, 0.6, true},
		{"settled, too little its own", 0, 0.7, 0.3, 0.4, false},
		{"a wider margin", 0.5, 0.7, 0.3, 3, false},
	} {
		// The whole shares alone settle nothing (0.65 against 0.6).
		d := Detection{Logo: "a", Inliers: 30, Coverage: 0.3, Distinct: k.distinct, Rival: 29, Evenness: 1, Guided: 1, Dense: 0.65, RivalDense: 0.6, DenseEvenness: 1,
			Apart: k.apart, RivalApart: k.rival, Region: at(0)}
		ds := Options{RivalApartMargin: k.margin}.withDefaults().decide([]Detection{d})
		if (len(ds) == 1 && !ds[0].Partial) != k.kept {
			t.Errorf("rival, own parts %s: %+v, want kept whole %v", k.name, ds, k.kept)
		}
	}
	if err := (Options{RivalApartMargin: 1.5}).Validate(); err == nil {
		t.Error("rival apart margin 1.5 accepted")
	}
	if err := (Options{RivalApartMin: 1.5}).Validate(); err == nil {
		t.Error("rival apart min 1.5 accepted")
	}
	// StrongDense (default 0.7; negative: off): a fit the pixels confirm
	// at 0.7 or more with a dense evenness of 0.9 or more needs the
	// keypoints' evenness (MinEvenness, MinGuidedEvenness, 0.7) less
	// 0.15.
	for _, k := range []struct {
		name                               string
		strong, even, guided, dense, deven float64
		whole                              bool
	}{
		{"confirmed strongly (the default)", 0, 0.6, 0.6, 0.75, 0.95, true},
		{"off", -1, 0.6, 0.6, 0.75, 0.95, false},
		{"dense share under 0.7", 0, 0.6, 0.6, 0.65, 0.95, false},
		{"dense evenness under 0.9", 0, 0.6, 0.6, 0.75, 0.85, false},
		{"evenness under 0.55", 0, 0.5, 0.6, 0.75, 0.95, false},
		{"guided evenness under 0.55", 0, 0.6, 0.5, 0.75, 0.95, false},
		{"a higher bar", 0.8, 0.6, 0.6, 0.75, 0.95, false},
		{"evenness passes anyway", -1, 0.75, 0.75, 0.65, 0.85, true},
	} {
		d := Detection{Logo: "a", Inliers: 30, Coverage: 0.3, Distinct: 3, Evenness: k.even, Guided: k.guided, Dense: k.dense, DenseEvenness: k.deven, RivalDense: -1, Apart: -1, RivalApart: -1, Region: at(0)}
		ds := Options{StrongDense: k.strong}.withDefaults().decide([]Detection{d})
		if len(ds) != 1 || ds[0].Partial == k.whole {
			t.Errorf("strong dense, %s: %+v, want one detection, whole %v", k.name, ds, k.whole)
		}
	}
	if err := (Options{StrongDense: 1.5}).Validate(); err == nil {
		t.Error("strong dense share 1.5 accepted")
	}
	// Without a rival, low distinctiveness is not excused.
	d := Detection{Logo: "a", Inliers: 30, Coverage: 0.3, Distinct: 0.6, Evenness: 1, Guided: 1, Dense: 0.9, RivalDense: -1, DenseEvenness: 1, Region: at(0)}
	if ds := (Options{}).withDefaults().decide([]Detection{d}); len(ds) != 0 {
		t.Errorf("distinct 0.6 without a rival kept: %+v", ds)
	}
	if err := (Options{RivalDenseMargin: 1.5}).Validate(); err == nil {
		t.Error("rival dense margin 1.5 accepted")
	}
}

// TestPartialEvidence: a partial detection is evidence of kind
// PartialKind scoring 0.5 at MinPartialCoverage to 0.6 at MinCoverage,
// below a whole detection's; a mark found whole in one photo and partly in
// another leads with the whole detection and its score; a negative
// MinPartialCoverage turns the tier off.
func TestPartialEvidence(t *testing.T) {
	m, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(id string) *matchers.Mark { return &matchers.Mark{Mark: &domain.Mark{MarkID: id}} }
	a, b := mk("a"), mk("b")
	l := &matchers.Listing{Listing: &domain.Listing{}, Images: []matchers.ListingImage{{URL: "0.jpg"}, {Index: 1, URL: "1.jpg"}}}
	det := func(mark *matchers.Mark, img, inliers int, cov float64, partial bool) Detection {
		return Detection{Image: img, Mark: mark, Logo: mark.MarkID + ".png", Inliers: inliers, Coverage: cov, Partial: partial,
			Region: domain.Region{X: 1, Y: 2, W: 30, H: 40, ImageW: 800, ImageH: 800}}
	}
	ds := []Detection{det(a, 0, 20, 0.3, false), det(b, 0, 40, 0.1, true), det(b, 1, 30, 0.125, true), det(a, 1, 50, 0.14, true)}
	sortDetections(ds)
	ids, sigs := m.signals(l, ds)
	if !slices.Equal(ids, []string{"a", "b"}) {
		t.Fatalf("marks %v", ids)
	}
	sa, sb := sigs["a"], sigs["b"]
	if len(sa.Evidence) != 2 || sa.Evidence[0].Kind != Kind || sa.Evidence[1].Kind != PartialKind || sa.Score != m.score(20) {
		t.Errorf("mark a: score %.3f, evidence %+v", sa.Score, sa.Evidence)
	}
	if len(sb.Evidence) != 2 || sb.Evidence[0].Kind != PartialKind || sb.Evidence[0].Region == nil {
		t.Fatalf("mark b: evidence %+v", sb.Evidence)
	}
	// b's evidence: the 40-inlier fit at coverage 0.1 (0.5), the other at
	// 0.125 (0.55, half way to MinCoverage 0.15); the signal is the
	// strongest.
	if got := []float64{sb.Evidence[0].Score, sb.Evidence[1].Score, sb.Score}; math.Abs(got[0]-0.5) > 1e-9 || math.Abs(got[1]-0.55) > 1e-9 || got[2] != got[1] {
		t.Errorf("mark b: scores %v, want [0.5 0.55 0.55]", got)
	}
	if m.partialScore(0.14) >= m.score(m.o.MinInliers) || m.partialScore(0.05) != 0.5 || m.partialScore(0.5) != 0.6 {
		t.Errorf("partial scores %.3f %.3f %.3f", m.partialScore(0.14), m.partialScore(0.05), m.partialScore(0.5))
	}
	// A whole detection: 0.75 at MinInliers, 1 at three times as many.
	if lo, mid, hi := m.score(m.o.MinInliers), m.score(2*m.o.MinInliers), m.score(3*m.o.MinInliers); math.Abs(lo-0.75) > 1e-9 || math.Abs(mid-0.875) > 1e-9 || hi != 1 || m.score(10*m.o.MinInliers) != 1 {
		t.Errorf("whole scores %.3f %.3f %.3f, want 0.75 0.875 1", lo, mid, hi)
	}
	off := Options{MinPartialCoverage: -1}.withDefaults()
	if got := off.decide([]Detection{det(a, 0, 30, 0.14, false)}); len(got) != 0 {
		t.Errorf("tier off: kept %+v", got)
	}
}

// TestSameRegion: two fits are over the same region when their boxes
// share more than half of the smaller, or each holds the other's centre.
func TestSameRegion(t *testing.T) {
	box := func(x, y, w, h int) domain.Region {
		return domain.Region{X: x, Y: y, W: w, H: h, ImageW: 800, ImageH: 800}
	}
	for _, c := range []struct {
		name string
		a, b domain.Region
		want bool
	}{
		{"identical", box(0, 0, 200, 100), box(0, 0, 200, 100), true},
		{"more than half", box(0, 0, 200, 100), box(90, 0, 200, 100), true},
		{"under half, centres in each other", box(0, 0, 200, 100), box(60, 30, 200, 100), true},
		{"small inside large", box(0, 0, 400, 400), box(10, 10, 50, 50), true},
		{"under half, one centre out", box(0, 0, 200, 100), box(110, 0, 200, 100), false},
		{"apart", box(0, 0, 200, 100), box(500, 500, 100, 100), false},
	} {
		if got := sameRegion(c.a, c.b); got != c.want || sameRegion(c.b, c.a) != got {
			t.Errorf("%s: %v, want %v (both ways)", c.name, got, c.want)
		}
	}
}

// TestColourKept: a colour plane's fits are decided as a photo's, and kept
// only whole, with ColourMinInliers (twice MinInliers by default) and
// confirmed by that plane's pixels at ColourMinDense (0.9 by default),
// named by their plane; of overlapping ones across the planes
// the strongest stays (the strongest first), and none over the region
// of a luma fit, kept or not; off (negative), nothing.
func TestColourKept(t *testing.T) {
	o := Options{}.withDefaults()
	at := func(x int) domain.Region {
		return domain.Region{X: x, Y: 100, W: 200, H: 100, ImageW: 800, ImageH: 800}
	}
	fit := func(logo string, inliers int, cov, dense float64, x int) Detection {
		return Detection{Logo: logo, Inliers: inliers, Coverage: cov, Distinct: 3, Region: at(x), Evenness: 1, Guided: 1, Dense: dense, DenseEvenness: 1, RivalDense: -1}
	}
	names := func(ds []Detection) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Logo+"@"+d.Plane)
		}
		return out
	}
	for name, c := range map[string]struct {
		o      Options
		luma   []Detection
		planes [][]Detection
		want   []string
	}{
		"cb":                   {o, nil, [][]Detection{{fit("a", 40, 0.3, 0.95, 0)}, nil}, []string{"a@cb"}},
		"cr":                   {o, nil, [][]Detection{nil, {fit("a", 40, 0.3, 0.95, 0)}}, []string{"a@cr"}},
		"confirmed too little": {o, nil, [][]Detection{{fit("a", 40, 0.3, 0.85, 0)}, nil}, nil},
		"partial":              {o, nil, [][]Detection{{fit("a", 30, 0.12, 0.95, 0)}, nil}, nil},
		"few inliers":          {o, nil, [][]Detection{{fit("a", 12, 0.3, 0.95, 0)}, nil}, nil},
		"both planes: strongest": {
			o, nil, [][]Detection{{fit("a", 40, 0.3, 0.95, 0)}, {fit("b", 50, 0.3, 0.92, 40)}}, []string{"b@cr"},
		},
		"both planes apart": {
			o, nil, [][]Detection{{fit("a", 40, 0.3, 0.95, 0)}, {fit("b", 50, 0.3, 0.92, 500)}}, []string{"b@cr", "a@cb"},
		},
		"luma stands": {
			o, []Detection{fit("c", 20, 0.3, 0.7, 30)}, [][]Detection{{fit("a", 40, 0.3, 0.95, 0)}, nil}, nil,
		},
		// A luma fit turned away (a look-alike's: too few inliers,
		// confirmed too little) still says the luma saw the print.
		"luma fit turned away stands": {
			o, []Detection{fit("a", 12, 0.3, 0.3, 30)}, [][]Detection{{fit("a", 40, 0.3, 0.95, 0)}, nil}, nil,
		},
		"luma elsewhere": {
			o, []Detection{fit("c", 20, 0.3, 0.7, 500)}, [][]Detection{{fit("a", 40, 0.3, 0.95, 0)}, nil}, []string{"a@cb"},
		},
		"lower bar": {
			Options{ColourMinDense: 0.8}.withDefaults(), nil, [][]Detection{{fit("a", 40, 0.3, 0.85, 0)}, nil}, []string{"a@cb"},
		},
		"off": {
			Options{ColourMinDense: -1}.withDefaults(), nil, [][]Detection{{fit("a", 40, 0.3, 0.99, 0)}, nil}, nil,
		},
	} {
		if got := names(c.o.colourKept(c.luma, c.planes)); !slices.Equal(got, c.want) {
			t.Errorf("%s: kept %v, want %v", name, got, c.want)
		}
	}
}
