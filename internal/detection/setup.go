package detection

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/cue"
	"github.com/markwatch/markwatch/matchers/imagematch"
	"github.com/markwatch/markwatch/matchers/logo"
	"github.com/markwatch/markwatch/matchers/price"
	"github.com/markwatch/markwatch/matchers/score"
	"github.com/markwatch/markwatch/matchers/text"
)

// OptionsFrom maps the detection section of the configuration onto the
// options of every part of the detection core.
func OptionsFrom(d config.Detection) Options {
	extra := make([]cue.Entry, 0, len(d.Cues.Extra))
	for _, c := range d.Cues.Extra {
		e := cue.Entry{Phrase: c.Phrase, Weight: c.Weight}
		if c.Language != "" {
			e.Lang = cue.Langs{c.Language}
		}
		extra = append(extra, e)
	}
	return Options{
		Score: score.Options{Threshold: d.Threshold, RuleVersion: d.RuleVersion, Base: d.Base, MaxCandidates: d.MaxCandidates},
		Text: text.Options{
			DisableFuzzy: !d.Text.Fuzzy, FuzzyMinRunes: d.Text.FuzzyMinRunes, Fuzzy2MinRunes: d.Text.Fuzzy2MinRunes,
			FuzzyPrefix: d.Text.FuzzyPrefix, FuzzyCacheSize: d.Text.FuzzyCacheSize, MaxDescriptionBytes: d.Text.MaxDescriptionBytes,
		},
		Cue:   cue.Options{Entries: extra},
		Price: price.Options{Floor: d.Price.Floor, Base: d.Price.Base, Rates: d.Price.Rates},
		Image: imagematch.Options{MaxDistance: d.Image.MaxDistance},
		Logo: logo.Options{Disabled: !d.Logo.Enabled, MinInliers: d.Logo.MinInliers, MinCoverage: d.Logo.MinCoverage,
			MinDistinct: d.Logo.MinDistinct, MinPartialCoverage: d.Logo.MinPartialCoverage, MinEvenness: d.Logo.MinEvenness, MinGuidedEvenness: d.Logo.MinGuidedEvenness, MinDenseShare: d.Logo.MinDenseShare, MinDenseEvenness: d.Logo.MinDenseEvenness, RivalDenseMargin: d.Logo.RivalDenseMargin, RivalMinDense: d.Logo.RivalMinDense, RivalApartMargin: d.Logo.RivalApartMargin, RivalApartMin: d.Logo.RivalApartMin, StrongDense: d.Logo.StrongDense, ColourMinDense: d.Logo.ColourMinDense, Shortlist: d.Logo.Shortlist, ShortlistTables: d.Logo.ShortlistTables,
			ShortlistNearest: d.Logo.ShortlistNearest, ShortlistMargin: d.Logo.ShortlistMargin, ShortlistMinVotes: d.Logo.ShortlistMinVotes},
	}
}

// HasherFrom returns the image hasher the configuration asks for. Its
// decode bounds (max_decoding_bytes, decode_concurrency) hold for the
// images it decodes, so a process builds one and shares it.
func HasherFrom(d config.Detection) *imagematch.Hasher {
	return imagematch.NewHasher(imagematch.Limits{
		MaxBytes: d.Image.MaxBytes, MaxPixels: d.Image.MaxPixels,
		MaxDecodedBytes: d.Image.MaxDecodedBytes, MaxDecodingBytes: d.Image.MaxDecodingBytes,
		MaxDecoding: d.Image.DecodeConcurrency,
	})
}

// ImagesFrom returns an image preparer over fetch with the configured
// concurrency and cache, its metrics registered with reg (nil: none).
// When h is an *imagematch.Hasher and logo detection is not disabled, the
// preparer also computes the local features of listing images and logos
// for logo detection, decoded through h; with min_dense_share checked
// (not negative), a listing image's features keep its pixels, which the
// caller releases once the listing is matched (matchers.ReleasePixels).
func ImagesFrom(d config.Detection, fetch Fetcher, h Hasher, reg prometheus.Registerer) (*Images, error) {
	o := ImageOptions{Concurrency: d.Image.Concurrency, CacheSize: d.Image.CacheSize, FeatureImages: d.Logo.FeatureImages(), Registerer: reg}
	if ih, ok := h.(*imagematch.Hasher); ok && d.Logo.Enabled {
		o.Features = NewLumaFeatures(ih, logo.ExtractorOptions{NoUpsample: d.Logo.FastFeatures, Pixels: d.Logo.MinDenseShare >= 0, Colour: d.Logo.MinDenseShare >= 0 && d.Logo.ColourMinDense >= 0})
	}
	return NewImages(fetch, h, o)
}

// PrepareMarks hashes the reference images of marks (paths relative to
// the images' base directory) and returns them ready for Build, with the
// reference images that could not be hashed and that their marks are
// used without (see Images.Mark). progress, if not nil, is called after
// each mark. The error is only ctx's.
func PrepareMarks(ctx context.Context, marks []*domain.Mark, im *Images, progress func()) ([]*matchers.Mark, []SkippedReference, error) {
	out := make([]*matchers.Mark, len(marks))
	var skipped []SkippedReference
	for i, m := range marks {
		p, s, err := im.Mark(ctx, m)
		if err != nil {
			return nil, nil, err
		}
		out[i] = p
		skipped = append(skipped, s...)
		if progress != nil {
			progress()
		}
	}
	return out, skipped, nil
}
