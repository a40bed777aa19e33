package detection

import (
	"context"
	"fmt"

	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/imagematch"
	"github.com/markwatch/markwatch/matchers/logo"
)

// LumaFeatures computes logo detection's local features from images
// decoded by an imagematch.Hasher (Hasher.Luma), so that they are decoded
// within the process's one decode budget and caps.
type LumaFeatures struct {
	h  *imagematch.Hasher
	ex *logo.Extractor
}

// NewLumaFeatures returns a FeatureExtractor decoding through h.
func NewLumaFeatures(h *imagematch.Hasher, o logo.ExtractorOptions) *LumaFeatures {
	return &LumaFeatures{h: h, ex: logo.NewExtractor(o)}
}

// ListingFeatures decodes a listing image and returns its features.
func (l *LumaFeatures) ListingFeatures(ctx context.Context, data []byte) (*matchers.Features, error) {
	g, err := l.h.Luma(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("detection: listing features: %w", err)
	}
	return l.ex.Listing(g), nil
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
