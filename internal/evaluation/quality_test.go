package evaluation_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/fixtures"
	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/evaluation"
	"github.com/markwatch/markwatch/internal/imagefetch"
	"github.com/markwatch/markwatch/matchers"
)

// TestQualityOnFixtures holds the detection core to the quality bar of the
// detection issue on the deterministic fixtures: precision ≥ 0.97 and
// recall ≥ 0.93 overall, recall ≥ 0.90 for every positive kind, and no
// false positive on authorized sellers or nominative use.
func TestQualityOnFixtures(t *testing.T) {
	if testing.Short() {
		t.Skip("scores every fixture listing")
	}
	ctx := context.Background()
	cfg := config.Default()
	dir := fixtures.Dir()
	marks, err := detection.ReadMarks(filepath.Join(dir, fixtures.MarksFile), cfg.Limits)
	if err != nil {
		t.Fatal(err)
	}
	hasher := detection.HasherFrom(cfg.Detection)
	fetch, err := imagefetch.New(imagefetch.Options{BaseDir: dir, AllowFiles: true, MaxBytes: cfg.Detection.Image.MaxBytes, Timeout: cfg.Detection.Image.FetchTimeout})
	if err != nil {
		t.Fatal(err)
	}
	images, err := detection.ImagesFrom(cfg.Detection, fetch, hasher, nil)
	if err != nil {
		t.Fatal(err)
	}
	prepared, skipped, err := detection.PrepareMarks(ctx, marks, images, nil)
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
	defer eng.Close()

	f, err := os.Open(filepath.Join(dir, fixtures.ListingsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ev evaluation.Evaluation
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
	}
	c := ev.Overall()
	t.Logf("%d listings: precision %.4f recall %.4f F1 %.4f (TP %d FP %d FN %d TN %d)",
		len(ev.Outcomes), c.Precision(), c.Recall(), c.F1(), c.TP, c.FP, c.FN, c.TN)
	if len(ev.Outcomes) < 2000 {
		t.Errorf("only %d labeled listings, want at least 2000", len(ev.Outcomes))
	}
	if c.Precision() < 0.97 {
		t.Errorf("precision %.4f < 0.97", c.Precision())
	}
	if c.Recall() < 0.93 {
		t.Errorf("recall %.4f < 0.93", c.Recall())
	}
	for _, k := range ev.ByKind() {
		switch {
		case k.Infringing && k.Recall() < 0.90:
			t.Errorf("kind %s: recall %.3f < 0.90 (%d of %d)", k.Kind, k.Recall(), k.TP, k.TP+k.FN)
		case !k.Infringing && (k.Kind == "authorized_seller" || k.Kind == "nominative") && k.FP > 0:
			t.Errorf("kind %s: %d false positives, want none", k.Kind, k.FP)
		}
	}
	if t.Failed() || os.Getenv("MARKWATCH_EVAL_REPORT") != "" {
		var b strings.Builder
		if err := ev.WriteReport(&b, 400); err != nil {
			t.Fatal(err)
		}
		t.Log("\n" + b.String())
	}
}
