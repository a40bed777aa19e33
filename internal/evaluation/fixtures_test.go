package evaluation_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/markwatch/markwatch/fixtures"
	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/evaluation"
	"github.com/markwatch/markwatch/internal/imagefetch"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/logo"
)

// scoreFixtures scores every labeled fixture listing with the engine built
// from the fixture marks and the default configuration.
func scoreFixtures(t *testing.T, opts ...func(*config.Config)) *evaluation.Evaluation {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	for _, o := range opts {
		o(&cfg)
	}
	dir := fixtures.Dir()
	_, eng, images := fixtureEngine(t, cfg, dir)

	f, err := os.Open(filepath.Join(dir, fixtures.ListingsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ev := &evaluation.Evaluation{}
	negs, logoNegs := map[string]int{}, map[string]int{}
	for rec := range detection.Records(f, cfg.Limits.MaxMessageBytes) {
		if rec.Err != nil {
			t.Fatalf("line %d: %v", rec.Line, rec.Err)
		}
		l, err := domain.DecodeListing(rec.Data, cfg.Limits)
		if err != nil {
			t.Fatalf("line %d: %v", rec.Line, err)
		}
		p := matchers.NewListing(l)
		if p.Images, err = images.Listing(ctx, l); err != nil {
			t.Fatal(err)
		}
		for _, img := range p.Images {
			if img.Err != "" {
				t.Errorf("listing %s: image %s: %s", l.ListingID, img.URL, img.Err)
			}
		}
		res, err := eng.Score(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		ev.Add(l, res)
		if cfg.Detection.Logo.Enabled && l.Label != nil && !l.Label.Infringing && len(p.Images) > 0 {
			negs[l.Label.Kind]++
			for _, r := range res {
				if r.Signals[logo.Name] > 0 {
					logoNegs[l.Label.Kind]++
					break
				}
			}
		}
	}
	// Negative listings with photos where some logo is found, by kind
	// (zeros too: the bar is the share of unrelated photos): a
	// logo match is a use signal, not a complaint, but one on a seller's
	// own photo is a false logo detection.
	for _, k := range slices.Sorted(maps.Keys(negs)) {
		t.Logf("negative kind %s: a logo found in %d of %d listings", k, logoNegs[k], negs[k])
	}
	return ev
}

// fixtureEngine builds the engine of the fixture marks under cfg, and the
// listing images' preparation fetching files under dir; the engine is
// closed when the test ends.
func fixtureEngine(t *testing.T, cfg config.Config, dir string) ([]*domain.Mark, *detection.Engine, *detection.Images) {
	t.Helper()
	marks, err := detection.ReadMarks(filepath.Join(fixtures.Dir(), fixtures.MarksFile), cfg.Limits)
	if err != nil {
		t.Fatal(err)
	}
	imagesUnder := func(dir string) *detection.Images {
		fetch, err := imagefetch.New(imagefetch.Options{BaseDir: dir, AllowFiles: true, MaxBytes: cfg.Detection.Image.MaxBytes, Timeout: cfg.Detection.Image.FetchTimeout})
		if err != nil {
			t.Fatal(err)
		}
		images, err := detection.ImagesFrom(cfg.Detection, fetch, detection.HasherFrom(cfg.Detection), nil)
		if err != nil {
			t.Fatal(err)
		}
		return images
	}
	refs := imagesUnder(fixtures.Dir())
	prepared, skipped, err := detection.PrepareMarks(context.Background(), marks, refs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) > 0 {
		t.Fatalf("fixture reference images not usable: %v", skipped)
	}
	eng, err := detection.Build(prepared, detection.OptionsFrom(cfg.Detection))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if dir == fixtures.Dir() {
		return marks, eng, refs
	}
	return marks, eng, imagesUnder(dir)
}
