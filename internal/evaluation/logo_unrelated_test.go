package evaluation_test

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/logo"
)

// TestLogoUnrelatedPhotos measures, at the fixtures' scale (their 40
// marks' logos indexed, the default configuration with logo detection
// on), how many sellers' photos that show none of those logos get a logo
// found: issue 11 §4 asks at most 0.2% of them. The fixtures themselves
// hold 308 negative listings with photos but only 90 distinct photos, too
// few to tell 0.2% from 1%, so this draws new ones: a seller's own photo
// of an unbranded product (a product printed with one of the emblems
// the invented logos are built from, now and then), half of them with
// an invented logo that is not indexed (8–40% of the width, turned,
// recoloured, as the logo_in_photo kind's), JPEG at quality 40–90, each
// scored end to end as a listing whose text names no brand.
//
// 200 photos by default (a few seconds' worth; none may get a complaint
// with logo evidence, at most 2 a whole logo, see below);
// MARKWATCH_LOGO_UNRELATED=n draws n, for the figures in
// docs/BENCHMARKS.md; MARKWATCH_LOGO_MIN_EVENNESS, _MIN_GUIDED,
// _MIN_DENSE, _MIN_DISTINCT, _MIN_COVERAGE and _COLOUR_MIN_DENSE set
// those thresholds.
func TestLogoUnrelatedPhotos(t *testing.T) {
	n := 200
	if v, err := strconv.Atoi(os.Getenv("MARKWATCH_LOGO_UNRELATED")); err == nil && v > 0 {
		n = v
	} else if testing.Short() {
		t.Skip("draws 200 photos; -short skips it")
	}
	ctx := context.Background()
	cfg := config.Default()
	cfg.Detection.Logo.Enabled = true
	// Settings to compare on the same photos, from the environment
	// (unset: the defaults).
	lg := &cfg.Detection.Logo
	for name, field := range map[string]*float64{
		"MARKWATCH_LOGO_MIN_EVENNESS":     &lg.MinEvenness,
		"MARKWATCH_LOGO_MIN_GUIDED":       &lg.MinGuidedEvenness,
		"MARKWATCH_LOGO_MIN_DENSE":        &lg.MinDenseShare,
		"MARKWATCH_LOGO_MIN_DENSE_EVEN":   &lg.MinDenseEvenness,
		"MARKWATCH_LOGO_RIVAL_DENSE":      &lg.RivalDenseMargin,
		"MARKWATCH_LOGO_RIVAL_MIN_DENSE":  &lg.RivalMinDense,
		"MARKWATCH_LOGO_RIVAL_APART":      &lg.RivalApartMargin,
		"MARKWATCH_LOGO_STRONG_DENSE":     &lg.StrongDense,
		"MARKWATCH_LOGO_MIN_DISTINCT":     &lg.MinDistinct,
		"MARKWATCH_LOGO_MIN_COVERAGE":     &lg.MinCoverage,
		"MARKWATCH_LOGO_COLOUR_MIN_DENSE": &lg.ColourMinDense,
	} {
		if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
			*field = v
		}
	}
	if v, err := strconv.Atoi(os.Getenv("MARKWATCH_LOGO_SHORTLIST")); err == nil {
		lg.Shortlist = v
	}
	// MARKWATCH_LOGO_UNRELATED_KEEP names a directory the photos are
	// written to and kept in, to look at those where a logo is found.
	photos := cmpOr(os.Getenv("MARKWATCH_LOGO_UNRELATED_KEEP"), t.TempDir())
	marks, eng, images := fixtureEngine(t, cfg, photos)

	// Invented logos whose names are not the fixtures' marks'.
	taken := map[string]bool{}
	for _, m := range marks {
		taken[strings.ToLower(m.Name)] = true
	}
	// MARKWATCH_LOGO_UNRELATED_SEED draws another set of photos, to
	// check a setting chosen on the default set on photos it was not.
	seed := uint64(12)
	if v, err := strconv.ParseUint(os.Getenv("MARKWATCH_LOGO_UNRELATED_SEED"), 10, 64); err == nil {
		seed = v
	}
	r := rand.New(rand.NewPCG(2026, seed))
	var others []string
	for len(others) < 60 {
		if name := generate.InventedName(r); !taken[strings.ToLower(name)] {
			taken[strings.ToLower(name)] = true
			others = append(others, name)
		}
	}
	titles := []string{"Women's handbag new season", "Men's leather shoes", "Casual watch, fast shipping", "Cotton T-shirt size M", "Wireless earbuds with case", "Face cream 50 ml", "Silk scarf, gift box"}

	var withLogo, whole, partial, complaints, otherComplaints int
	var found []string
	for i := range n {
		img := generate.SellerPhoto(r, 800, 800)
		shown := ""
		if i%2 == 1 {
			shown = others[r.IntN(len(others))]
			lg, err := generate.InventedLogo(r, shown)
			if err != nil {
				t.Fatal(err)
			}
			generate.PutLogo(r, img, lg, generate.SceneOptions{})
			withLogo++
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 40 + r.IntN(51)}); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("u%05d.jpg", i)
		if err := os.WriteFile(filepath.Join(photos, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		l := &domain.Listing{SchemaVersion: 1, ListingID: fmt.Sprintf("unrelated-%05d", i), Version: 1, SellerID: "s-1",
			Title: titles[r.IntN(len(titles))], Images: []string{name}}
		p := matchers.NewListing(l)
		var err error
		if p.Images, err = images.Listing(ctx, l); err != nil {
			t.Fatal(err)
		}
		res, err := eng.Score(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, rs := range res {
			byLogo := false
			for _, e := range rs.Evidence {
				if e.Kind == logo.Kind || e.Kind == logo.PartialKind {
					kinds = append(kinds, rs.Mark.MarkID+" "+e.Kind+": "+e.Detail)
					byLogo = true
				}
			}
			if rs.Flagged {
				t.Logf("%s: complaint for %s at %.3f: %s", name, rs.Mark.MarkID, rs.Score, rs.Explanation)
				if byLogo {
					complaints++
				} else {
					otherComplaints++
				}
			}
		}
		w, pt := false, false
		for _, k := range kinds {
			w = w || strings.Contains(k, " "+logo.Kind+":")
			pt = pt || strings.Contains(k, " "+logo.PartialKind+":")
		}
		if w {
			whole++
		} else if pt {
			partial++
		}
		if len(kinds) > 0 {
			found = append(found, fmt.Sprintf("%s (%s): %s", name, cmpOr(shown, "no logo"), strings.Join(kinds, "; ")))
		}
		if n >= 1000 && (i+1)%500 == 0 {
			t.Logf("%d of %d photos", i+1, n)
		}
	}
	for _, f := range found {
		t.Log(f)
	}
	t.Logf("%d unrelated photos (%d with a logo that is not indexed): a whole logo found in %d (%.2f%%), only part of one in %d (%.2f%%); complaints with logo evidence %d, on other evidence %d",
		n, withLogo, whole, 100*float64(whole)/float64(n), partial, 100*float64(partial)/float64(n), complaints, otherComplaints)
	// Issue 11 §4 asks at most 0.2% of unrelated photos with a logo
	// found. At the fixtures' scale that is not met when the photo shows
	// another brand's logo built from the same parts as an indexed one
	// (the same round badge, emblem and typeface, another name): 1 of the
	// default 200 photos (0.5%, among the 100 with such a logo; 2 before
	// dense evenness and rivals settled by the pixels, 5 before dense
	// verification, 6 before guided matching; of 2,000, 0.40%, and 0.45%
	// with MARKWATCH_LOGO_UNRELATED_SEED=77; docs/BENCHMARKS.md,
	// "Unrelated photos at the fixtures' scale", "Guided matching",
	// "Dense verification", "Rivals settled by the pixels"). This bar,
	// what is reached, keeps it from getting worse.
	if n == 200 && whole > 1 {
		t.Errorf("a whole logo found in %d of %d unrelated photos, want at most 1 (what was reached)", whole, n)
	}
	// A logo alone is not a complaint: the text names no brand, and a
	// logo found is a use signal that needs aggravation to pass the
	// threshold.
	if complaints > 0 {
		t.Errorf("%d complaints with logo evidence on listings whose text names no brand and whose photo shows none of the marks' logos", complaints)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
