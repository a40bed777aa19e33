package logo

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

// TestSpreadTables: the shortlist's tables are distinct, in range, and
// clamped to 1..16.
func TestSpreadTables(t *testing.T) {
	for n := -1; n <= tables+2; n++ {
		got := spreadTables(n)
		want := min(max(n, 1), tables)
		if len(got) != want {
			t.Fatalf("%d tables: got %v", n, got)
		}
		for i, tb := range got {
			if tb < 0 || tb >= tables || (i > 0 && tb <= got[i-1]) {
				t.Fatalf("%d tables: got %v", n, got)
			}
		}
	}
	if !slices.Equal(spreadTables(tables), allTables) {
		t.Errorf("16 tables: %v, want every table", spreadTables(tables))
	}
}

// TestAllowedMatchesSubIndex: a query restricted to some logos finds
// exactly what the full query finds on an index of those logos alone:
// the same logos in the same order with the same pairs, the nearest
// logo, ratio test and ties taken among them; and so does the second
// stage of a shortlist (shortlistPairs, the photo's keys looked up from
// the logos' descriptors) when it counts no first-stage ties.
// (Both indexes read every bucket, so that the bucket cap, which
// depends on the index's size, does not differ.)
func TestAllowedMatchesSubIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: generating photos takes seconds")
	}
	logos := inventLogos(t, 51, 30)
	marks := marksOf(logos)
	full, _ := newIndex(marks, 512, 1<<30)
	var sub []*matchers.Mark
	allowed := map[int]bool{}
	for i := range marks {
		if i%3 != 1 {
			sub = append(sub, marks[i])
			allowed[i] = true
		}
	}
	part, _ := newIndex(sub, 512, 1<<30)
	full.maxBucket, part.maxBucket = 1<<30, 1<<30
	clear(full.over)
	clear(part.over)
	sc := full.newScratch()
	sc.dist, sc.own = make([]int32, len(full.desc)), make([]uint32, len(full.desc))
	psc := part.newScratch()
	psc.dist, psc.own = make([]int32, len(part.desc)), make([]uint32, len(part.desc))
	// Logo ids of the sub-index in the full one.
	var ids []uint32
	for i := range marks {
		if allowed[i] {
			ids = append(ids, uint32(i))
		}
		sc.allow[i] = allowed[i]
	}
	ex := NewExtractor(ExtractorOptions{})
	found := 0
	for i := range 4 {
		r := rand.New(rand.NewPCG(52, uint64(i)))
		img, _ := generate.LogoScene(r, logos.imgs[3*i], generate.SceneOptions{})
		f := ex.Listing(lumaOf(t, encodeJPEG(t, img, 40)))
		gotL, gotP := full.candidatesIn(sc, f, probe{tabs: allTables, allow: sc.allow}, 64, 0.5, 8, rivalInliers, 0.04, 0.8)
		wantL, wantP := part.candidates(psc, f, 64, 0.5, 8, rivalInliers, 0.04, 0.8)
		if len(gotL) != len(wantL) {
			t.Fatalf("photo %d: %d logos, want %d", i, len(gotL), len(wantL))
		}
		for j := range wantL {
			if gotL[j] != ids[wantL[j]] || !slices.Equal(gotP[j], wantP[j]) {
				t.Fatalf("photo %d rank %d: logo %d with %d pairs, want %d with %d", i, j, gotL[j], len(gotP[j]), ids[wantL[j]], len(wantP[j]))
			}
			if !allowed[int(gotL[j])] {
				t.Fatalf("photo %d: logo %d was not allowed", i, gotL[j])
			}
		}
		// The second stage of a shortlist, the other way round, finds
		// the same.
		revL, revP := full.shortlistPairs(sc, f, ids, false, 1, 64, 0.5, 8, rivalInliers, 0.04, 0.8)
		if !slices.Equal(revL, gotL) {
			t.Fatalf("photo %d: reverse pairing ranks %v, want %v", i, revL, gotL)
		}
		for j := range gotL {
			if !slices.Equal(revP[j], gotP[j]) {
				t.Fatalf("photo %d rank %d: reverse pairing gives %d pairs, want %d", i, j, len(revP[j]), len(gotP[j]))
			}
		}
		if len(gotL) > 0 && gotL[0] == uint32(3*i) {
			found++
		}
	}
	if found < 3 {
		t.Errorf("the logo shown ranked first in %d of 4 photos: the test shows little", found)
	}
}

// TestShortlistFindsPlantedLogos: two-stage matching finds the logo
// shown, large or small, among 60 logos, and nothing in a seller's photo
// without one; at every shortlist size and number of tables.
func TestShortlistFindsPlantedLogos(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: generating photos takes seconds")
	}
	logos := inventLogos(t, 61, 60)
	marks := marksOf(logos)
	ex := NewExtractor(ExtractorOptions{})
	var photos []*matchers.Features
	for i := range 4 {
		r := rand.New(rand.NewPCG(62, uint64(i)))
		share := 0.15 + 0.07*float64(i)
		img, _ := generate.LogoScene(r, logos.imgs[i*7], generate.SceneOptions{MinShare: share, MaxShare: share + 0.02, KeepColours: true, MaxRotation: 10})
		photos = append(photos, ex.Listing(lumaOf(t, encodeJPEG(t, img, 60))))
	}
	empty := ex.Listing(lumaOf(t, encodeJPEG(t, generate.SellerPhoto(rand.New(rand.NewPCG(63, 0)), 800, 800), 60)))
	for _, o := range []Options{{Shortlist: 16}, {Shortlist: 48}, {Shortlist: 32, ShortlistTables: 2}, {Shortlist: 8, ShortlistTables: 8},
		{Shortlist: 64, ShortlistNearest: -1}, {Shortlist: 16, ShortlistNearest: 2}, {Shortlist: 32, ShortlistMargin: 6}, {Shortlist: 16, ShortlistMinVotes: -1}} {
		m, err := New(marks, o)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("shortlist %d of %d tables, %d nearest, margin %d", m.o.Shortlist, m.o.ShortlistTables, m.o.ShortlistNearest, m.o.ShortlistMargin)
		for i, f := range photos {
			ds, err := m.Detect(t.Context(), listingOf(f))
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) == 0 || ds[0].Mark.MarkID != marks[i*7].MarkID {
				t.Errorf("%s, photo %d: found %v, want %s", name, i, marksIn(ds), marks[i*7].MarkID)
			}
		}
		if ds, _ := m.Detect(t.Context(), listingOf(empty)); len(ds) != 0 {
			t.Errorf("%s: a photo without a logo matched %v", name, marksIn(ds))
		}
	}
	// The second stage pairs the shortlisted logos whose first-stage
	// score reaches ShortlistMinVotes only: none past any score, some
	// (the photo's textures near some logo) with no bar.
	for _, c := range []struct {
		votes float64
		some  bool
	}{{1e9, false}, {-1, true}} {
		m, err := New(marks, Options{Shortlist: 16, ShortlistMinVotes: c.votes})
		if err != nil {
			t.Fatal(err)
		}
		sc := m.pool.Get().(*scratch)
		logos, _ := m.candidates(sc, empty)
		m.pool.Put(sc)
		if (len(logos) > 0) != c.some {
			t.Errorf("min votes %g: %d logos paired in a photo without one", c.votes, len(logos))
		}
	}
	// Concurrent detections in two stages give what one at a time does:
	// the scratch the fits are weighed again with (oneStageWeights) is
	// pooled, and its stamps must be left clear.
	m, err := New(marks, Options{Shortlist: 16})
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]Detection, len(photos))
	for i, f := range photos {
		want[i], _ = m.Detect(t.Context(), listingOf(f))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for k := range 3 {
				i := (g + k) % len(photos)
				got, err := m.Detect(t.Context(), listingOf(photos[i]))
				if err != nil || len(got) != len(want[i]) {
					t.Errorf("photo %d at once: %d detections (%v), alone %d", i, len(got), err, len(want[i]))
					return
				}
				for j := range got {
					a, b := got[j], want[i][j]
					if a.Mark != b.Mark || a.Inliers != b.Inliers || a.Distinct != b.Distinct || a.Region != b.Region || a.Partial != b.Partial {
						t.Errorf("photo %d at once: %+v, alone %+v", i, a, b)
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestShortlistEdgeCases: no logo, one logo, and logos whose descriptors
// are all the same (one bucket per table, every entry tied) neither fail
// nor find what is not there.
func TestShortlistEdgeCases(t *testing.T) {
	logos := inventLogos(t, 71, 2)
	ex := NewExtractor(ExtractorOptions{})
	r := rand.New(rand.NewPCG(72, 0))
	img, _ := generate.LogoScene(r, logos.imgs[0], generate.SceneOptions{MinShare: 0.35, MaxShare: 0.4, KeepColours: true, MaxRotation: 5})
	photo := ex.Listing(lumaOf(t, encodeJPEG(t, img, 85)))
	o := Options{Shortlist: 8}

	m, err := New(nil, o)
	if err != nil {
		t.Fatal(err)
	}
	if ds, err := m.Detect(t.Context(), listingOf(photo)); err != nil || len(ds) != 0 {
		t.Errorf("no logo indexed: %v, %v", marksIn(ds), err)
	}

	one := marksOf(logos)[:1]
	m, err = New(one, o)
	if err != nil {
		t.Fatal(err)
	}
	if ds, err := m.Detect(t.Context(), listingOf(photo)); err != nil || len(ds) != 1 || ds[0].Mark != one[0] {
		t.Errorf("one logo indexed, shown: found %v, %v", marksIn(ds), err)
	}

	// Two logos, every descriptor of each the same: one bucket per
	// table holds them all, the listing's descriptors are far from them
	// or tied between the two logos.
	same := func(id string, d matchers.Descriptor) *matchers.Mark {
		f := &matchers.Features{W: 256, H: 256}
		for i := range 200 {
			f.Points = append(f.Points, matchers.Keypoint{X: float32(i % 20 * 12), Y: float32(i / 20 * 24), Scale: 1})
			f.Desc = append(f.Desc, d)
		}
		return &matchers.Mark{Mark: &domain.Mark{MarkID: id, Status: domain.MarkActive},
			References: []matchers.ReferenceImage{{Kind: matchers.RefLogo, URL: id + ".png", Features: f}}}
	}
	dup := []*matchers.Mark{same("d1", photo.Desc[0]), same("d2", photo.Desc[0])}
	for _, o := range []Options{{}, {Shortlist: 1}, {Shortlist: 8}} {
		m, err = New(dup, o)
		if err != nil {
			t.Fatal(err)
		}
		if ds, err := m.Detect(t.Context(), listingOf(photo)); err != nil || len(ds) != 0 {
			t.Errorf("%+v: logos of one repeated descriptor: found %v, %v", o, marksIn(ds), err)
		}
	}
}

func listingOf(f *matchers.Features) *matchers.Listing {
	return &matchers.Listing{Listing: &domain.Listing{ListingID: "l"}, Images: []matchers.ListingImage{{Features: f}}}
}

func marksIn(ds []Detection) (ids []string) {
	for _, d := range ds {
		ids = append(ids, d.Mark.MarkID)
	}
	return ids
}

// TestNthNearest: the distance of the n-th nearest hit, ties counted
// once each, and the histogram left clear for the next descriptor.
func TestNthNearest(t *testing.T) {
	hs := func(ds ...int32) (out []hit) {
		for i, d := range ds {
			out = append(out, hit{logo: uint32(i), d: d})
		}
		return out
	}
	cases := []struct {
		name string
		cur  []hit
		n    int
		want int32
	}{
		{"first", hs(40, 12, 30), 1, 12},
		{"second", hs(40, 12, 30), 2, 30},
		{"all", hs(40, 12, 30), 3, 40},
		{"ties at the n-th", hs(20, 20, 20, 50), 2, 20},
		{"ties before the n-th", hs(20, 20, 35, 50), 3, 35},
		{"zero distance", hs(0, 0, 9), 2, 0},
		{"largest distance", hs(128, 7), 2, 128},
	}
	var hist [257]int32
	for _, c := range cases {
		if got := nthNearest(c.cur, c.n, &hist); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
		if hist != [257]int32{} {
			t.Fatalf("%s: histogram not cleared", c.name)
		}
	}
}

// TestShortlistNearestKeepsNearestLogos: with probe.near, each listing
// descriptor's hits are those of the full query whose distance is within
// its near-th nearest logo's, with the same weights, and the first
// stage's ties (what the second stage's weights count) are the same.
func TestShortlistNearestKeepsNearestLogos(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: generating photos takes seconds")
	}
	ix, sc, f, tabs, all, ties, best1 := fullFirstStage(t, 81, 5)
	for _, near := range []int{1, 3, 16} {
		ix.candidatesIn(sc, f, probe{tabs: tabs, noPairs: true, ties: true, near: near}, 64, 0.5, 64, shortlistMinPairs, 0.04, 0.8)
		if !slices.Equal(sc.ties, ties) || !slices.Equal(sc.best1, best1) {
			t.Fatalf("near %d: the first stage's ties changed", near)
		}
		// The near-th distance per listing descriptor, from the full
		// query's hits.
		byQ := map[uint32][]int32{}
		for _, h := range all {
			byQ[h.q] = append(byQ[h.q], h.d)
		}
		var want []hit
		capped := 0
		for _, h := range all {
			ds := slices.Sorted(slices.Values(byQ[h.q]))
			if len(ds) > near && h.d > ds[near-1] {
				capped++
				continue
			}
			want = append(want, h)
		}
		if capped == 0 {
			t.Fatalf("near %d: no hit left out: the test shows nothing", near)
		}
		if !slices.Equal(sc.hits, want) {
			t.Fatalf("near %d: %d hits, want %d (of %d)", near, len(sc.hits), len(want), len(all))
		}
	}
}

// TestShortlistMarginKeepsNearHits: with probe.margin, each listing
// descriptor's hits are those of the full query within margin bits of
// its nearest logo (the look-ups pass over farther entries), with the
// same weights; the nearest and the ties are the same.
func TestShortlistMarginKeepsNearHits(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: generating photos takes seconds")
	}
	ix, sc, f, tabs, all, ties, best1 := fullFirstStage(t, 83, 7)
	for _, margin := range []int{1, 6, 10} {
		ix.candidatesIn(sc, f, probe{tabs: tabs, noPairs: true, ties: true, margin: margin}, 64, 0.5, 64, shortlistMinPairs, 0.04, 0.8)
		// Within a listing descriptor, a logo may be first found at
		// another place (farther entries are passed over): compare in
		// (descriptor, logo) order, which is all the second stage and
		// the votes see (hits are grouped by logo, in descriptor order).
		if !slices.Equal(sortedTies(sc.ties), sortedTies(ties)) || !slices.Equal(sc.best1, best1) {
			t.Fatalf("margin %d: the nearest or the ties changed", margin)
		}
		var want []hit
		for _, h := range all {
			if h.d <= best1[h.q]+int32(margin) {
				want = append(want, h)
			}
		}
		if len(want) == len(all) {
			t.Fatalf("margin %d: no hit left out: the test shows nothing", margin)
		}
		if !slices.Equal(sortedHits(sc.hits), sortedHits(want)) {
			t.Fatalf("margin %d: %d hits, want %d (of %d)", margin, len(sc.hits), len(want), len(all))
		}
	}
}

func sortedTies(ts []tie) []tie {
	ts = slices.Clone(ts)
	slices.SortFunc(ts, func(a, b tie) int { return cmp.Or(cmp.Compare(a.q, b.q), cmp.Compare(a.logo, b.logo)) })
	return ts
}

func sortedHits(hs []hit) []hit {
	hs = slices.Clone(hs)
	slices.SortFunc(hs, func(a, b hit) int { return cmp.Or(cmp.Compare(a.q, b.q), cmp.Compare(a.logo, b.logo)) })
	return hs
}

// fullFirstStage indexes 40 logos drawn from seed, draws a photo of the
// logo-th (JPEG 40) and runs the shortlist's first stage on it over 4
// tables with every logo voted on: its hits, ties and nearest distances,
// the baseline the first stage's cuts are compared with.
func fullFirstStage(t *testing.T, seed uint64, logo int) (ix *index, sc *scratch, f *matchers.Features, tabs []int, all []hit, ties []tie, best1 []int32) {
	t.Helper()
	logos := inventLogos(t, seed, 40)
	ix, _ = newIndex(marksOf(logos), 512, 1<<30)
	r := rand.New(rand.NewPCG(seed+1, 0))
	img, _ := generate.LogoScene(r, logos.imgs[logo], generate.SceneOptions{})
	f = NewExtractor(ExtractorOptions{}).Listing(lumaOf(t, encodeJPEG(t, img, 40)))
	tabs = spreadTables(4)
	sc = ix.newScratch()
	ix.candidatesIn(sc, f, probe{tabs: tabs, noPairs: true, ties: true}, 64, 0.5, 64, shortlistMinPairs, 0.04, 0.8)
	return ix, sc, f, tabs, append([]hit(nil), sc.hits...), append([]tie(nil), sc.ties...), append([]int32(nil), sc.best1...)
}

// TestOneStageWeights: the weights oneStageWeights gives a two-stage
// query's pairs are those a one-stage query gives the same listing
// descriptor and logo, where the two-stage estimate differs; a pair
// whose logo is not tied with the nearest weighs nothing.
func TestOneStageWeights(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: generating photos takes seconds")
	}
	checked, differed, zero := 0, 0, 0
	for _, shown := range []int{5, 17} {
		ix, sc, f, tabs, _, _, _ := fullFirstStage(t, 91, shown)
		// One stage: every hit's weight, by listing descriptor and logo.
		ix.candidatesIn(sc, f, probe{tabs: allTables}, 64, 0.5, 64, 1, 0.04, 0.8)
		type key struct{ q, logo uint32 }
		want := map[key]hit{}
		for _, h := range sc.hits {
			want[key{h.q, h.logo}] = h
		}
		// Two stages: 8 logos shortlisted from 4 tables' ties.
		short, _ := ix.candidatesIn(sc, f, probe{tabs: tabs, noPairs: true, ties: true, near: 16, margin: 6}, 64, 0.5, 8, shortlistMinPairs, 0.04, 0.8)
		clear(sc.allow)
		for _, l := range short {
			sc.allow[l] = true
		}
		slices.Sort(short)
		logos, pairs := ix.shortlistPairs(sc, f, short, true, shortlistTieScale, 64, 0.5, 8, 1, 0.04, 0.8)
		memo := make([]tieCount, len(f.Desc))
		for j, ps := range pairs {
			est := make([]float32, len(ps))
			idx := make([]int, len(ps))
			for i := range ps {
				est[i], idx[i] = ps[i].w, i
			}
			ix.oneStageWeights(sc, f, ps, idx, 64, 0.5, memo)
			if i := slices.IndexFunc(sc.stamp, func(s uint32) bool { return s != 0 }); i >= 0 {
				t.Fatalf("logo %d's stamp left at %d", i, sc.stamp[i])
			}
			for i, p := range ps {
				h, ok := want[key{p.q, logos[j]}]
				if !ok || int(h.d) != p.dist {
					continue
				}
				checked++
				if p.w != h.w {
					t.Fatalf("logo %d, listing descriptor %d at %d bits: weight %v, one stage %v (estimated %v)", logos[j], p.q, p.dist, p.w, h.w, est[i])
				}
				if est[i] != h.w {
					differed++
				}
				if p.w == 0 {
					zero++
				}
			}
		}
	}
	if checked < 200 || differed == 0 || zero == 0 {
		t.Errorf("%d pairs checked, %d estimated otherwise, %d weighing nothing: the test shows little", checked, differed, zero)
	}
	t.Logf("%d pairs checked, %d estimated otherwise, %d weighing nothing", checked, differed, zero)
}

// TestTwoStageOverShortlist: two stages run by default, and only when more
// logos are indexed than the shortlist holds (with fewer, the second
// stage would pair every logo, as one stage does, after a first stage
// for nothing); -1 is one stage.
func TestTwoStageOverShortlist(t *testing.T) {
	marks := marksOf(inventLogos(t, 31, 6))
	for _, c := range []struct {
		o    Options
		want bool
	}{{Options{}, false}, {Options{Shortlist: 6}, false}, {Options{Shortlist: 5}, true}, {Options{Shortlist: -1}, false}} {
		m, err := New(marks, c.o)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.twoStage(); got != c.want {
			t.Errorf("shortlist %d over 6 logos: two stages %v, want %v", c.o.Shortlist, got, c.want)
		}
	}
	if o := (Options{}).withDefaults(); o.Shortlist != 64 || o.ShortlistMargin != 6 || o.ShortlistMinVotes != 4 {
		t.Errorf("defaults: shortlist %d, margin %d, min votes %g; want 64, 6 and 4", o.Shortlist, o.ShortlistMargin, o.ShortlistMinVotes)
	}
	if o := (Options{MinInliers: 24, ShortlistTables: 8}).withDefaults(); o.ShortlistMinVotes != 12 {
		t.Errorf("min votes %g with 24 inliers from 8 tables, want 12", o.ShortlistMinVotes)
	}
}
