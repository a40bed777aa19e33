package evaluation_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/markwatch/markwatch/fixtures"
	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/imagefetch"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/logo"
)

func TestZZDiag(t *testing.T) {
	if os.Getenv("ZZ") == "" {
		t.Skip()
	}
	ctx := context.Background()
	cfg := config.Default()
	cfg.Detection.Logo.Enabled = true
	dir := fixtures.Dir()
	marks, _ := detection.ReadMarks(filepath.Join(dir, fixtures.MarksFile), cfg.Limits)
	hasher := detection.HasherFrom(cfg.Detection)
	fetch, _ := imagefetch.New(imagefetch.Options{BaseDir: dir, AllowFiles: true, MaxBytes: cfg.Detection.Image.MaxBytes, Timeout: cfg.Detection.Image.FetchTimeout})
	images, _ := detection.ImagesFrom(cfg.Detection, fetch, hasher, nil)
	prepared, _, _ := detection.PrepareMarks(ctx, marks, images, nil)
	eng, err := detection.Build(prepared, detection.OptionsFrom(cfg.Detection))
	if err != nil {
		t.Fatal(err)
	}
	_ = logo.Name
	f, _ := os.Open(filepath.Join(dir, fixtures.ListingsFile))
	defer f.Close()
	for rec := range detection.Records(f, cfg.Limits.MaxMessageBytes) {
		l, _ := domain.DecodeListing(rec.Data, cfg.Limits)
		p := matchers.NewListing(l)
		p.Images, _ = images.Listing(ctx, l)
		res, _ := eng.Score(ctx, p)
		for _, r := range res {
			part := false
			for _, e := range r.Evidence {
				part = part || e.Kind == "logo_partial"
			}
			if part {
				t.Logf("%s %-20s inf=%v label=%s mark=%s score=%.3f flagged=%v %q | %s", l.ListingID, l.Label.Kind, l.Label.Infringing, l.Label.MarkID, r.Mark.MarkID, r.Score, r.Flagged, l.Title, r.Explanation)
			}
		}
	}
}
