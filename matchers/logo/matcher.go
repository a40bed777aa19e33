package logo

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

// Name is the matcher's name in evidence and metrics.
const Name = "logo"

// Kind is the evidence kind of a logo found in a listing's photo.
const Kind = "logo_in_photo"

// PartialKind is the evidence kind of a logo partly found in a listing's
// photo (Detection.Partial): a use of the mark only in context.
const PartialKind = "logo_partial"

// Options configure a Matcher. Zero fields take the defaults.
type Options struct {
	// Disabled builds a Matcher that indexes nothing and finds nothing.
	Disabled bool
	// MaxDistance is the largest Hamming distance (of 256 bits) at which
	// a listing descriptor matches a logo's (default 64).
	MaxDistance int
	// Ratio is the ratio test: a listing descriptor is paired with the
	// nearest descriptor of every logo whose distance times Ratio is
	// within the nearest logo's (default 0.5).
	Ratio float64
	// MinInliers is the fewest distinct matches a verified fit keeps
	// (default 16). Raising it trades recall for fewer false matches; see
	// docs/BENCHMARKS.md for the curve.
	MinInliers int
	// Tolerance is the largest reprojection error of an inlier, as a share
	// of the logo's projected diagonal (default 0.05, which absorbs mild
	// perspective).
	Tolerance float64
	// MaxAngle is the largest rotation of a found logo, in degrees
	// (default 50).
	MaxAngle float64
	// MinWidth and MaxWidth bound a found logo's width as a share of the
	// image's width (defaults 0.04 and 0.8).
	MinWidth, MaxWidth float64
	// MinCoverage is the least share of the logo's keypoints that should
	// be visible in the photo (inside it, at a scale its pyramid has)
	// that a fit must explain (default 0.15; 0.2 before dense
	// verification, MinDenseShare, which tells a logo sharing an emblem
	// with the one shown by its other parts): a logo that only shares an
	// emblem or a few letters with the one shown explains few of them.
	MinCoverage float64
	// MinPartialCoverage is the least coverage of a partial detection
	// (default 0.1; negative: none): a fit that passes every other
	// threshold but explains between MinPartialCoverage and MinCoverage
	// of the logo is reported with Partial set, as evidence of kind
	// PartialKind, which the scorer counts only when the rest of the
	// listing supports it (matchers/score's contextual kinds). A logo
	// partly hidden by a fold, a strap or the photo's edge, or printed
	// in thin strokes whose corners are few, fits that way; so does a
	// bare emblem a mark's logo is made of, which is why such a fit is
	// not a use on its own.
	MinPartialCoverage float64
	// MinEvenness is the least evenness of a whole detection (default
	// 0.7; negative: not checked): the share of the logo's expected
	// keypoints lying in parts of it (cells of a 5×5 grid over the logo)
	// that the fit explains at least a third as well as the whole. A
	// photo of another brand's logo built from some of the same parts
	// (the same round badge, emblem or typeface, another name), or of a
	// product printed with the bare emblem a logo is made of, fits the
	// logo where they share a part, often with as many inliers and as
	// much coverage as the logo itself seen small, and less evenly. A
	// fit below it that passes the partial thresholds is reported as
	// Partial: in context it is still evidence. At 0.7, sellers' photos
	// at the fixtures' scale with a logo found fall by a third, on
	// TestLogoCurve's photos (1,000 logos) false matches by a fifth at
	// the same recall, for 1 of the fixtures' 60 logo_in_photo listings;
	// 0.8 cuts more of both (docs/BENCHMARKS.md, "How evenly a fit
	// explains the logo").
	MinEvenness float64
	// MinGuidedEvenness is the least evenness of a whole detection's
	// keypoints confirmed in place (default 0.7; negative: not
	// checked): once a fit gives the logo's pose, each logo keypoint it
	// says is visible is looked for where the pose puts it, among the
	// photo's keypoints there (within half the inlier tolerance, of
	// consistent orientation and scale, within 40 bits), not through
	// the index; the share of those keypoints lying in cells of the 5×5
	// grid confirmed at least a third as well as the whole. The index
	// pairs a photo's descriptor with one per logo, so a fit's inliers
	// are a thin sample of what agrees, and MinEvenness judges a thin
	// sample; in place every keypoint of the logo is tested, and
	// another brand's logo built from the same parts is confirmed where
	// they share one and not where its name differs. At 0.7, on
	// TestLogoCurve's photos (1,000 logos) false matches fall by two
	// thirds at the defaults for 1 point of recall; at the fixtures'
	// scale sellers' photos with a logo found fall by a quarter
	// (docs/BENCHMARKS.md, "Guided matching"). A fit below it that
	// passes the partial thresholds is reported as Partial.
	MinGuidedEvenness float64
	// MinDenseShare is the least share of a whole detection's logo
	// keypoints confirmed by the photo's own pixels (default 0.6, 0.4
	// before the samples were read where the pose puts them; negative:
	// not checked): once a fit gives the logo's pose (refined to a
	// homography on its inliers), a descriptor is taken from the photo
	// where the pose puts each logo keypoint, each of its samples read
	// where the pose's local map puts the logo keypoint's own sample
	// (matchers.Pixels.DescribeMapped), and counts when within 40 bits
	// of the logo keypoint's. The logo shown is then confirmed at
	// 0.59–1.0 on the fixtures (half of them 0.88 or more), a look-alike
	// sharing an emblem at 0.0–0.5 over it, mostly (docs/BENCHMARKS.md,
	// "Dense verification at the pose's own samples"). It needs
	// the listing image's pixels (ExtractorOptions.Pixels, which the
	// detector sets with the check on); features without them are not
	// checked (docs/BENCHMARKS.md, "Dense verification"). A fit below it
	// that passes the partial thresholds is reported as Partial.
	MinDenseShare float64
	// MinDenseEvenness is the least share of a whole detection's logo
	// keypoint positions lying in parts of the logo (a 4×4 grid over its
	// keypoints' box, parts with at least 8 positions) that the photo's
	// pixels confirm at a share of 0.4 or more each (default 0.8, 0.6
	// before the samples were read where the pose puts them; negative:
	// not checked; not checked either with MinDenseShare off).
	// Another brand's look-alike drawn from the same badge, emblem and
	// typeface is confirmed nearly everywhere over the parts the two
	// share and less over its name, and can still reach MinDenseShare as
	// a whole. At 0.6 (then), with RivalDenseMargin, sellers' photos of such
	// look-alikes with a logo found at the fixtures' scale fall from
	// 0.95% to 0.40% (0.65% to 0.45% on a second set), the fixtures'
	// logo_in_photo recall unchanged; at 0.7 to 0.20% but two of the
	// fixtures' small logos lost, whose names are confirmed as poorly as
	// a look-alike's (docs/BENCHMARKS.md, "Dense evenness", "Rivals
	// settled by the pixels"). A fit below it that passes the partial
	// thresholds is reported as Partial.
	MinDenseEvenness float64
	// MinPartialDistinct is the least summed distinctiveness of a
	// partial detection's inliers (default twice MinDistinct): a fit
	// that explains less of the logo must be more clearly this logo's.
	// On TestLogoCurve's photos of unindexed logos sharing emblems and
	// typefaces with the indexed ones, the partial fits that pass every
	// other threshold sum to 1.5–2.7; those of logos shown partly, to
	// 1.9–7 (docs/BENCHMARKS.md, "Partly seen logos as evidence in
	// context").
	MinPartialDistinct float64
	// MaxCandidates is how many logos, of those whose pairs agree most on
	// one pose (position, scale, angle of the logo in the photo), are
	// verified per image (default 8); see the package doc.
	MaxCandidates int
	// MinDistinct is the least summed distinctiveness of a fit's inliers
	// (default 1.0; 1.5 before dense verification, MinDenseShare, which
	// rejects a fit on parts shared with other logos by the rest): an
	// inlier counts 1/n when its listing descriptor is about as near
	// (within 6 bits) to n logos. A fit on an emblem or letters that
	// many logos share, with little of the logo's own, is not that logo.
	MinDistinct float64
	// MaxRival bounds, as a share of a found logo's inliers, the inliers
	// of another logo fitted over the same region (default 0.8). A photo
	// of a logo that is not indexed fits every indexed logo sharing its
	// emblem and typeface about as well; the logo shown, when indexed,
	// fits clearly better than those.
	MaxRival float64
	// RivalDenseMargin lets the photo's pixels settle a rival (default
	// 0.4, 0.3 before the samples were read where the pose puts them;
	// negative: off; it needs MinDenseShare on): a fit confirmed by
	// them at RivalMinDense or more, and by at least this much more than
	// every other logo fitted over its region (their shares measured for
	// it), is not rejected by MaxRival, and needs only half MinDistinct
	// (its inliers are shared with the rival's logo, which is what
	// lowers their distinctiveness). Two indexed logos built from the
	// same badge and emblem fit a photo of either about equally; the one
	// shown is confirmed over its name too. On TestLogoCurve's photos
	// (1,000 logos), with MinDenseEvenness 0.6: 0.560 at 0.17% false
	// matches → 0.585 at 0.08% (docs/BENCHMARKS.md, "Rivals settled by
	// the pixels").
	RivalDenseMargin float64
	// RivalMinDense is the least dense share of a fit that a rival does
	// not reject by RivalDenseMargin (0: 0.6).
	RivalMinDense float64
	// RivalApartMargin lets the pixels settle a rival over the parts the
	// two logos do not share (negative: off; it needs MinDenseShare
	// on): a fit whose own parts (the keypoints no rival has in the same
	// place with a near descriptor: its name where the rival's differs)
	// are confirmed at RivalApartMin or more, and by at least this much
	// more than each rival's own parts, is settled as RivalDenseMargin
	// settles it. Over the whole logo the parts the two share, confirmed
	// for both, narrow the margin; over their own parts the logo shown
	// is confirmed and the rival is not.
	RivalApartMargin float64
	// RivalApartMin is the least share of a fit's own parts the pixels
	// confirm for RivalApartMargin to settle its rivals.
	RivalApartMin float64
	// StrongDense is the dense share at which, with a dense evenness of
	// 0.9 or more, the pixels' confirmation stands in for part of the
	// keypoints' evenness (default 0.7; negative: off; it needs
	// MinDenseShare on): such a fit needs MinEvenness and
	// MinGuidedEvenness less 0.15. A small logo's few keypoints make its
	// inliers' and its guided matches' evenness noisy where its pixels,
	// read at every keypoint, are not.
	StrongDense float64
	// Iterations is the least number of RANSAC samples per logo (default
	// 400).
	Iterations int
	// MaxIterations is the most (default 5 × Iterations). Past
	// Iterations, sampling stops once the best fit so far, with w of the
	// logo's pairs its inliers, makes it 99% sure that two of its inliers
	// have been drawn together (n ≥ ln 0.01 / ln(1 − w²)); a logo with
	// no fit yet, or one explaining a small share of its pairs, gets up
	// to MaxIterations. A logo whose right pairs are a tenth of its
	// pairs (the rest its emblem's and letters' look-alikes elsewhere in
	// the photo) is then found whatever the seed, not one time in three.
	MaxIterations int
	// MaxLogoKeypoints caps the descriptors indexed per logo (default 512,
	// both polarities of ExtractorOptions.MaxLogoKeypoints).
	MaxLogoKeypoints int
	// MaxIndexed caps the descriptors indexed in all (default 8,000,000,
	// about 16,000 logos and 930 MB, up to 2.2 GB with the inline copies
	// of the largest buckets); logos past it are left out.
	MaxIndexed int
	// MaxEvidence caps the evidence items of one signal (default 3).
	MaxEvidence int
	// Shortlist is how many logos two-stage matching pairs the photo
	// with (default 64; -1: one stage, every logo paired, the default
	// before 2026-12-04): the listing's descriptors are first looked up
	// in ShortlistTables of the 16 tables only, and the Shortlist logos
	// whose pairs agree most on one pose are kept; then the full look-up
	// pairs them with those logos only, and the inliers of each fit that
	// can be kept are weighed as one stage weighs them (their listing
	// descriptors looked up in the whole index; see oneStageWeights).
	// With as many logos indexed as Shortlist or fewer, matching is one
	// stage, which then finds the same. At 1,000 drawn logos 64 costs
	// about a third of the one stage's matching, for the same curve
	// within what the RANSAC seed moves (docs/BENCHMARKS.md, "Two stages
	// by default").
	Shortlist int
	// ShortlistTables is how many of the multi-index's 16 tables the
	// shortlist stage reads (default 4).
	ShortlistTables int
	// ShortlistNearest is how many logos each listing descriptor votes
	// for in the shortlist stage: its ShortlistNearest nearest (those
	// tied at the last distance too) of the logos within the ratio
	// test (default 16; negative: every one, as before this option).
	// The shortlist stage then groups and votes on a few pairs per
	// descriptor instead of the ~100 logos sharing an emblem with it,
	// and the second stage pairs the shortlisted logos in full, so
	// the pairs verified keep every logo's; the shortlist found the
	// right logos as often, for about 40% less matching CPU on the
	// curve's drawn logos (docs/BENCHMARKS.md, h-lspeed).
	ShortlistNearest int
	// ShortlistMargin, when positive, also keeps a listing
	// descriptor's votes in the shortlist stage to the logos within
	// ShortlistMargin bits of its nearest (at least the 6 bits of a
	// tie), and its look-ups pass over what is farther (default 6; -1:
	// the ratio test's reach, twice the nearest's distance, the default
	// before 2026-12-04). 6 costs about a fifth less matching on the
	// curve's drawn logos than no margin (docs/BENCHMARKS.md, h-lspeed).
	ShortlistMargin int
	// ShortlistMinVotes is the least first-stage score (the fullest pose
	// bin's summed vote weights, about one per pair at 32 bits) of a
	// shortlisted logo the second stage pairs with the photo (0: the
	// default, MinInliers × ShortlistTables / 16, 4 at the defaults;
	// negative: every shortlisted logo, as before 2026-12-04). The
	// first stage reads ShortlistTables of the 16 tables and finds about
	// a third of a logo's pairs at 4 of them; a logo with fewer votes on
	// its best pose there is unlikely to reach MinInliers in all of
	// them, and most photos show no indexed logo, where most of the
	// shortlist is such logos: about a quarter of the CPU per listing
	// end to end, the curve unchanged (docs/BENCHMARKS.md, "Two stages
	// by default").
	ShortlistMinVotes float64
	// ColourMinDense is the least share of a logo's keypoints the
	// pixels of a colour plane must confirm for a fit found in that
	// plane's features to be kept (matchers.Features.Colour,
	// ExtractorOptions.Colour; default 0.9; negative: colour planes
	// not matched). Each plane is matched apart, as a photo of its own,
	// through the same decision, and only its whole detections so
	// confirmed (and with ColourMinInliers) are kept, after those of the
	// luma and over no region where the luma fitted any logo (see
	// colourKept). Chroma varies where the luma holds a product's
	// print, and the colour planes' keypoints pair with look-alikes
	// sharing an emblem as the luma's do; a fit the chroma confirms at
	// 0.9 is the logo drawn in that colour.
	ColourMinDense float64
	// ColourMinInliers is the fewest inliers of a fit found in a colour
	// plane that is kept (default 2 × MinInliers): a plane has a
	// quarter of the luma's samples, coarser quantized, and a
	// look-alike sharing an emblem and a typeface fits there on few
	// keypoints the coarse chroma confirms (two of 4,000 sellers'
	// photos at 18 and 27 inliers) where the logo shown fits on many
	// (27–61 on prints tone-matched to the product, most over 32).
	ColourMinInliers int
}

func (o Options) withDefaults() Options {
	if o.MaxDistance <= 0 {
		o.MaxDistance = 64
	}
	if o.Ratio <= 0 {
		o.Ratio = 0.5
	}
	if o.MinInliers <= 0 {
		o.MinInliers = 16
	}
	if o.Tolerance <= 0 {
		o.Tolerance = 0.05
	}
	if o.MaxAngle <= 0 {
		o.MaxAngle = 50
	}
	if o.MinWidth <= 0 {
		o.MinWidth = 0.04
	}
	if o.MaxWidth <= 0 {
		o.MaxWidth = 0.8
	}
	if o.MinCoverage <= 0 {
		o.MinCoverage = 0.15
	}
	switch {
	case o.MinPartialCoverage == 0:
		o.MinPartialCoverage = min(0.1, o.MinCoverage)
	case o.MinPartialCoverage < 0:
		o.MinPartialCoverage = o.MinCoverage
	}
	if o.MaxCandidates <= 0 {
		o.MaxCandidates = 8
	}
	if o.MinDistinct <= 0 {
		o.MinDistinct = 1
	}
	if o.MaxRival <= 0 {
		o.MaxRival = 0.8
	}
	if o.RivalMinDense <= 0 {
		o.RivalMinDense = 0.6
	}
	if o.RivalDenseMargin == 0 {
		o.RivalDenseMargin = 0.4
	}
	if o.StrongDense == 0 {
		o.StrongDense = 0.7
	}
	if o.RivalApartMargin == 0 {
		o.RivalApartMargin = 0.1
	}
	if o.RivalApartMin <= 0 {
		o.RivalApartMin = 0.6
	}
	if o.MinDenseEvenness == 0 {
		o.MinDenseEvenness = 0.8
	}
	if o.MinEvenness == 0 {
		o.MinEvenness = 0.7
	}
	if o.MinGuidedEvenness == 0 {
		o.MinGuidedEvenness = 0.7
	}
	if o.MinDenseShare == 0 {
		o.MinDenseShare = 0.6
	}
	if o.MinPartialDistinct <= 0 {
		o.MinPartialDistinct = 2 * o.MinDistinct
	}
	if o.Iterations <= 0 {
		o.Iterations = 400
	}
	if o.MaxIterations <= 0 {
		o.MaxIterations = 5 * o.Iterations
	}
	o.MaxIterations = max(o.MaxIterations, o.Iterations)
	if o.MaxLogoKeypoints <= 0 {
		o.MaxLogoKeypoints = 512
	}
	if o.MaxIndexed <= 0 {
		o.MaxIndexed = 8_000_000
	}
	if o.MaxEvidence <= 0 {
		o.MaxEvidence = 3
	}
	if o.ShortlistTables <= 0 {
		o.ShortlistTables = 4
	}
	if o.ShortlistNearest == 0 {
		o.ShortlistNearest = 16
	}
	if o.Shortlist == 0 {
		o.Shortlist = 64
	}
	if o.ShortlistMargin == 0 {
		o.ShortlistMargin = 6
	}
	if o.ColourMinDense == 0 {
		o.ColourMinDense = 0.9
	}
	if o.ColourMinInliers <= 0 {
		o.ColourMinInliers = 2 * o.MinInliers
	}
	if o.ShortlistMinVotes == 0 {
		o.ShortlistMinVotes = float64(o.MinInliers*o.ShortlistTables) / tables
	}
	return o
}

// Validate reports options out of range.
func (o Options) Validate() error {
	switch {
	case o.MaxDistance < 0 || o.MaxDistance > 128:
		return fmt.Errorf("logo: max distance %d outside 0..128", o.MaxDistance)
	case o.Ratio < 0 || o.Ratio > 1:
		return fmt.Errorf("logo: ratio %g outside 0..1", o.Ratio)
	case o.MinInliers < 0 || (o.MinInliers > 0 && o.MinInliers < 4):
		return fmt.Errorf("logo: min inliers %d: want 4 or more (0: default)", o.MinInliers)
	case o.MaxRival < 0 || o.MinDistinct < 0 || o.MinPartialDistinct < 0 || o.MaxCandidates < 0:
		return fmt.Errorf("logo: max rival %g, min distinct %g, min partial distinct %g, max candidates %d: want ≥ 0", o.MaxRival, o.MinDistinct, o.MinPartialDistinct, o.MaxCandidates)
	case o.Shortlist < -1 || o.ShortlistTables < 0 || o.ShortlistTables > tables:
		return fmt.Errorf("logo: shortlist %d of %d tables: want -1 (one stage), 0 (default) or more, and 0..%d tables", o.Shortlist, o.ShortlistTables, tables)
	case o.MinEvenness > 1:
		return fmt.Errorf("logo: min evenness %g: want at most 1 (0: default, negative: not checked)", o.MinEvenness)
	case o.MinGuidedEvenness > 1:
		return fmt.Errorf("logo: min guided evenness %g: want at most 1 (0: default, negative: not checked)", o.MinGuidedEvenness)
	case o.MinDenseShare > 1:
		return fmt.Errorf("logo: min dense share %g: want at most 1 (0: default, negative: not checked)", o.MinDenseShare)
	case o.RivalDenseMargin > 1 || o.RivalMinDense > 1:
		return fmt.Errorf("logo: rival dense margin %g, rival min dense %g: want at most 1", o.RivalDenseMargin, o.RivalMinDense)
	case o.ColourMinDense > 1 || math.IsNaN(o.ColourMinDense) || o.ColourMinInliers < 0:
		return fmt.Errorf("logo: colour min dense %g, colour min inliers %d: want at most 1 (0: default, negative: colour planes not matched) and 0 (default) or more", o.ColourMinDense, o.ColourMinInliers)
	case o.StrongDense > 1:
		return fmt.Errorf("logo: strong dense share %g: want at most 1", o.StrongDense)
	case o.RivalApartMargin > 1 || o.RivalApartMin > 1:
		return fmt.Errorf("logo: rival apart margin %g, rival apart min %g: want at most 1", o.RivalApartMargin, o.RivalApartMin)
	case o.MinDenseEvenness > 1:
		return fmt.Errorf("logo: min dense evenness %g: want at most 1 (0: default, negative: not checked)", o.MinDenseEvenness)
	case o.MinPartialCoverage > 1 || (o.MinPartialCoverage > 0 && o.MinCoverage > 0 && o.MinPartialCoverage > o.MinCoverage):
		return fmt.Errorf("logo: min partial coverage %g: want at most 1 and at most min coverage %g", o.MinPartialCoverage, o.MinCoverage)
	case o.ShortlistMargin < -1 || o.ShortlistMargin > 128:
		return fmt.Errorf("logo: shortlist margin %d: want -1 (none), 0 (default) or up to 128 bits", o.ShortlistMargin)
	case math.IsNaN(o.ShortlistMinVotes) || math.IsInf(o.ShortlistMinVotes, 0):
		return fmt.Errorf("logo: shortlist min votes %g: want a number (0: default, negative: none)", o.ShortlistMinVotes)
	case o.ShortlistNearest < -1:
		return fmt.Errorf("logo: shortlist nearest %d: want -1 (every logo), 0 (default) or more", o.ShortlistNearest)
	case o.Iterations < 0 || o.MaxIterations < 0 || o.MaxIterations > 100_000:
		return fmt.Errorf("logo: RANSAC samples %d..%d: want 0 (default) or more, at most 100000", o.Iterations, o.MaxIterations)
	case o.MaxWidth < 0 || o.MaxWidth > 1 || o.MinWidth < 0 || (o.MaxWidth > 0 && o.MinWidth >= o.MaxWidth):
		return fmt.Errorf("logo: widths %g..%g: want 0 ≤ min < max ≤ 1", o.MinWidth, o.MaxWidth)
	}
	return nil
}

// Matcher is the "logo" matcher: it finds marks' logos inside listing
// images from their local features (matchers.ListingImage.Features and
// ReferenceImage.Features), see the package doc. It is a
// matchers.CandidateMatcher: the logos it verifies make their marks
// candidates, so a listing that names no brand is still scored against
// the mark whose logo its photo shows. Immutable once built and safe for
// concurrent use; build a new one when marks change.
type Matcher struct {
	o  Options
	vp verifyParams
	ix *index
	// Skipped counts logos left out because the index was full.
	skipped int
	// seed is added to each logo's RANSAC seed (0 in production, so a
	// listing's detections are reproducible). TestLogoCurve varies it
	// to measure how much of a curve's difference is sampling luck.
	seed uint64
	// denseAll measures every fit's dense share, not only those that
	// could be kept at the matcher's thresholds: TestLogoCurve decides
	// on the same fits at lower ones.
	denseAll bool
	pool     sync.Pool // of *scratch
}

var _ matchers.CandidateMatcher = (*Matcher)(nil)

// New indexes the logo features of every active mark in marks.
func New(marks []*matchers.Mark, o Options) (*Matcher, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	if o.Disabled {
		marks = nil
	}
	ix, skipped := newIndex(marks, o.MaxLogoKeypoints, o.MaxIndexed)
	m := &Matcher{o: o, ix: ix, skipped: skipped, vp: verifyParams{
		minInliers: o.MinInliers, tolerance: o.Tolerance, maxAngle: o.MaxAngle * math.Pi / 180,
		minWidth: o.MinWidth, maxWidth: o.MaxWidth, iterations: o.Iterations, maxIterations: o.MaxIterations, minCoverage: o.MinCoverage,
		minDistinct: o.MinDistinct,
	}}
	m.pool.New = func() any { return ix.newScratch() }
	return m, nil
}

// Name returns "logo".
func (m *Matcher) Name() string { return Name }

// Logos returns the number of logos indexed and of logos left out because
// the index was full.
func (m *Matcher) Logos() (indexed, skipped int) { return len(m.ix.logos), m.skipped }

// IndexBytes is the index's approximate memory.
func (m *Matcher) IndexBytes() int { return m.ix.bytes() }

// Detection is one logo found in one listing image.
type Detection struct {
	// Image is the listing image's position; Mark the mark whose logo it is.
	Image int
	Mark  *matchers.Mark
	// Logo is the logo's reference (URL or file name).
	Logo string
	// Inliers is the number of distinct keypoint matches the fit explains.
	Inliers int
	// Coverage is Inliers over the logo's keypoints the fit should make
	// visible.
	Coverage float64
	// Rival is the most inliers of another logo fitted over the same
	// region (0 if none).
	Rival int
	// Distinct is the inliers' summed weight: each counts 1/n, n being the
	// logos its listing descriptor was near to (see Options.MinDistinct).
	Distinct float64
	// Region is the logo's box in the image.
	Region domain.Region
	// Plane is the colour plane the logo was found in ("cb" or "cr",
	// see Options.ColourMinDense), "" for the luma.
	Plane string
	// Scale and Angle (degrees) are the fit's.
	Scale, Angle float64
	// Partial is set when the fit explains less of the logo than
	// Options.MinCoverage but at least MinPartialCoverage, or its
	// evenness under Options.MinEvenness.
	Partial bool
	// Evenness is the share of the logo's expected keypoints in parts of
	// it the fit explains at least a third as well as the whole (see
	// Options.MinEvenness).
	Evenness float64
	// Guided is the evenness of the logo's keypoints confirmed in place
	// at the fit's pose (see Options.MinGuidedEvenness).
	Guided float64
	// Dense is the share of the logo's keypoints confirmed by the
	// photo's pixels at the fit's pose (see Options.MinDenseShare); -1
	// when not measured: the features carry no pixels, the check is off,
	// or the fit is too weak to be kept whatever its share.
	Dense float64
	// DenseEvenness is the share of the logo's keypoint positions in
	// parts of it the pixels confirm at 0.4 or more (see
	// Options.MinDenseEvenness); -1 when Dense is.
	DenseEvenness float64
	// RivalDense is the dense share of the strongest rival (see
	// Options.RivalDenseMargin); -1 when there is none or it was not
	// measured.
	RivalDense float64
	// Apart is the share of the logo's keypoint positions its rivals do
	// not share that the pixels confirm, the least over its rivals, and
	// RivalApart the most of the rivals' own (see apartShare); -1 when
	// not measured.
	Apart, RivalApart float64
	// LumaDense is, for a fit found in a colour plane (Plane), the
	// share of its logo's keypoints the image's luma confirms at the
	// fit's pose (see Options.ColourMinDense); -1 when not measured.
	LumaDense float64
}

// Detect returns the logos found in each of the listing's images, whole
// detections before partial ones (Detection.Partial), most inliers first
// (ties by image, then mark id, then logo).
func (m *Matcher) Detect(ctx context.Context, l *matchers.Listing) ([]Detection, error) {
	var out []Detection
	for ii := range l.Images {
		fits, err := m.fits(ctx, &l.Images[ii])
		if err != nil {
			return nil, err
		}
		out = append(out, m.o.decide(fits)...)
		cs, err := m.colour(ctx, &l.Images[ii], fits)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	sortDetections(out)
	return out, nil
}

// colourPlanes names the planes of matchers.Features.Colour in order.
var colourPlanes = [...]string{"cb", "cr"}

// colour returns the whole detections found in the colour planes of
// image img that the plane's own pixels confirm at ColourMinDense or
// more, over no region of the luma's fits (luma, kept or not) nor of
// another plane's stronger one (see Options.ColourMinDense).
func (m *Matcher) colour(ctx context.Context, img *matchers.ListingImage, luma []Detection) ([]Detection, error) {
	f := img.Features
	if m.o.ColourMinDense < 0 || f == nil || len(f.Colour) == 0 {
		return nil, nil
	}
	planes, err := m.colourFits(ctx, img)
	if err != nil {
		return nil, err
	}
	return m.o.colourKept(luma, planes), nil
}

// colourFits returns the fits of each colour plane of img (in
// colourPlanes' order), each that could be kept (confirmed by its
// plane's pixels at ColourMinDense or more, with ColourMinInliers) with
// LumaDense measured on the luma's pixels: what the evidence says of a
// print the luma hardly shows.
func (m *Matcher) colourFits(ctx context.Context, img *matchers.ListingImage) ([][]Detection, error) {
	f := img.Features
	planes := make([][]Detection, len(colourPlanes))
	for p, c := range f.Colour[:min(len(f.Colour), len(colourPlanes))] {
		if c == nil || c.Pixels == nil {
			continue
		}
		plane := *img
		plane.Features = c
		fits, poses, err := m.posedFits(ctx, &plane, m.o.ColourMinInliers)
		if err != nil {
			return nil, err
		}
		for i := range fits {
			fits[i].LumaDense = -1
			if (fits[i].Dense >= m.o.ColourMinDense && fits[i].Inliers >= m.o.ColourMinInliers || m.denseAll) && fits[i].Dense >= 0 && f.Pixels != nil {
				lr := &poses[i].lr
				r, _ := denseShare(f.Pixels, lr, m.ix.pts[lr.first:lr.first+lr.n], m.ix.desc[lr.first:lr.first+lr.n], &poses[i].pl)
				fits[i].LumaDense = r.share
			}
		}
		planes[p] = fits
	}
	return planes, nil
}

// colourKept decides on the fits of each colour plane of one image
// (planes, in colourPlanes' order) as on a photo of their own, and keeps
// the whole detections their plane's pixels confirm at ColourMinDense or
// more, the strongest of those overlapping, over no region of the luma's
// fits (luma: every fit of the image's luma, kept or not). The colour
// planes are for a print the luma cannot see: where the luma fitted a
// logo, it has seen the print, and its decision stands (a look-alike it
// turned away as another brand's, the chroma would confirm on the
// shared parts it sees coarsely; two of 2,000 sellers' photos did
// without this).
func (o Options) colourKept(luma []Detection, planes [][]Detection) []Detection {
	if o.ColourMinDense < 0 {
		return nil
	}
	var found []Detection
	for p, fits := range planes[:min(len(planes), len(colourPlanes))] {
		for _, d := range o.decide(fits) {
			if d.Partial || d.Dense < o.ColourMinDense || d.Inliers < o.ColourMinInliers {
				continue
			}
			d.Plane = colourPlanes[p]
			found = append(found, d)
		}
	}
	var out []Detection
	for _, d := range suppress(found) {
		if !slices.ContainsFunc(luma, func(l Detection) bool { return sameRegion(l.Region, d.Region) }) {
			out = append(out, d)
		}
	}
	return out
}

// fits returns the fits of the candidate logos in one image that pass the
// geometric checks, whatever their inliers, coverage and rivals: the
// decision on them is decide's, on all the fits of the image together.
func (m *Matcher) fits(ctx context.Context, img *matchers.ListingImage) ([]Detection, error) {
	fits, _, err := m.posedFits(ctx, img, m.o.MinInliers)
	return fits, err
}

// posedFits is fits, with each fit's pose. Dense verification runs on
// fits of keep inliers or more (and as decide needs it), keep being the
// fewest a fit of img can be kept with: MinInliers, or a colour plane's
// ColourMinInliers.
func (m *Matcher) posedFits(ctx context.Context, img *matchers.ListingImage, keep int) ([]Detection, []fitPose, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	f := img.Features
	if len(m.ix.logos) == 0 || f == nil || len(f.Desc) == 0 {
		return nil, nil, nil
	}
	sc := m.pool.Get().(*scratch)
	logos, pairs := m.candidates(sc, f)
	m.pool.Put(sc)
	scales := levelScales(f)
	vp := m.vp
	vp.minInliers, vp.minCoverage, vp.minDistinct = rivalInliers, 0, 0
	var fits []Detection
	var poses []fitPose
	var grid *pointGrid
	var ts *scratch
	var ties []tieCount
	defer func() {
		if ts != nil {
			m.pool.Put(ts)
		}
	}()
	for i, id := range logos {
		lr := m.ix.logos[id]
		pts := m.ix.pts[lr.first : lr.first+lr.n]
		fit, ok := verify(pairs[i], lr, pts, scales, f.W, f.H, vp, uint64(id)+m.seed)
		if !ok {
			continue
		}
		if m.twoStage() && fit.inliers >= m.o.MinInliers && fit.coverage >= m.o.MinPartialCoverage {
			// A fit that can be kept is weighed as one stage weighs it
			// (see oneStageWeights).
			if ties == nil {
				ts = m.pool.Get().(*scratch)
				ties = make([]tieCount, len(f.Desc))
			}
			m.ix.oneStageWeights(ts, f, pairs[i], fit.inlierIdx, m.o.MaxDistance, m.o.Ratio, ties)
			_, fit.weight, _ = distinct(pairs[i], fit.inlierIdx, &lr)
		}
		if grid == nil {
			grid = newPointGrid(f)
		}
		pl := place(fit.s, &lr, pairsAt(pairs[i], fit.inlierIdx))
		guided := guidedEvenness(grid, f, &lr, pts, m.ix.desc[lr.first:lr.first+lr.n], &pl, scales, m.vp.tolerance)
		// Dense verification only where it can decide: a fit too weak
		// to be kept, even as partial, is a rival at most, and a rival
		// counts by its inliers.
		dense := denseResult{share: -1, evenness: -1}
		// Its pose is kept: a fit not measured here is measured later
		// if it rivals a fit the pixels may settle (rivalDense).
		pose := fitPose{lr: lr, pl: pl}
		if f.Pixels != nil && (m.denseAll || m.o.MinDenseShare > 0 && m.o.denseDecidable(fit) && fit.inliers >= keep) {
			dense, pose.placed = denseShare(f.Pixels, &lr, pts, m.ix.desc[lr.first:lr.first+lr.n], &pose.pl)
		}
		poses = append(poses, pose)
		fits = append(fits, Detection{
			Image: img.Index, Mark: m.ix.marks[lr.mark], Logo: lr.url, Inliers: fit.inliers, Coverage: fit.coverage,
			Distinct: fit.weight, Evenness: fit.evenness, Guided: guided, Dense: dense.share, DenseEvenness: dense.evenness, Apart: -1, RivalApart: -1, LumaDense: -1,
			Region: project(fit.s, lr, f.W, f.H),
			Scale:  fit.s.scale(), Angle: fit.s.angle() * 180 / math.Pi,
		})
	}
	// Another logo fitted over the same region is a rival (see
	// Options.MaxRival).
	for i := range fits {
		fits[i].RivalDense = -1
		for j := range fits {
			if i != j && sameRegion(fits[i].Region, fits[j].Region) {
				fits[i].Rival = max(fits[i].Rival, fits[j].Inliers)
			}
		}
	}
	if m.o.RivalDenseMargin > 0 || m.o.RivalApartMargin > 0 || m.denseAll {
		m.rivalDense(f, fits, poses)
	}
	return fits, poses, nil
}

// fitPose is what places a fit's logo in the photo: the logo, its
// placement at the fit's pose, and once dense verification has run,
// where each keypoint was placed.
type fitPose struct {
	lr     logoRef
	pl     placement
	placed []placedPoint
}

// measure runs dense verification on fit i (poses[i]) if it has not run.
func (m *Matcher) measure(f *matchers.Features, fits []Detection, poses []fitPose, i int) {
	p := &poses[i]
	if p.placed != nil || f.Pixels == nil {
		return
	}
	pts := m.ix.pts[p.lr.first : p.lr.first+p.lr.n]
	var r denseResult
	r, p.placed = denseShare(f.Pixels, &p.lr, pts, m.ix.desc[p.lr.first:p.lr.first+p.lr.n], &p.pl)
	fits[i].Dense, fits[i].DenseEvenness = r.share, r.evenness
}

// wholeButRival reports whether fit d passes every check of a whole
// detection but its rivals' and distinctiveness's, and has half
// MinDistinct: what settling its rivals could make whole.
func (o Options) wholeButRival(d *Detection) bool {
	return d.Inliers >= o.MinInliers && d.Distinct >= o.MinDistinct/2 && !o.partial(d)
}

// rejectedByRival reports whether fit d's rival or distinctiveness
// rejects it, unless settled.
func (o Options) rejectedByRival(d *Detection) bool {
	return d.Rival > 0 && float64(d.Rival) > o.MaxRival*float64(d.Inliers) || d.Distinct < o.MinDistinct
}

// rivalDense sets each fit's RivalDense, the highest dense share of the
// fits over its region, and Apart and RivalApart, the shares confirmed
// over the positions each logo does not share with the other
// (apartShare; the least of the fit's over its rivals and the most of
// theirs), measuring the rivals' shares not measured yet. In
// production only for the fits that settling could keep: a rival or
// their distinctiveness rejects them, and RivalDense for those the
// pixels confirm at RivalMinDense or more, Apart for those passing
// every other check of a whole detection and not settled by RivalDense
// already; on the curve (denseAll) for every fit with a rival.
func (m *Matcher) rivalDense(f *matchers.Features, fits []Detection, poses []fitPose) {
	o := &m.o
	for i := range fits {
		d := &fits[i]
		if d.Rival == 0 || d.Dense < 0 && !m.denseAll {
			continue
		}
		rejected := o.rejectedByRival(d)
		whole := rejected && o.wholeButRival(d)
		dense := m.denseAll || o.RivalDenseMargin > 0 && d.Dense >= o.RivalMinDense && (whole || float64(d.Rival) > o.MaxRival*float64(d.Inliers))
		if dense {
			best := -1.0
			for j := range fits {
				if i == j || !sameRegion(d.Region, fits[j].Region) {
					continue
				}
				m.measure(f, fits, poses, j)
				if fits[j].Dense < 0 {
					// A rival the pixels could not be read for: nothing settled.
					best = 2
					break
				}
				best = max(best, fits[j].Dense)
			}
			if best <= 1 {
				d.RivalDense = best
			}
		}
		if !m.denseAll && (o.RivalApartMargin <= 0 || !whole || o.settledByDense(d)) || poses[i].placed == nil {
			continue
		}
		apart, rivalApart := 2.0, -1.0
		for j := range fits {
			if i == j || !sameRegion(d.Region, fits[j].Region) {
				continue
			}
			m.measure(f, fits, poses, j)
			a, b := &poses[i], &poses[j]
			if b.placed == nil || fits[j].Dense < 0 {
				apart = -1
				break
			}
			ad, bd := m.ix.desc[a.lr.first:a.lr.first+a.lr.n], m.ix.desc[b.lr.first:b.lr.first+b.lr.n]
			sa := apartShare(m.ix.pts[a.lr.first:a.lr.first+a.lr.n], ad, a.placed, bd, b.placed)
			if sa < o.RivalApartMin && !m.denseAll {
				// Not settled whatever the rival's own parts.
				apart = -1
				break
			}
			sb := apartShare(m.ix.pts[b.lr.first:b.lr.first+b.lr.n], bd, b.placed, ad, a.placed)
			if sa < 0 || sb < 0 {
				apart = -1
				break
			}
			apart, rivalApart = min(apart, sa), max(rivalApart, sb)
		}
		if apart >= 0 && apart <= 1 {
			d.Apart, d.RivalApart = apart, rivalApart
		}
	}
}

// candidates returns the logos to verify in an image and their pairs, in
// one stage or two (see Options.Shortlist).
func (m *Matcher) candidates(sc *scratch, f *matchers.Features) ([]uint32, [][]pair) {
	o := &m.o
	if !m.twoStage() {
		return m.ix.candidates(sc, f, o.MaxDistance, o.Ratio, o.MaxCandidates, rivalInliers, o.MinWidth, o.MaxWidth)
	}
	pr := probe{tabs: spreadTables(o.ShortlistTables), noPairs: true, ties: true, near: max(0, o.ShortlistNearest), margin: o.ShortlistMargin,
		minVotes: float32(max(0, o.ShortlistMinVotes))}
	short, _ := m.ix.candidatesIn(sc, f, pr, o.MaxDistance, o.Ratio, o.Shortlist, shortlistMinPairs, o.MinWidth, o.MaxWidth)
	clear(sc.allow)
	for _, l := range short {
		sc.allow[l] = true
	}
	slices.Sort(short)
	return m.ix.shortlistPairs(sc, f, short, true, max(1, shortlistTieScale*4/float32(o.ShortlistTables)), o.MaxDistance, o.Ratio, o.MaxCandidates, rivalInliers, o.MinWidth, o.MaxWidth)
}

// twoStage reports whether m matches in two stages: with a shortlist
// (Options.Shortlist) smaller than the logos indexed. With as many logos
// as the shortlist or fewer, every logo would be shortlisted and the
// second stage would pair the photo with all of them, finding exactly
// the one stage's pairs and weights after a first stage for nothing.
func (m *Matcher) twoStage() bool {
	return m.o.Shortlist > 0 && len(m.ix.logos) > m.o.Shortlist
}

// shortlistMinPairs is the fewest pairs a logo needs in the shortlist
// stage: it reads a quarter of the tables, so a logo has about a
// third of its pairs there.
const shortlistMinPairs = 3

// denseDecidable reports whether a fit's dense share can decide: it is
// decidable, or, with rivals settled by the pixels (RivalDenseMargin),
// would be with half MinDistinct.
func (o Options) denseDecidable(fit fitResult) bool {
	if o.RivalDenseMargin > 0 || o.RivalApartMargin > 0 {
		return fit.inliers >= o.MinInliers && fit.coverage >= o.MinPartialCoverage && fit.weight >= o.MinDistinct/2
	}
	return o.decidable(fit)
}

// decidable reports whether a fit passes the thresholds that keep a fit
// at all, whole or partial, before the checks of its evenness, its
// confirmation in place and by the pixels, and its rivals.
func (o Options) decidable(fit fitResult) bool {
	return fit.inliers >= o.MinInliers && fit.coverage >= o.MinPartialCoverage && fit.weight >= o.MinDistinct
}

// decide keeps the fits of one image that pass o's thresholds, then the
// strongest of those overlapping (suppress).
func (o Options) decide(fits []Detection) []Detection {
	var kept []Detection
	for _, d := range fits {
		// The pixels settle a rival: this fit is confirmed clearly
		// better than every fit over its region, as a whole or over
		// the parts it does not share with them.
		settled := o.settledByDense(&d) ||
			o.RivalApartMargin > 0 && o.MinDenseShare > 0 && d.Apart >= o.RivalApartMin && d.RivalApart >= 0 &&
				d.Apart >= d.RivalApart+o.RivalApartMargin
		if d.Inliers >= o.MinInliers && d.Coverage >= o.MinPartialCoverage &&
			(d.Distinct >= o.MinDistinct || settled && d.Distinct >= o.MinDistinct/2) &&
			(float64(d.Rival) <= o.MaxRival*float64(d.Inliers) || settled) {
			d.Partial = o.partial(&d)
			if d.Partial && d.Distinct < o.MinPartialDistinct {
				continue
			}
			kept = append(kept, d)
		}
	}
	return suppress(kept)
}

// settledByDense reports whether the pixels settle fit d's rivals over
// the whole logo (RivalDenseMargin).
func (o Options) settledByDense(d *Detection) bool {
	return o.RivalDenseMargin > 0 && o.MinDenseShare > 0 && d.Dense >= o.RivalMinDense && d.RivalDense >= 0 &&
		d.Dense >= d.RivalDense+o.RivalDenseMargin
}

// partial reports whether a fit kept is a partial detection: it explains
// less of the logo than MinCoverage, or too unevenly, or the pixels
// confirm too little of it or too unevenly.
func (o Options) partial(d *Detection) bool {
	even, guided := o.MinEvenness, o.MinGuidedEvenness
	if o.strongDense(d) {
		even, guided = even-strongDenseRelief, guided-strongDenseRelief
	}
	return d.Coverage < o.MinCoverage || (o.MinEvenness > 0 && d.Evenness < even) ||
		(o.MinGuidedEvenness > 0 && d.Guided < guided) ||
		(o.MinDenseShare > 0 && d.Dense >= 0 && d.Dense < o.MinDenseShare) ||
		(o.MinDenseShare > 0 && o.MinDenseEvenness > 0 && d.DenseEvenness >= 0 && d.DenseEvenness < o.MinDenseEvenness)
}

// strongDense reports whether the pixels confirm fit d strongly and
// evenly: at StrongDense or more, with a dense evenness of
// strongDenseEvenness or more.
func (o Options) strongDense(d *Detection) bool {
	return o.StrongDense > 0 && o.MinDenseShare > 0 && d.Dense >= o.StrongDense && d.DenseEvenness >= strongDenseEvenness
}

// strongDenseEvenness is the dense evenness of a fit the pixels confirm
// strongly (Options.StrongDense), and strongDenseRelief how much lower
// its keypoints' evenness checks are then.
const (
	strongDenseEvenness = 0.9
	strongDenseRelief   = 0.15
)

// sortDetections orders detections whole before partial, then most
// inliers first, ties by image, then mark id, then logo.
func sortDetections(out []Detection) {
	slices.SortStableFunc(out, func(a, b Detection) int {
		if c := strongerFirst(a, b); c != 0 {
			return c
		}
		if a.Image != b.Image {
			return a.Image - b.Image
		}
		if c := cmpString(a.Mark.MarkID, b.Mark.MarkID); c != 0 {
			return c
		}
		return cmpString(a.Logo, b.Logo)
	})
}

// strongerFirst orders whole detections before partial ones, then most
// inliers first.
func strongerFirst(a, b Detection) int {
	if a.Partial != b.Partial {
		if a.Partial {
			return 1
		}
		return -1
	}
	return b.Inliers - a.Inliers
}

// rivalInliers is the fewest inliers of a fit that counts as a rival.
const rivalInliers = 8

// suppress keeps, of the detections in one image whose regions overlap by
// more than half of the smaller, the one explaining most keypoints: two
// logos sharing an emblem or a typeface both verify on the one shown, and
// the logo it is explains more of it (as imagematch keeps the nearest
// source only). A whole detection is preferred to a partial one.
func suppress(ds []Detection) []Detection {
	slices.SortStableFunc(ds, strongerFirst)
	var kept []Detection
	for _, d := range ds {
		ok := true
		for _, k := range kept {
			if sameRegion(d.Region, k.Region) {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, d)
		}
	}
	return kept
}

// sameRegion reports whether two fits are over the same part of the
// photo: their boxes share more than half of the smaller one, or each
// box holds the other's centre (two logos sharing an emblem, fitted on
// it, are boxed by their own extents, which can overlap by a hair under
// half while being centred on the same print).
func sameRegion(a, b domain.Region) bool {
	if overlap(a, b) > 0.5 {
		return true
	}
	in := func(r, c domain.Region) bool {
		x, y := 2*c.X+c.W, 2*c.Y+c.H // twice the centre
		return x >= 2*r.X && x <= 2*(r.X+r.W) && y >= 2*r.Y && y <= 2*(r.Y+r.H)
	}
	return in(a, b) && in(b, a)
}

// overlap is the area two regions share over the smaller one's area.
func overlap(a, b domain.Region) float64 {
	w := min(a.X+a.W, b.X+b.W) - max(a.X, b.X)
	h := min(a.Y+a.H, b.Y+b.H) - max(a.Y, b.Y)
	if w <= 0 || h <= 0 {
		return 0
	}
	return float64(w*h) / float64(max(1, min(a.W*a.H, b.W*b.H)))
}

// levelScales are the distinct pyramid scales of an image's keypoints.
func levelScales(f *matchers.Features) []float32 {
	var out []float32
	for _, p := range f.Points {
		if !slices.Contains(out, p.Scale) {
			out = append(out, p.Scale)
		}
	}
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// project is the box, in the image, of the logo's keypoint box under s,
// clipped to the w×h image.
func project(s similarity, lr logoRef, w, h int) domain.Region {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, c := range [4][2]float32{{lr.x0, lr.y0}, {lr.x1, lr.y0}, {lr.x1, lr.y1}, {lr.x0, lr.y1}} {
		x, y := s.apply(float64(c[0]), float64(c[1]))
		x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
	}
	ix0, iy0 := max(0, int(math.Floor(x0))), max(0, int(math.Floor(y0)))
	ix1, iy1 := min(w, int(math.Ceil(x1))), min(h, int(math.Ceil(y1)))
	return domain.Region{X: ix0, Y: iy0, W: max(0, ix1-ix0), H: max(0, iy1-iy0), ImageW: w, ImageH: h}
}

// score maps a whole detection's inliers to a signal strength: 0.75 at
// MinInliers, rising to 1 at three times as many. A whole detection has
// passed every check (inliers, coverage, distinctiveness, evenness,
// confirmation in place and by the pixels, rivals), and is strong
// evidence of the logo; how many keypoints agree says how clearly it is
// seen. Like any use of a mark it needs a cue, a low price or the like
// to reach a complaint (matchers/score: use alone scores at most Base
// times this). The floor was 0.6 before dense verification: a verified
// logo with a cue word then fell short of the threshold at 16–24
// inliers (docs/BENCHMARKS.md, "A whole logo's strength").
func (m *Matcher) score(inliers int) float64 {
	x := float64(inliers-m.o.MinInliers) / float64(2*m.o.MinInliers)
	return 0.75 + 0.25*min(max(x, 0), 1)
}

// partialScore maps a partial detection's coverage to a signal strength:
// 0.5 at MinPartialCoverage rising to 0.6 at MinCoverage, under a whole
// detection's 0.75. Below every threshold alone (a use scores at most
// Base without aggravation), it counts only when the scorer finds the
// listing in context (matchers/score).
func (m *Matcher) partialScore(coverage float64) float64 {
	lo, hi := m.o.MinPartialCoverage, m.o.MinCoverage
	x := 1.0
	if hi > lo {
		x = (coverage - lo) / (hi - lo)
	}
	return 0.5 + 0.1*min(max(x, 0), 1)
}

// signals turns detections into one signal per mark found.
func (m *Matcher) signals(l *matchers.Listing, ds []Detection) (ids []string, sigs map[string]*matchers.Signal) {
	sigs = map[string]*matchers.Signal{}
	// One evidence per (mark, image): the detection with most inliers,
	// which comes first.
	seen := map[string]map[int]bool{}
	for _, d := range ds {
		id := d.Mark.MarkID
		s := sigs[id]
		if s == nil {
			s = &matchers.Signal{}
			sigs[id], seen[id] = s, map[int]bool{}
			ids = append(ids, id)
		}
		if seen[id][d.Image] || len(s.Evidence) >= m.o.MaxEvidence {
			continue
		}
		seen[id][d.Image] = true
		url := ""
		if d.Image >= 0 && d.Image < len(l.Images) {
			url = l.Images[d.Image].URL
		}
		r := d.Region
		e := domain.Evidence{
			Matcher: Name, Score: m.score(d.Inliers),
			Field:  fmt.Sprintf("images[%d]", d.Image),
			Match:  url,
			Detail: fmt.Sprintf("logo %s found in the photo at %d,%d %d×%d (%d matching keypoints, scale %.2f, rotated %.0f°)", d.Logo, r.X, r.Y, r.W, r.H, d.Inliers, d.Scale, d.Angle),
			Kind:   Kind, Reference: d.Logo, Region: &r,
		}
		if d.Plane != "" {
			// Found in a colour plane: the print is about as bright as
			// what it is on, which a reviewer looking at the photo in
			// grey would not see.
			e.Detail = fmt.Sprintf("logo %s found in the photo's colour (%s plane) at %d,%d %d×%d (%d matching keypoints, scale %.2f, rotated %.0f°; %.0f%% of it confirmed in that plane, %.0f%% in the brightness alone)",
				d.Logo, strings.ToUpper(d.Plane[:1])+d.Plane[1:], r.X, r.Y, r.W, r.H, d.Inliers, d.Scale, d.Angle, 100*d.Dense, 100*max(d.LumaDense, 0))
		}
		if d.Partial {
			e.Score, e.Kind = m.partialScore(d.Coverage), PartialKind
			e.Detail = fmt.Sprintf("part of logo %s found in the photo at %d,%d %d×%d (%d matching keypoints, %.0f%% of the logo's, scale %.2f, rotated %.0f°)", d.Logo, r.X, r.Y, r.W, r.H, d.Inliers, 100*d.Coverage, d.Scale, d.Angle)
		}
		s.Evidence = append(s.Evidence, e)
		s.Score = max(s.Score, e.Score)
	}
	slices.Sort(ids)
	return ids, sigs
}

// Candidates returns the marks whose logos are found in the listing's
// images, sorted by id.
func (m *Matcher) Candidates(ctx context.Context, l *matchers.Listing) ([]string, error) {
	ids, _, err := m.MatchCandidates(ctx, l)
	return ids, err
}

// MatchCandidates returns the marks whose logos are found and their
// signals, in one pass.
func (m *Matcher) MatchCandidates(ctx context.Context, l *matchers.Listing) ([]string, []matchers.Signal, error) {
	ds, err := m.Detect(ctx, l)
	if err != nil {
		return nil, nil, err
	}
	ids, sigs := m.signals(l, ds)
	out := make([]matchers.Signal, len(ids))
	for i, id := range ids {
		out[i] = *sigs[id]
	}
	return ids, out, nil
}

// Match returns one signal per mark in marks: the logos of that mark found
// in the listing's images.
func (m *Matcher) Match(ctx context.Context, l *matchers.Listing, marks []*matchers.Mark) ([]matchers.Signal, error) {
	out := make([]matchers.Signal, len(marks))
	ds, err := m.Detect(ctx, l)
	if err != nil {
		return nil, err
	}
	_, sigs := m.signals(l, ds)
	for i, mk := range marks {
		if mk != nil && mk.Mark != nil {
			if s := sigs[mk.MarkID]; s != nil {
				out[i] = *s
			}
		}
	}
	return out, nil
}
