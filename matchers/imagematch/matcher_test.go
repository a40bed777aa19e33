package imagematch

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/matchertest"
)

// fixture hashes generated images once per test binary: two marks with a
// logo and an official photo each, and listings that reuse them.
type fixture struct {
	marks       []*matchers.Mark
	hit, miss   *matchers.Listing
	logoListing *matchers.Listing
}

var loadFixture = sync.OnceValues(func() (*fixture, error) {
	h := NewHasher(Limits{})
	ref := func(kind synthKind, seed uint64, refKind, url string) (matchers.ReferenceImage, error) {
		img := synthImage(kind, seed, 640, 480)
		var data []byte
		if kind == kindLogo {
			data = mustPNG(img)
		} else {
			data = mustJPEG(img, 92)
		}
		hs, err := h.HashReference(context.Background(), data)
		return matchers.ReferenceImage{Kind: refKind, URL: url, Hashes: hs}, err
	}
	var fx fixture
	for i, name := range []string{"aurelio", "kestrel"} {
		logo, err := ref(kindLogo, uint64(40+i), matchers.RefLogo, "https://"+name+".example/logo.png")
		if err != nil {
			return nil, err
		}
		photo, err := ref(kindProduct, uint64(40+i), matchers.RefOfficial, "https://"+name+".example/bag.jpg")
		if err != nil {
			return nil, err
		}
		fx.marks = append(fx.marks, &matchers.Mark{
			Mark:       &domain.Mark{MarkID: name, Name: strings.ToUpper(name), Status: domain.MarkActive},
			References: []matchers.ReferenceImage{logo, photo},
		})
	}
	listing := func(id string, imgs ...[]byte) (*matchers.Listing, error) {
		l := matchers.NewListing(&domain.Listing{SchemaVersion: 1, ListingID: id, SellerID: "s1", Title: "bag " + id})
		for i, data := range imgs {
			hs, err := h.HashListingImage(context.Background(), data)
			if err != nil {
				return nil, err
			}
			url := fmt.Sprintf("https://shop.example/%s/%d.jpg", id, i)
			l.Images = append(l.Images, matchers.ListingImage{Index: i, URL: url, Hashes: hs})
		}
		return l, nil
	}
	var err error
	// The hit shows an unrelated image first, then kestrel's official
	// photo mirrored and padded.
	fx.hit, err = listing("hit",
		mustJPEG(synthImage(kindPhoto, 99, 600, 600), 85),
		mustJPEG(padded(mirrored(synthImage(kindProduct, 41, 640, 480)), 0.1, 0.1, color.White), 80))
	if err != nil {
		return nil, err
	}
	fx.miss, err = listing("miss", mustJPEG(synthImage(kindPhoto, 98, 600, 600), 85))
	if err != nil {
		return nil, err
	}
	fx.logoListing, err = listing("logo", mustJPEG(resized(synthImage(kindLogo, 40, 640, 480), 0.5), 60))
	return &fx, err
})

// mustJPEG and mustPNG encode for the shared fixture, which has no
// testing.TB; an encoding error leaves nil, which hashing then refuses.
func mustJPEG(img image.Image, q int) []byte {
	var buf bytes.Buffer
	if jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}) != nil {
		return nil
	}
	return buf.Bytes()
}

func mustPNG(img image.Image) []byte {
	var buf bytes.Buffer
	if png.Encode(&buf, img) != nil {
		return nil
	}
	return buf.Bytes()
}

func mustFixture(t *testing.T) *fixture {
	t.Helper()
	fx, err := loadFixture()
	if err != nil {
		t.Fatalf("building the fixture: %v", err)
	}
	return fx
}

func TestConformance(t *testing.T) {
	fx := mustFixture(t)
	m, err := New(fx.marks, Options{})
	if err != nil {
		t.Fatal(err)
	}
	matchertest.Run(t, m, matchertest.Fixture{Marks: fx.marks, Hit: fx.hit, Miss: fx.miss})
}

func TestMatchEvidence(t *testing.T) {
	fx := mustFixture(t)
	m, err := New(fx.marks, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		listing   *matchers.Listing
		wantMark  int // index of the mark that must score; -1 for none
		wantKind  string
		wantField string
		wantRef   string
	}{
		{"official_photo_mirrored_padded", fx.hit, 1, "official_photo", "images[1]", "https://kestrel.example/bag.jpg"},
		{"logo_shrunk_reencoded", fx.logoListing, 0, "logo", "images[0]", "https://aurelio.example/logo.png"},
		{"unrelated", fx.miss, -1, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sigs, err := m.Match(context.Background(), tc.listing, fx.marks)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range sigs {
				if i != tc.wantMark {
					if s.Score != 0 {
						t.Errorf("mark %s scores %v, want 0: %+v", fx.marks[i].MarkID, s.Score, s.Evidence)
					}
					continue
				}
				if s.Score <= 0.5 || len(s.Evidence) == 0 {
					t.Fatalf("mark %s: score %v, evidence %+v; want a strong match", fx.marks[i].MarkID, s.Score, s.Evidence)
				}
				e := s.Evidence[0]
				if e.Matcher != "image" || e.Kind != tc.wantKind || e.Field != tc.wantField || e.Score != s.Score {
					t.Errorf("evidence %+v, want matcher image, kind %s, field %s, score %v", e, tc.wantKind, tc.wantField, s.Score)
				}
				if e.Match != tc.listing.Images[len(tc.listing.Images)-1].URL {
					t.Errorf("evidence match %q, want the listing image URL", e.Match)
				}
				if e.Reference != tc.wantRef {
					t.Errorf("evidence reference %q, want %s", e.Reference, tc.wantRef)
				}
				if !strings.Contains(e.Detail, tc.wantRef) || !strings.Contains(e.Detail, "/64)") {
					t.Errorf("detail %q does not name %s and the distance", e.Detail, tc.wantRef)
				}
				t.Logf("%s: %s", e.Field, e.Detail)
			}
		})
	}
}

// handListing is a listing with the given image hashes, one image each.
func handListing(images ...[]uint64) *matchers.Listing {
	l := matchers.NewListing(&domain.Listing{ListingID: "l", Title: "t"})
	for i, hs := range images {
		l.Images = append(l.Images, matchers.ListingImage{Index: i, URL: fmt.Sprintf("u%d", i), Hashes: hs})
	}
	return l
}

func handMark(id string, refs ...[]uint64) *matchers.Mark {
	mk := &matchers.Mark{Mark: &domain.Mark{MarkID: id}}
	for i, hs := range refs {
		mk.References = append(mk.References, matchers.ReferenceImage{Kind: matchers.RefOfficial, URL: fmt.Sprintf("%s/r%d", id, i), Hashes: hs})
	}
	return mk
}

// flip returns h with its n lowest bits flipped: distance n from h.
func flip(h uint64, n int) uint64 { return h ^ (1<<n - 1) }

func TestScoreByDistance(t *testing.T) {
	const base = 0x0123456789abcdef
	m, err := New(nil, Options{MaxDistance: 10})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dist int
		want float64
	}{
		{0, 1},
		{4, 1 - (4.0/11)*(4.0/11)},
		{10, 1 - (10.0/11)*(10.0/11)},
		{11, 0},
		{40, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.dist), func(t *testing.T) {
			sigs, err := m.Match(context.Background(), handListing([]uint64{flip(base, tc.dist)}), []*matchers.Mark{handMark("m", []uint64{base})})
			if err != nil {
				t.Fatal(err)
			}
			if got := sigs[0].Score; math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("score %v, want %v", got, tc.want)
			}
			if tc.want > 0 && !strings.Contains(sigs[0].Evidence[0].Detail, fmt.Sprintf("(distance %d/64)", tc.dist)) {
				t.Errorf("detail %q", sigs[0].Evidence[0].Detail)
			}
		})
	}
}

func TestMatchPicksBestPerImage(t *testing.T) {
	const a, b = 0x00ff00ff00ff00ff, 0x0f0f0f0f0f0f0f0f
	m, err := New(nil, Options{MaxEvidence: 2})
	if err != nil {
		t.Fatal(err)
	}
	mark := handMark("m", []uint64{flip(a, 6)}, []uint64{flip(a, 2), flip(b, 8)})
	l := handListing([]uint64{b}, nil, []uint64{0, a}, []uint64{flip(b, 30)})
	sigs, err := m.Match(context.Background(), l, []*matchers.Mark{mark, nil})
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 2 || sigs[1].Score != 0 {
		t.Fatalf("signals %+v", sigs)
	}
	var got []string
	for _, e := range sigs[0].Evidence {
		got = append(got, e.Field+" "+e.Detail)
	}
	want := []string{
		"images[2] matches official photo m/r1 (distance 2/64)",
		"images[0] matches official photo m/r1 (distance 8/64)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("evidence\n got %q\nwant %q", got, want)
	}
}

func TestCandidatesAndIndexUpdates(t *testing.T) {
	const a, b, c = 0x00ff00ff00ff00ff, 0x0f0f0f0f0f0f0f0f, 0x3333333333333333
	m, err := New([]*matchers.Mark{
		handMark("far", []uint64{flip(a, 9)}),
		handMark("near", []uint64{c}, []uint64{flip(a, 1)}),
		handMark("other", []uint64{b}),
	}, Options{Ambiguity: maxMaxDistance}) // every mark within reach, for the index's sake
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	candidates := func() []string {
		t.Helper()
		ids, err := m.Candidates(ctx, handListing([]uint64{a}, []uint64{a}))
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got, want := candidates(), []string{"near", "far"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("candidates %v, want %v (closest first)", got, want)
	}
	m.Set(handMark("other", []uint64{flip(a, 3)}))
	m.Remove("near")
	m.Remove("never-indexed")
	if got, want := candidates(), []string{"other", "far"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after updates: candidates %v, want %v", got, want)
	}
	m.Set(handMark("far"))
	if got, want := candidates(), []string{"other"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after emptying far: candidates %v, want %v", got, want)
	}
	if m.Len() != 1 {
		t.Errorf("Len = %d, want 1", m.Len())
	}
	if ids, err := m.Candidates(ctx, handListing()); err != nil || ids != nil {
		t.Errorf("no images: %v, %v", ids, err)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name  string
		marks []*matchers.Mark
		opts  Options
		want  string // in the error; "" for none
	}{
		{"defaults", nil, Options{}, ""},
		{"max_16", nil, Options{MaxDistance: 16}, ""},
		{"negative_distance", nil, Options{MaxDistance: -1}, "max distance -1 outside 0..16"},
		{"distance_too_large", nil, Options{MaxDistance: 17}, "max distance 17 outside 0..16"},
		{"negative_evidence", nil, Options{MaxEvidence: -2}, "max evidence -2 is negative"},
		{"nil_mark", []*matchers.Mark{handMark("a"), nil}, Options{}, "marks[1] is nil"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.marks, tc.opts)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("New: err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestAmbiguity: a listing image near two brands' photos is a copy of the
// nearer one; the farther brand's look-alike shot is neither a candidate
// nor matched.
func TestAmbiguity(t *testing.T) {
	const a = 0x00ff00ff00ff00ff
	marks := []*matchers.Mark{
		handMark("source", []uint64{flip(a, 1)}),
		handMark("close", []uint64{flip(a, 2)}),
		handMark("lookalike", []uint64{flip(a, 6)}),
	}
	m, err := New(marks, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := handListing([]uint64{a})
	ids, err := m.Candidates(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"source", "close"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("candidates %v, want %v", ids, want)
	}
	sigs, err := m.Match(context.Background(), l, marks)
	if err != nil {
		t.Fatal(err)
	}
	if sigs[0].Score == 0 || sigs[1].Score == 0 || sigs[2].Score != 0 {
		t.Errorf("scores %v %v %v: want source and close matched, lookalike not", sigs[0].Score, sigs[1].Score, sigs[2].Score)
	}
}
