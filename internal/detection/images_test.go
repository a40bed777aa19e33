package detection

import (
	"context"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/imagefetch"
)

// mapFetcher serves the bytes of known references; others are 404.
type mapFetcher map[string][]byte

func (f mapFetcher) Fetch(_ context.Context, ref string) ([]byte, error) {
	if b, ok := f[ref]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("fetch %s: %w", ref, &imagefetch.StatusError{URL: ref, Code: 404})
}

// lenHasher hashes an image to its length.
type lenHasher struct{}

func (lenHasher) HashListingImage(b []byte) ([]uint64, error) { return []uint64{uint64(len(b))}, nil }
func (lenHasher) HashReference(b []byte) ([]uint64, error)    { return []uint64{uint64(len(b))}, nil }

// TestImagesCausesAndCache checks the cause given to each listing image
// and the cache lookups counted: a URL seen before is a url hit; the same
// bytes under another URL a content hit.
func TestImagesCausesAndCache(t *testing.T) {
	reg := prometheus.NewRegistry()
	im, err := NewImages(mapFetcher{"a": []byte("aaaa"), "b": []byte("aaaa")}, lenHasher{}, ImageOptions{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	first, err := im.Listing(ctx, &domain.Listing{Images: []string{"a", "gone"}})
	if err != nil {
		t.Fatal(err)
	}
	if first[0].Cause != CauseOK || first[1].Cause != CauseNotFound || first[1].Err == "" {
		t.Errorf("first listing: %+v", first)
	}
	again, err := im.Listing(ctx, &domain.Listing{Images: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Cause != CauseCached || again[1].Cause != CauseOK || len(again[1].Hashes) != 1 {
		t.Errorf("second listing: %+v", again)
	}
	for labels, want := range map[[2]string]float64{
		{cacheURL, "hit"}: 1, {cacheURL, "miss"}: 3, {cacheContent, "hit"}: 1, {cacheContent, "miss"}: 1,
	} {
		if got := testutil.ToFloat64(im.lookups.WithLabelValues(labels[0], labels[1])); got != want {
			t.Errorf("lookups{cache=%s,result=%s} = %v, want %v", labels[0], labels[1], got, want)
		}
	}
	if _, err := NewImages(mapFetcher{}, lenHasher{}, ImageOptions{Registerer: reg}); err == nil {
		t.Error("a second preparer on one registry registered its metrics twice")
	}
}
