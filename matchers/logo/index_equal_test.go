package logo

import (
	"math/rand/v2"
	"testing"

	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/matchers"
)

// TestCandidatesMatchReference holds the fast matching to the
// straightforward one it replaced (index_ref_test.go): the same logos
// ranked in the same order, each with the same pairs in the same order
// (what RANSAC then samples from), for every logo that gets a vote and
// for the default 8, through one scratch reused from photo to photo.
func TestCandidatesMatchReference(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: generating photos takes seconds")
	}
	logos := inventLogos(t, 41, 60)
	m, err := New(manyMarks(logos, 600), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix := m.ix
	ex := NewExtractor(ExtractorOptions{})
	var photos []*matchers.Features
	for i := range 6 {
		r := rand.New(rand.NewPCG(42, uint64(i)))
		img, _ := generate.LogoScene(r, logos.imgs[i], generate.SceneOptions{})
		photos = append(photos, ex.Listing(lumaOf(t, encodeJPEG(t, img, 40))))
	}
	sc, ref := ix.newScratch(), ix.newScratch()
	bins := map[uint32]float32{}
	for _, maxLogos := range []int{8, len(ix.logos)} {
		for pi, f := range photos {
			gotL, gotP := ix.candidates(sc, f, 64, 0.5, maxLogos, rivalInliers, 0.04, 0.8)
			wantL, wantP := ix.candidatesRef(ref, bins, f, 64, 0.5, maxLogos, rivalInliers, 0.04, 0.8)
			if len(gotL) != len(wantL) {
				t.Fatalf("photo %d: %d logos, want %d", pi, len(gotL), len(wantL))
			}
			if len(wantL) < min(maxLogos, 8) {
				t.Fatalf("photo %d: only %d logos voted: the test shows little", pi, len(wantL))
			}
			for i := range wantL {
				if gotL[i] != wantL[i] || len(gotP[i]) != len(wantP[i]) {
					t.Fatalf("photo %d rank %d: logo %d with %d pairs, want %d with %d", pi, i, gotL[i], len(gotP[i]), wantL[i], len(wantP[i]))
				}
				for j := range wantP[i] {
					if gotP[i][j] != wantP[i][j] {
						t.Fatalf("photo %d logo %d pair %d: %+v, want %+v", pi, wantL[i], j, gotP[i][j], wantP[i][j])
					}
				}
			}
		}
	}
}
