package detection

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/telemetry"
	"github.com/markwatch/markwatch/matchers"
)

// Fetcher loads the bytes of an image reference (path, file:// or
// http(s) URL). internal/imagefetch implements it.
type Fetcher interface {
	Fetch(ctx context.Context, ref string) ([]byte, error)
}

// Hasher computes perceptual hashes. matchers/imagematch implements it.
type Hasher interface {
	HashListingImage(data []byte) ([]uint64, error)
	HashReference(data []byte) ([]uint64, error)
}

// ImageOptions configures image preparation.
type ImageOptions struct {
	// Concurrency bounds the images fetched and hashed at once (default 8).
	Concurrency int
	// CacheSize is how many hash sets are kept by URL and by content
	// (default 10000 each).
	CacheSize int
	// Registerer receives markwatch_image_cache_lookups_total; nil means
	// none.
	Registerer prometheus.Registerer
}

// Images fetches and hashes listing and mark images, at most Concurrency
// at a time, caching the hashes by URL and by content so that an image
// reused across listings is hashed once. Safe for concurrent use.
type Images struct {
	fetch   Fetcher
	hash    Hasher
	sem     chan struct{}
	byURL   *lru.Cache[string, []uint64]
	byBytes *lru.Cache[[32]byte, []uint64]
	lookups *prometheus.CounterVec
}

// NewImages returns an image preparer.
func NewImages(f Fetcher, h Hasher, o ImageOptions) (*Images, error) {
	if f == nil || h == nil {
		return nil, errors.New("detection: images need a fetcher and a hasher")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 10000
	}
	byURL, err := lru.New[string, []uint64](o.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("detection: image cache: %w", err)
	}
	byBytes, err := lru.New[[32]byte, []uint64](o.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("detection: image cache: %w", err)
	}
	lookups, err := telemetry.Build(o.Registerer, func(f promauto.Factory) *prometheus.CounterVec {
		return f.NewCounterVec(prometheus.CounterOpts{
			Namespace: telemetry.Namespace, Subsystem: "image", Name: "cache_lookups_total",
			Help: "Image hash cache lookups, by cache (url: the listing image's URL, content: the fetched bytes' SHA-256) and result (hit, miss). A hit by url saves the fetch, by content the decode and hash.",
		}, []string{"cache", "result"})
	})
	if err != nil {
		return nil, fmt.Errorf("detection: images: %w", err)
	}
	telemetry.Init(lookups, []string{cacheURL, cacheContent}, []string{"hit", "miss"})
	return &Images{fetch: f, hash: h, sem: make(chan struct{}, o.Concurrency), byURL: byURL, byBytes: byBytes, lookups: lookups}, nil
}

// Listing fetches and hashes a listing's images concurrently. An image
// that cannot be had is returned with Err set and no hashes, and the
// listing is scored on what is left. The error is only ctx's.
func (im *Images) Listing(ctx context.Context, l *domain.Listing) ([]matchers.ListingImage, error) {
	out := make([]matchers.ListingImage, len(l.Images))
	var wg sync.WaitGroup
	for i, ref := range l.Images {
		out[i] = matchers.ListingImage{Index: i, URL: ref}
		h, ok := im.byURL.Get(ref)
		im.lookups.WithLabelValues(cacheURL, hitOrMiss(ok)).Inc()
		if ok {
			out[i].Hashes, out[i].Cause = h, CauseCached
			continue
		}
		wg.Go(func() {
			h, err := im.load(ctx, ref, im.hash.HashListingImage)
			out[i].Cause = ImageCause(err)
			if err != nil {
				out[i].Err = err.Error()
				return
			}
			im.byURL.Add(ref, h)
			out[i].Hashes = h
		})
	}
	wg.Wait()
	return out, ctx.Err()
}

// load fetches ref and hashes it with fn, under the concurrency bound.
func (im *Images) load(ctx context.Context, ref string, fn func([]byte) ([]uint64, error)) ([]uint64, error) {
	select {
	case im.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-im.sem }()
	data, err := im.fetch.Fetch(ctx, ref)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	h, ok := im.byBytes.Get(sum)
	im.lookups.WithLabelValues(cacheContent, hitOrMiss(ok)).Inc()
	if ok {
		return h, nil
	}
	h, err = fn(data)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	im.byBytes.Add(sum, h)
	return h, nil
}

// The caches of markwatch_image_cache_lookups_total.
const (
	cacheURL     = "url"
	cacheContent = "content"
)

func hitOrMiss(hit bool) string {
	if hit {
		return "hit"
	}
	return "miss"
}

// Mark prepares a mark for matching. Reference images the mark does not
// carry hashes for (ImageHashes) are fetched and hashed; failing to hash a
// reference image is an error, because a mark silently missing its logo
// would miss every listing that reuses it.
func (im *Images) Mark(ctx context.Context, m *domain.Mark) (*matchers.Mark, error) {
	have := map[string]bool{}
	for _, ih := range m.ImageHashes {
		have[ih.URL] = true
	}
	refs := make([]domain.ImageHash, 0, len(m.Logos)+len(m.OfficialImages))
	add := func(kind string, urls []string) {
		for _, u := range urls {
			if !have[u] {
				refs = append(refs, domain.ImageHash{Kind: kind, URL: u})
			}
		}
	}
	add(matchers.RefLogo, m.Logos)
	add(matchers.RefOfficial, m.OfficialImages)
	errs := make([]error, len(refs))
	var wg sync.WaitGroup
	for i := range refs {
		wg.Go(func() {
			h, err := im.load(ctx, refs[i].URL, im.hash.HashReference)
			if err != nil {
				errs[i] = fmt.Errorf("mark %s: %s %s: %w", m.MarkID, refs[i].Kind, refs[i].URL, err)
				return
			}
			for _, x := range h {
				refs[i].Hashes = append(refs[i].Hashes, matchers.FormatHash(x))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cp := *m
	cp.ImageHashes = append(append([]domain.ImageHash(nil), m.ImageHashes...), refs...)
	return matchers.NewMark(&cp)
}
