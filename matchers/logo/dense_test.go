package logo

import (
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/matchers"
)

// TestPixelsDescribeAsExtracted holds the pyramid rebuilt from the kept
// pixels to the features: at each keypoint of a listing image,
// DescribeMapped with the keypoint's level's own map gives the
// descriptor the extraction took there, bit for bit.
func TestPixelsDescribeAsExtracted(t *testing.T) {
	logos := inventLogos(t, 21, 2)
	img, _ := generate.LogoScene(rand.New(rand.NewPCG(5, 5)), logos.imgs[0], generate.SceneOptions{})
	g := lumaOf(t, encodeJPEG(t, img, 40))
	f := NewExtractor(ExtractorOptions{Pixels: true}).Listing(g)
	if f.Pixels == nil {
		t.Fatal("no pixels kept with ExtractorOptions.Pixels")
	}
	plain := NewExtractor(ExtractorOptions{}).Listing(g)
	if plain.Pixels != nil {
		t.Fatal("pixels kept without ExtractorOptions.Pixels")
	}
	if len(plain.Points) != len(f.Points) {
		t.Fatalf("%d keypoints with pixels kept, %d without", len(f.Points), len(plain.Points))
	}
	for i, p := range f.Points {
		if plain.Points[i] != p || plain.Desc[i] != f.Desc[i] {
			t.Fatalf("keypoint %d differs with pixels kept", i)
		}
		d, ok := describeAt(f.Pixels, p)
		if !ok {
			t.Fatalf("keypoint %d at (%.1f, %.1f) scale %.2f: not described", i, p.X, p.Y, p.Scale)
		}
		if d != f.Desc[i] {
			t.Fatalf("keypoint %d: described %d bits from its extracted descriptor", i, hamming(&d, &f.Desc[i]))
		}
	}
	// Released, it describes nothing; released again after another
	// image took its memory from the pool, the other image's pyramid is
	// untouched.
	px := f.Pixels
	px.Release()
	p0 := f.Points[0]
	if _, ok := describeAt(px, p0); ok {
		t.Error("a released pyramid described a patch")
	}
	f2 := NewExtractor(ExtractorOptions{Pixels: true}).Listing(g)
	defer f2.Pixels.Release()
	px.Release()
	for i, p := range f2.Points {
		if d, ok := describeAt(f2.Pixels, p); !ok || d != f2.Desc[i] {
			t.Fatalf("keypoint %d of the next image: not described as extracted after a stale release", i)
		}
	}
}

// TestFitHomography recovers a known homography from exact pairs and
// from pairs with a few wrong ones mixed in, and keeps the similarity
// when the inliers cannot say.
func TestFitHomography(t *testing.T) {
	want := homography{1.1, 0.12, 40, -0.08, 0.95, 60, 0.0004, -0.0002, 1}
	r := rand.New(rand.NewPCG(1, 2))
	var ps []pair
	for range 40 {
		x, y := r.Float64()*200, r.Float64()*100
		u, v := want.apply(x, y)
		ps = append(ps, pair{r: matchers.Keypoint{X: float32(x), Y: float32(y)}, l: matchers.Keypoint{X: float32(u), Y: float32(v)}})
	}
	check := func(name string, h homography) {
		t.Helper()
		for _, c := range [][2]float64{{0, 0}, {200, 0}, {0, 100}, {200, 100}, {100, 50}} {
			gx, gy := h.apply(c[0], c[1])
			wx, wy := want.apply(c[0], c[1])
			if d := math.Hypot(gx-wx, gy-wy); d > 0.5 {
				t.Errorf("%s: (%g, %g) maps %.2f px from the truth", name, c[0], c[1], d)
			}
		}
	}
	h, ok := fitHomography(ps)
	if !ok {
		t.Fatal("exact pairs: no homography")
	}
	check("exact", h)
	lr := &logoRef{x0: 0, y0: 0, x1: 200, y1: 100}
	s := similarity{a: 1.05, b: -0.02, tx: 45, ty: 58}
	// Five pairs 30 pixels off: the refit without them is exact again.
	noisy := append([]pair(nil), ps...)
	for i := range 5 {
		noisy[i].l.X += 30
	}
	h, ok = refineHomography(noisy, lr, s)
	if !ok {
		t.Fatal("pairs with outliers: no homography")
	}
	check("refined", h)
	if _, ok := fitHomography(ps[:3]); ok {
		t.Error("three pairs gave a homography")
	}
	if _, ok := refineHomography(ps[:minHomographyPairs-1], lr, s); ok {
		t.Error("fewer pairs than minHomographyPairs gave a homography")
	}
	// Collinear pairs are degenerate.
	var line []pair
	for i := range 20 {
		x := float32(i * 10)
		line = append(line, pair{r: matchers.Keypoint{X: x, Y: 2 * x}, l: matchers.Keypoint{X: x + 5, Y: 2*x + 5}})
	}
	if _, ok := fitHomography(line); ok {
		t.Error("collinear pairs gave a homography")
	}
	// A homography far from the similarity (its corners moved by more
	// than maxHomographyShift of the diagonal) is not used.
	if _, ok := refineHomography(ps, lr, similarity{a: 1, tx: 400, ty: 400}); ok {
		t.Error("a homography far from the fit's similarity was kept")
	}
}

// TestDenseShare: on a photo showing a logo, the logo's keypoints are
// confirmed by the photo's pixels at its fit's pose, and those of another
// logo fitted at the same place are not.
func TestDenseShare(t *testing.T) {
	logos := inventLogos(t, 31, 12)
	m, err := New(marksOf(logos), Options{})
	if err != nil {
		t.Fatal(err)
	}
	off, err := New(marksOf(logos), Options{MinDenseShare: -1})
	if err != nil {
		t.Fatal(err)
	}
	found, checked := 0, 0
	for i := range 6 {
		img, _ := generate.LogoScene(rand.New(rand.NewPCG(7, uint64(i))), logos.imgs[i], generate.SceneOptions{MinShare: 0.25, MaxShare: 0.35})
		f := pixelExtractor.Listing(lumaOf(t, encodeJPEG(t, img, 40)))
		fits, err := m.fits(t.Context(), &matchers.ListingImage{Features: f})
		if err != nil {
			t.Fatal(err)
		}
		plain := &matchers.Features{W: f.W, H: f.H, Points: f.Points, Desc: f.Desc}
		noPix, err := m.fits(t.Context(), &matchers.ListingImage{Features: plain})
		if err != nil {
			t.Fatal(err)
		}
		// The check off: nothing measured, pixels or not.
		unchecked, err := off.fits(t.Context(), &matchers.ListingImage{Features: f})
		if err != nil {
			t.Fatal(err)
		}
		f.Pixels.Release()
		for _, d := range append(noPix, unchecked...) {
			if d.Dense != -1 || d.DenseEvenness != -1 {
				t.Errorf("photo %d: without pixels or with the check off, dense share %.2f (evenness %.2f) measured", i, d.Dense, d.DenseEvenness)
			}
		}
		for _, d := range fits {
			if d.Mark.MarkID != marksOf(logos)[i].MarkID {
				continue
			}
			checked++
			t.Logf("photo %d: its logo's dense share %.2f, evenness %.2f", i, d.Dense, d.DenseEvenness)
			// Confirmed, and over every part of the logo.
			if d.Dense >= 0.45 && d.DenseEvenness >= 0.7 {
				found++
			}
		}
	}
	if checked < 5 || found < checked-1 {
		t.Errorf("the logo shown confirmed (dense share ≥ 0.45, evenness ≥ 0.7) in %d of %d photos where it was fitted (of 6)", found, checked)
	}
	// Another logo placed at the shown logo's pose: its keypoints fall on
	// the shown logo's pixels and are not confirmed.
	img, _ := generate.LogoScene(rand.New(rand.NewPCG(7, 0)), logos.imgs[0], generate.SceneOptions{MinShare: 0.25, MaxShare: 0.35})
	f := pixelExtractor.Listing(lumaOf(t, encodeJPEG(t, img, 40)))
	defer f.Pixels.Release()
	fits, _ := m.fits(t.Context(), &matchers.ListingImage{Features: f})
	var pose *Detection
	for k := range fits {
		if fits[k].Mark.MarkID == "m00000" {
			pose = &fits[k]
		}
	}
	if pose == nil {
		t.Fatal("logo 0 not fitted in its photo")
	}
	s := similarity{a: pose.Scale * math.Cos(pose.Angle*math.Pi/180), b: pose.Scale * math.Sin(pose.Angle*math.Pi/180)}
	// Each other logo at logo 0's scale and angle, its box centred on
	// logo 0's region.
	for j := 1; j < 4; j++ {
		lr := m.ix.logos[j]
		cx, cy := float64(lr.x0+lr.x1)/2, float64(lr.y0+lr.y1)/2
		px, py := float64(pose.Region.X)+float64(pose.Region.W)/2, float64(pose.Region.Y)+float64(pose.Region.H)/2
		s.tx, s.ty = px-(s.a*cx-s.b*cy), py-(s.b*cx+s.a*cy)
		pts := m.ix.pts[lr.first : lr.first+lr.n]
		pl := placement{s: s}
		r, _ := denseShare(f.Pixels, &lr, pts, m.ix.desc[lr.first:lr.first+lr.n], &pl)
		share := r.share
		t.Logf("logo %d over logo 0: dense share %.2f", j, share)
		if share > 0.3 {
			t.Errorf("logo %d placed over logo 0: dense share %.2f, want ≤ 0.3", j, share)
		}
	}
}

// TestPartsEvenness: the share of positions in parts confirmed at 0.4 or
// more, parts under denseMinPart positions left out.
func TestPartsEvenness(t *testing.T) {
	for _, c := range []struct {
		name  string
		parts [][2]int
		want  float64
	}{
		{"every part confirmed", [][2]int{{8, 10}, {20, 30}, {5, 12}}, 1},
		{"half the positions in a part barely confirmed", [][2]int{{10, 20}, {3, 20}}, 0.5},
		{"a part at 0.4 exactly is confirmed", [][2]int{{4, 10}, {0, 30}}, 0.25},
		{"small parts left out", [][2]int{{0, 7}, {0, 5}, {9, 10}}, 1},
		{"no part large enough", [][2]int{{0, 7}, {1, 3}}, 1},
		{"nothing confirmed", [][2]int{{3, 10}, {0, 40}}, 0},
	} {
		if got := partsEvenness(c.parts); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: evenness %.3f, want %.3f", c.name, got, c.want)
		}
	}
}

// TestRivalSettledByPixels: a photo shows logo 0, and another logo is
// taken to have been fitted over the same region at the same pose with
// as many inliers, too weak to have had its pixels read (its dense share
// unmeasured). With RivalDenseMargin off the rival rejects the logo shown;
// with it, rivalDense measures the rival's share there (its keypoints
// fall on logo 0's pixels: near nothing), and the pixels settle it.
func TestRivalSettledByPixels(t *testing.T) {
	logos := inventLogos(t, 31, 12)
	on, err := New(marksOf(logos), Options{RivalDenseMargin: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	img, _ := generate.LogoScene(rand.New(rand.NewPCG(7, 1)), logos.imgs[1], generate.SceneOptions{MinShare: 0.25, MaxShare: 0.35})
	f := pixelExtractor.Listing(lumaOf(t, encodeJPEG(t, img, 40)))
	defer f.Pixels.Release()
	fits, poses, err := on.posedFits(t.Context(), &matchers.ListingImage{Features: f}, on.o.MinInliers)
	if err != nil {
		t.Fatal(err)
	}
	var shown *Detection
	var shownPose fitPose
	for k := range fits {
		if fits[k].Mark.MarkID == "m00001" {
			shown, shownPose = &fits[k], poses[k]
		}
	}
	if shown == nil || shown.Dense < 0.6 {
		t.Fatalf("logo 1 not fitted in its photo with a dense share of 0.6 or more: %+v", shown)
	}
	// Logo 2 at logo 1's scale and angle, its box centred on logo 1's
	// region, with as many inliers.
	lr := on.ix.logos[2]
	s := similarity{a: shown.Scale * math.Cos(shown.Angle*math.Pi/180), b: shown.Scale * math.Sin(shown.Angle*math.Pi/180)}
	cx, cy := float64(lr.x0+lr.x1)/2, float64(lr.y0+lr.y1)/2
	px, py := float64(shown.Region.X)+float64(shown.Region.W)/2, float64(shown.Region.Y)+float64(shown.Region.H)/2
	s.tx, s.ty = px-(s.a*cx-s.b*cy), py-(s.b*cx+s.a*cy)
	rival := *shown
	rival.Mark, rival.Logo, rival.Dense, rival.DenseEvenness = on.ix.marks[lr.mark], lr.url, -1, -1
	two := []Detection{*shown, rival}
	two[0].Rival, two[1].Rival = rival.Inliers, shown.Inliers
	whole := func(o Options, fs []Detection) bool {
		for _, d := range o.decide(fs) {
			if d.Mark.MarkID == "m00001" && !d.Partial {
				return true
			}
		}
		return false
	}
	if whole(Options{RivalDenseMargin: -1}.withDefaults(), two) {
		t.Error("the logo found whole over a rival as strong, the pixels not asked")
	}
	ps := []fitPose{shownPose, {lr: lr, pl: placement{s: s}}}
	on.rivalDense(f, two, ps)
	t.Logf("the logo shown: dense %.2f; the rival: dense %.2f (RivalDense %.2f)", two[0].Dense, two[1].Dense, two[0].RivalDense)
	if two[1].Dense < 0 || two[0].RivalDense != two[1].Dense {
		t.Fatalf("the rival's share not measured: %.2f, RivalDense %.2f", two[1].Dense, two[0].RivalDense)
	}
	if two[1].Dense > 0.3 {
		t.Errorf("another logo's keypoints over the logo shown confirmed at %.2f, want ≤ 0.3", two[1].Dense)
	}
	if !whole(on.o, two) {
		t.Errorf("the rival settled by the pixels (%.2f against %.2f), the logo not found whole", two[0].Dense, two[1].Dense)
	}
	// A rival the pixels confirm as well is not settled.
	two[0].RivalDense = two[0].Dense - 0.1
	if whole(Options{RivalApartMargin: -1}.withDefaults(), two) {
		t.Error("a rival confirmed nearly as well settled")
	}
	// Settled by the whole shares, the own parts are not measured.
	if two[0].Apart != -1 {
		t.Errorf("own parts measured (%.2f) for a fit the whole shares settle", two[0].Apart)
	}
	// Over their own parts (the two logos share none here, so all of
	// them), the logo shown is confirmed and the rival is not: that
	// settles the rival alone.
	apartOnly, err := New(marksOf(logos), Options{RivalDenseMargin: -1})
	if err != nil {
		t.Fatal(err)
	}
	two[0].RivalDense = -1
	apartOnly.rivalDense(f, two, ps)
	t.Logf("own parts: the logo shown %.2f, the rival %.2f", two[0].Apart, two[0].RivalApart)
	if two[0].Apart < 0.6 || two[0].RivalApart < 0 || two[0].RivalApart > 0.3 {
		t.Errorf("own parts confirmed at %.2f for the logo shown, %.2f for the rival: want ≥ 0.6 and ≤ 0.3", two[0].Apart, two[0].RivalApart)
	}
	if !whole(Options{}.withDefaults(), two) {
		t.Error("the rival settled over the logos' own parts, the logo not found whole")
	}
	if whole(Options{RivalApartMargin: 0.5}.withDefaults(), two) && two[0].Apart < two[0].RivalApart+0.5 {
		t.Error("own parts' margin short of 0.5 settled the rival")
	}
}

// TestApartShare: a logo's own parts are its keypoints that the other
// logo, placed over the same region, has nowhere near with a near
// descriptor at a like scale; their dense share is what apartShare
// gives, -1 when fewer than minApart are left.
func TestApartShare(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	randDesc := func() matchers.Descriptor {
		return matchers.Descriptor{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()}
	}
	// flip returns d with n bits flipped.
	flip := func(d matchers.Descriptor, n int) matchers.Descriptor {
		for i := range n {
			d[i%4] ^= 1 << (i / 4 * 3)
		}
		return d
	}
	// Logo a: 40 keypoints, 4 logo pixels apart; placed at twice that
	// in the photo. Logo b shares a's first 20 (same place, descriptors
	// 10 bits apart) and has 20 of its own elsewhere.
	var aPts []matchers.Keypoint
	var aDesc, bDesc []matchers.Descriptor
	var a, b []placedPoint
	for i := range 40 {
		aPts = append(aPts, matchers.Keypoint{X: float32(4 * i), Y: 10, Scale: 1})
		aDesc = append(aDesc, randDesc())
		// a's own parts are confirmed by the pixels, the shared ones too.
		a = append(a, placedPoint{x: float32(100 + 8*i), y: 300, scale: 2, dist: 12})
	}
	for i := range 20 {
		bDesc = append(bDesc, flip(aDesc[i], 10))
		b = append(b, placedPoint{x: float32(100 + 8*i), y: 301, scale: 2, dist: 14})
	}
	for i := range 20 {
		bDesc = append(bDesc, randDesc())
		// b's own keypoints are not what the photo shows there.
		b = append(b, placedPoint{x: float32(100 + 8*i), y: 340, scale: 2, dist: 110})
	}
	var bPts []matchers.Keypoint
	for i := range 40 {
		bPts = append(bPts, matchers.Keypoint{X: float32(4 * (i % 20)), Y: float32(10 + 20*(i/20)), Scale: 1})
	}
	if got := apartShare(aPts, aDesc, a, bDesc, b); got != 1 {
		t.Errorf("a's own parts confirmed: apart share %.2f, want 1", got)
	}
	if got := apartShare(bPts, bDesc, b, aDesc, a); got != 0 {
		t.Errorf("b's own parts not confirmed: apart share %.2f, want 0", got)
	}
	// Half of a's own parts unconfirmed.
	for i := 20; i < 30; i++ {
		a[i].dist = 90
	}
	if got := apartShare(aPts, aDesc, a, bDesc, b); got != 0.5 {
		t.Errorf("half of a's own parts confirmed: apart share %.2f, want 0.5", got)
	}
	// A keypoint of b in the same place is not shared when its scale or
	// its descriptor differs: b's shared keypoints at four times the
	// scale, then with descriptors 60 bits from a's.
	far := slices.Clone(b)
	for i := range 20 {
		far[i].scale = 8
	}
	if got := apartShare(aPts, aDesc, a, bDesc, far); got != 0.75 {
		t.Errorf("b's keypoints at another scale taken as shared: apart share %.2f, want 0.75 (30 of 40)", got)
	}
	other := slices.Clone(bDesc)
	for i := range 20 {
		other[i] = flip(aDesc[i], 60)
	}
	if got := apartShare(aPts, aDesc, a, other, b); got != 0.75 {
		t.Errorf("b's far descriptors taken as shared: apart share %.2f, want 0.75", got)
	}
	// Logos differing in too few keypoints say nothing.
	if got := apartShare(aPts[:30], aDesc[:30], a[:30], bDesc, b); got != -1 {
		t.Errorf("10 own keypoints: apart share %.2f, want -1", got)
	}
	// Keypoints not described are left out.
	for i := 20; i < 40; i++ {
		a[i].dist = -1
	}
	if got := apartShare(aPts, aDesc, a, bDesc, b); got != -1 {
		t.Errorf("own keypoints not described: apart share %.2f, want -1", got)
	}
}

// TestDescribeMapped holds DescribeMapped to the truth where the map is
// not a level's own (where it is, TestPixelsDescribeAsExtracted): a logo
// drawn into a photo at an angle between two of the pattern's bins and a
// scale between two levels, each logo keypoint's samples mapped through
// the true pose are confirmed (within denseDistance of the logo's
// descriptor) at most places, and at more than the nearest level's
// pixels and bin confirm them (describeNearest). Degenerate maps and
// places, and a released pyramid, describe nothing.
func TestDescribeMapped(t *testing.T) {
	logos := inventLogos(t, 21, 3)
	img, _ := generate.LogoScene(rand.New(rand.NewPCG(5, 5)), logos.imgs[0], generate.SceneOptions{})
	f := pixelExtractor.Listing(lumaOf(t, encodeJPEG(t, img, 40)))
	if _, ok := f.Pixels.DescribeMapped(3, 3, [4]float64{1, 0, 0, 1}, 0); ok {
		t.Error("a patch over the image's corner was described")
	}
	if _, ok := f.Pixels.DescribeMapped(400, 400, [4]float64{20, 0, 0, 20}, 0); ok {
		t.Error("a scale no level has was described")
	}
	// Degenerate maps and places describe nothing, and do not panic.
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		x, y float64
		m    [4]float64
	}{
		{nan, 400, [4]float64{1, 0, 0, 1}}, {400, inf, [4]float64{1, 0, 0, 1}}, {400, 400, [4]float64{nan, 0, 0, 1}},
		{400, 400, [4]float64{0, 0, 0, 0}}, {400, 400, [4]float64{1, 1, 1, 1}}, {400, 400, [4]float64{1, 9, 0, 1}},
		{400, 400, [4]float64{inf, 0, 0, 1}}, {-400, 400, [4]float64{1, 0, 0, 1}}, {400, 400, [4]float64{1e6, 0, 0, 1e-6}},
	} {
		if _, ok := f.Pixels.DescribeMapped(c.x, c.y, c.m, 0.3); ok {
			t.Errorf("(%g, %g) through %v was described", c.x, c.y, c.m)
		}
	}
	f.Pixels.Release()
	if _, ok := f.Pixels.DescribeMapped(400, 400, [4]float64{1, 0, 0, 1}, 0); ok {
		t.Error("a released pyramid described a patch")
	}

	// Each logo keypoint position (one per 2-pixel cell, its best
	// polarity: the logo is described as drawn and inverted) counts once,
	// as in denseShare.
	for li, pose := range []struct{ scale, angle float64 }{{0.83, 17}, {0.55, -27}, {1.12, 41}} {
		lf := logos.feats[li]
		g, sim := drawAt(logos.imgs[li], lf, 800, pose.scale, pose.angle*math.Pi/180)
		f := pixelExtractor.Listing(lumaOf(t, encodeJPEG(t, g, 90)))
		type best struct{ mapped, nearest int }
		at := map[[2]int32]*best{}
		for k, p := range lf.Points {
			x, y := sim.apply(float64(p.X), float64(p.Y))
			ks := float64(p.Scale)
			dm, okM := f.Pixels.DescribeMapped(x, y, [4]float64{sim.a * ks, -sim.b * ks, sim.b * ks, sim.a * ks}, float64(p.Angle))
			dn, okN := describeNearest(f.Pixels, x, y, sim.scale()*ks, float64(p.Angle)+sim.angle())
			if !okM || !okN {
				continue
			}
			key := [2]int32{int32(p.X / 2), int32(p.Y / 2)}
			b := at[key]
			if b == nil {
				b = &best{256, 256}
				at[key] = b
			}
			b.mapped = min(b.mapped, hamming(&dm, &lf.Desc[k]))
			b.nearest = min(b.nearest, hamming(&dn, &lf.Desc[k]))
		}
		f.Pixels.Release()
		var mapped, nearest int
		for _, b := range at {
			if b.mapped <= denseDistance {
				mapped++
			}
			if b.nearest <= denseDistance {
				nearest++
			}
		}
		t.Logf("scale %.2f, %.0f°: of %d positions described, %d confirmed mapped, %d at the nearest level and bin", pose.scale, pose.angle, len(at), mapped, nearest)
		if len(at) < 50 {
			t.Fatalf("scale %.2f, %.0f°: %d positions described", pose.scale, pose.angle, len(at))
		}
		if float64(mapped) < 0.8*float64(len(at)) || mapped <= nearest {
			t.Errorf("scale %.2f, %.0f°: %d of %d positions confirmed mapped (want ≥ 80%%, and more than the %d at the nearest level and bin)", pose.scale, pose.angle, mapped, len(at), nearest)
		}
	}
}

// drawAt draws logo img (features lf, in its LogoSide frame) into an n×n
// mid-grey photo, centred, at scale (photo pixels per feature pixel) and
// angle, and returns the photo and that similarity.
func drawAt(img image.Image, lf *matchers.Features, n int, scale, angle float64) (*image.Gray, similarity) {
	b := img.Bounds()
	k := float64(lf.W) / float64(b.Dx()) // feature pixels per image pixel
	sim := similarity{a: scale * math.Cos(angle), b: scale * math.Sin(angle)}
	cx, cy := float64(lf.W)/2, float64(lf.H)/2
	sim.tx, sim.ty = float64(n)/2-(sim.a*cx-sim.b*cy), float64(n)/2-(sim.b*cx+sim.a*cy)
	src := toGray(img)
	out := image.NewGray(image.Rect(0, 0, n, n))
	det := sim.a*sim.a + sim.b*sim.b
	for y := range n {
		for x := range n {
			// The inverse similarity, then the feature frame to the image's.
			dx, dy := float64(x)-sim.tx, float64(y)-sim.ty
			u, v := ((sim.a*dx+sim.b*dy)/det+0.5)/k-0.5, ((-sim.b*dx+sim.a*dy)/det+0.5)/k-0.5
			val := 128.0
			if u >= 0 && v >= 0 && u < float64(b.Dx()-1) && v < float64(b.Dy()-1) {
				iu, iv := int(u), int(v)
				tu, tv := u-float64(iu), v-float64(iv)
				at := func(i, j int) float64 { return float64(src.Pix[(iv+j)*src.Stride+iu+i]) }
				val = (at(0, 0)*(1-tu)+at(1, 0)*tu)*(1-tv) + (at(0, 1)*(1-tu)+at(1, 1)*tu)*tv
			}
			out.Pix[y*n+x] = uint8(val + 0.5)
		}
	}
	return out, sim
}

// TestPlacementLocal holds the placement's local map, which
// DescribeMapped samples through, to the placement itself: the
// similarity's own, and the homography's derivative, against central
// differences at points over the logo.
func TestPlacementLocal(t *testing.T) {
	h := homography{1.1, 0.12, 40, -0.08, 0.95, 60, 0.0004, -0.0002, 1}
	s := similarity{a: 0.7, b: -0.3, tx: 120, ty: 80}
	for _, pl := range []placement{{s: s}, {s: s, h: h, useH: true}} {
		for _, c := range [][2]float64{{0, 0}, {200, 0}, {0, 100}, {200, 100}, {100, 50}, {37, 81}} {
			m := pl.local(c[0], c[1])
			const e = 1e-3
			x1, y1 := pl.apply(c[0]+e, c[1])
			x0, y0 := pl.apply(c[0]-e, c[1])
			x3, y3 := pl.apply(c[0], c[1]+e)
			x2, y2 := pl.apply(c[0], c[1]-e)
			want := [4]float64{(x1 - x0) / (2 * e), (x3 - x2) / (2 * e), (y1 - y0) / (2 * e), (y3 - y2) / (2 * e)}
			for i := range m {
				if math.Abs(m[i]-want[i]) > 1e-6 {
					t.Errorf("homography %v at (%g, %g): local map %v, differences give %v", pl.useH, c[0], c[1], m, want)
					break
				}
			}
		}
	}
}

// describeAt is DescribeMapped at keypoint p with its level's own map:
// the extraction's descriptor there.
func describeAt(px matchers.Pixels, p matchers.Keypoint) (matchers.Descriptor, bool) {
	s := float64(p.Scale)
	return px.DescribeMapped(float64(p.X), float64(p.Y), [4]float64{s, 0, 0, s}, float64(p.Angle))
}

// describeNearest reads px as dense verification read before
// DescribeMapped (pyramid.Describe: the nearest level's pixel and angle
// bin).
func describeNearest(px matchers.Pixels, x, y, scale, angle float64) (matchers.Descriptor, bool) {
	p := px.(*pixels)
	if p.released {
		return matchers.Descriptor{}, false
	}
	if p.built == nil {
		p.built = newPyramid(p.work, p.levels, p.unit, p.upsample)
	}
	return p.built.Describe(x, y, scale, angle)
}
