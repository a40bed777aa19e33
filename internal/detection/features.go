package detection

import (
	"context"
	"fmt"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/imagematch"
	"github.com/markwatch/markwatch/matchers/logo"
)

// LumaFeatures computes logo detection's local features from images
// decoded by an imagematch.Hasher (Hasher.LumaAtLeast), so that they are
// decoded within the process's one decode budget and caps. A JPEG's luma
// is decoded alone (no chroma transform, no colour conversion), which
// costs 50–70% of image/jpeg's full decode of an 800×800 photo
// (docs/BENCHMARKS.md, "Luma decode and image throughput"). As a
// ListingPreparer it hashes a listing image and computes its features
// from that one decode (PrepareListing).
type LumaFeatures struct {
	h  *imagematch.Hasher
	ex *logo.Extractor
	// listingMinSide is LumaFeaturesOptions.ListingMinSide.
	listingMinSide int
	// colour says the extractor describes colour planes
	// (logo.ExtractorOptions.Colour, with Pixels): a listing image's
	// are decoded with its luma.
	colour bool
}

// LumaFeaturesOptions configures LumaFeatures.
type LumaFeaturesOptions struct {
	// Extractor configures the feature extractor.
	Extractor logo.ExtractorOptions
	// ListingMinSide, when above 0, lets a listing image be decoded at
	// 1/2 or 1/4 scale as long as its longer side stays at least that
	// many pixels (Hasher.LumaAtLeast). That saves the extractor's
	// work on a quarter of the pixels, and three quarters of the grey
	// image's memory, but little of the decode: entropy decoding, which
	// every scale needs, is most of it. 0, the default, decodes at full
	// resolution: the extractor's smallest logos (8% of an 800-pixel
	// photo's width) need it; at 400 the fixtures' logo_in_photo recall
	// fell from 0.80 to 0.57. Logos are always decoded in full.
	ListingMinSide int
}

// NewLumaFeatures returns a FeatureExtractor decoding through h at full
// resolution.
func NewLumaFeatures(h *imagematch.Hasher, o logo.ExtractorOptions) *LumaFeatures {
	return NewLumaFeaturesWith(h, LumaFeaturesOptions{Extractor: o})
}

// NewLumaFeaturesWith returns a FeatureExtractor decoding through h as o
// says.
func NewLumaFeaturesWith(h *imagematch.Hasher, o LumaFeaturesOptions) *LumaFeatures {
	return &LumaFeatures{h: h, ex: logo.NewExtractor(o.Extractor), listingMinSide: max(o.ListingMinSide, 0), colour: o.Extractor.Colour && o.Extractor.Pixels}
}

// ListingFeatures decodes a listing image and returns its features.
func (l *LumaFeatures) ListingFeatures(ctx context.Context, data []byte) (*matchers.Features, error) {
	if l.colour && l.listingMinSide == 0 {
		c, err := l.h.LumaColour(ctx, data)
		if err != nil {
			return nil, fmt.Errorf("detection: listing features: %w", err)
		}
		return l.ex.ListingColour(c.Y, c.Cb, c.Cr), nil
	}
	g, err := l.h.LumaAtLeast(ctx, data, l.listingMinSide)
	if err != nil {
		return nil, fmt.Errorf("detection: listing features: %w", err)
	}
	return l.ex.Listing(g), nil
}

// PrepareListing hashes a listing image and computes its features from
// one decode (imagematch.Hasher.HashListingImageLuma, or
// HashListingImageColour with the colour planes): the hashes and
// regions are HashListingImageRegions', the features ListingFeatures',
// for one entropy decode of a JPEG instead of two. With ListingMinSide
// set the luma is reduced, which the hashes cannot use, so the image is
// decoded twice as before. features is nil when the image hashes but its
// luma cannot be had (ListingFeatures' error), as Images keeps it.
func (l *LumaFeatures) PrepareListing(ctx context.Context, data []byte) (hashes []uint64, regions []*domain.Region, features *matchers.Features, err error) {
	if l.listingMinSide > 0 {
		hashes, regions, err = l.h.HashListingImageRegions(ctx, data)
		if err != nil {
			return nil, nil, nil, err
		}
		features, _ = l.ListingFeatures(ctx, data)
		return hashes, regions, features, nil
	}
	var c imagematch.Colour
	if l.colour {
		hashes, regions, c, err = l.h.HashListingImageColour(ctx, data)
	} else {
		hashes, regions, c.Y, err = l.h.HashListingImageLuma(ctx, data)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if c.Y != nil {
		// Without colour planes, the luma's features alone.
		features = l.ex.ListingColour(c.Y, c.Cb, c.Cr)
	}
	return hashes, regions, features, nil
}

// LogoFeatures decodes a mark's logo and returns its features; a logo
// with too few corners fails with logo.ErrNoFeatures.
func (l *LumaFeatures) LogoFeatures(ctx context.Context, data []byte) (*matchers.Features, error) {
	g, err := l.h.Luma(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("detection: logo features: %w", err)
	}
	f, err := l.ex.Logo(g)
	if err != nil {
		return nil, fmt.Errorf("detection: logo features: %w", err)
	}
	return f, nil
}
