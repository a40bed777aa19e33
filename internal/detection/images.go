package detection

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/imagefetch"
	"github.com/markwatch/markwatch/internal/telemetry"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/imagematch"
)

// Fetcher loads the bytes of an image reference (path, file:// or
// http(s) URL). internal/imagefetch implements it.
type Fetcher interface {
	Fetch(ctx context.Context, ref string) ([]byte, error)
}

// Hasher computes perceptual hashes. matchers/imagematch implements it;
// it may wait for its turn to decode until ctx ends.
type Hasher interface {
	HashListingImage(ctx context.Context, data []byte) ([]uint64, error)
	HashReference(ctx context.Context, data []byte) ([]uint64, error)
}

// RegionHasher is a Hasher that also says which part of a listing image
// each hash was computed from (matchers.ListingImage.Regions), so that
// image evidence can name the region that matched. matchers/imagematch
// implements it; a Hasher without it leaves the regions unknown.
type RegionHasher interface {
	HashListingImageRegions(ctx context.Context, data []byte) ([]uint64, []*domain.Region, error)
}

// FeatureExtractor computes the local features logo detection compares
// (matchers/logo). LumaFeatures implements it over an imagematch.Hasher,
// so images are decoded within the hasher's budget.
type FeatureExtractor interface {
	ListingFeatures(ctx context.Context, data []byte) (*matchers.Features, error)
	LogoFeatures(ctx context.Context, data []byte) (*matchers.Features, error)
}

// ListingPreparer prepares a listing image for matching from one decode:
// its hashes, the region of each (as RegionHasher), and its local
// features, nil when it has none. LumaFeatures implements it over an
// imagematch.Hasher. An error means the image could not be hashed.
type ListingPreparer interface {
	PrepareListing(ctx context.Context, data []byte) (hashes []uint64, regions []*domain.Region, features *matchers.Features, err error)
}

// ImageOptions configures image preparation.
type ImageOptions struct {
	// Features, if set, computes listing images' and logos' local
	// features beside their hashes, for logo detection; nil means none.
	// If it is also a ListingPreparer, listing images are hashed and
	// their features computed through it, from one decode, instead of
	// through the Hasher and then ListingFeatures: it must hash as the
	// Hasher does (LumaFeatures over the same imagematch.Hasher, as
	// ImagesFrom builds it).
	Features FeatureExtractor
	// Concurrency bounds the images fetched and hashed at once (default 8).
	Concurrency int
	// CacheSize is how many hash sets are kept by URL and by content
	// (default 10000 each).
	CacheSize int
	// FeatureImages, when positive, computes Features for a listing's
	// first FeatureImages images only (the others are hashed alone):
	// logo detection costs tens of milliseconds of CPU an image, and a
	// listing may carry up to limits.max_images. 0: every image.
	FeatureImages int
	// Registerer receives the preparer's metrics
	// (markwatch_reference_images_skipped_total,
	// markwatch_image_cache_lookups_total); nil means none.
	Registerer prometheus.Registerer
}

// Images fetches and hashes listing and mark images, at most Concurrency
// at a time, caching the hashes by URL and by content so that an image
// reused across listings is hashed once. Safe for concurrent use.
type Images struct {
	fetch    Fetcher
	hash     Hasher
	features FeatureExtractor
	// featureImages is ImageOptions.FeatureImages.
	featureImages int
	sem           chan struct{}
	byURL         *lru.Cache[string, prepared]
	byBytes       *lru.Cache[contentKey, prepared]
	metrics       *imageMetrics
}

// contentKey keys the by-content cache: the same bytes are prepared one
// way as a listing image and another as a mark's reference (a
// reference's hashes include mirrored and cropped copies, a logo's
// features are a logo's), so a listing that reuses a mark's file gets a
// listing image's preparation.
type contentKey struct {
	sum  [32]byte
	role uint8
}

// Roles of a prepared image, in contentKey.
const (
	roleListing uint8 = iota
	roleReference
)

// prepared is what is kept of one image: its hashes, for a listing image
// hashed by a RegionHasher their regions, and, when features are computed,
// its local features (nil if it has none).
type prepared struct {
	hashes   []uint64
	regions  []*domain.Region
	features *matchers.Features
	// featured says the features were computed (features may still be
	// nil: none found): an image first prepared without them, past a
	// listing's FeatureImages, is prepared again where they are wanted.
	featured bool
	// pixels says the features kept the image's pixels when computed
	// (logo.ExtractorOptions.Pixels). The caches hold them without:
	// the pixels (the working plane, and the pyramid built from it for
	// a photo with a fit to check, pooled) are the caller's, released
	// once the listing is matched. Such an entry does not do for a request for
	// features, lest a repeated image be matched without its pixels and
	// decided otherwise than the first time; it still does for hashes.
	pixels bool
}

// cached returns p as the caches keep it: a shallow copy of its features
// without their pixels, which stay with the caller's copy.
func (p prepared) cached() prepared {
	if p.features != nil && (p.features.Pixels != nil || p.features.Colour != nil) {
		// The colour planes' features are of no use without their
		// pixels (a fit there is kept only when they confirm it).
		f := *p.features
		f.Pixels, f.Colour = nil, nil
		p.features = &f
	}
	return p
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
	byURL, err := lru.New[string, prepared](o.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("detection: image cache: %w", err)
	}
	byBytes, err := lru.New[contentKey, prepared](o.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("detection: image cache: %w", err)
	}
	m, err := newImageMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	return &Images{fetch: f, hash: h, features: o.Features, featureImages: max(o.FeatureImages, 0), sem: make(chan struct{}, o.Concurrency), byURL: byURL, byBytes: byBytes, metrics: m}, nil
}

// Listing fetches and hashes a listing's images concurrently. An image
// that cannot be had is returned with Err set and no hashes, and the
// listing is scored on what is left. Features that keep their image's
// pixels (logo.ExtractorOptions.Pixels) are the caller's, to release once
// the listing is matched (matchers.ReleasePixels); the caches keep them
// without, so such an image is fetched and prepared again whenever its
// features are wanted. The error is only ctx's.
func (im *Images) Listing(ctx context.Context, l *domain.Listing) ([]matchers.ListingImage, error) {
	out := make([]matchers.ListingImage, len(l.Images))
	var wg sync.WaitGroup
	for i, ref := range l.Images {
		out[i] = matchers.ListingImage{Index: i, URL: ref}
		feat := im.features != nil && (im.featureImages == 0 || i < im.featureImages)
		h, ok := im.byURL.Get(ref)
		ok = ok && (h.featured || !feat) && !(feat && h.pixels)
		im.metrics.lookups.WithLabelValues(cacheURL, hitOrMiss(ok)).Inc()
		if ok {
			out[i].Hashes, out[i].Regions, out[i].Cause = h.hashes, h.regions, CauseCached
			if feat {
				out[i].Features = h.features
			}
			continue
		}
		wg.Go(func() {
			h, err := im.loadListing(ctx, ref, feat)
			out[i].Cause = ImageCause(err)
			if err != nil {
				out[i].Err = err.Error()
				return
			}
			if old, ok := im.byURL.Peek(ref); !ok || h.featured || !old.featured {
				im.byURL.Add(ref, h.cached())
			}
			out[i].Hashes, out[i].Regions = h.hashes, h.regions
			if feat {
				out[i].Features = h.features
			}
		})
	}
	wg.Wait()
	return out, ctx.Err()
}

// loadListing fetches, hashes and prepares a listing image, with its
// features when feat: from one decode when the feature extractor is a
// ListingPreparer, otherwise through the hasher and then the extractor.
func (im *Images) loadListing(ctx context.Context, ref string, feat bool) (prepared, error) {
	if !feat {
		return im.load(ctx, ref, roleListing, false, im.hashListing, nil)
	}
	lp, ok := im.features.(ListingPreparer)
	if !ok {
		return im.load(ctx, ref, roleListing, true, im.hashListing, im.features.ListingFeatures)
	}
	return im.load(ctx, ref, roleListing, true, func(ctx context.Context, data []byte) (prepared, error) {
		h, r, f, err := lp.PrepareListing(ctx, data)
		if err == nil && f == nil && ctx.Err() != nil {
			// As load does when the features alone fail for it.
			return prepared{}, ctx.Err()
		}
		return prepared{hashes: h, regions: r, features: f}, err
	}, nil)
}

// hashListing hashes a listing image, with its regions when the hasher
// knows them.
func (im *Images) hashListing(ctx context.Context, data []byte) (prepared, error) {
	if rh, ok := im.hash.(RegionHasher); ok {
		h, r, err := rh.HashListingImageRegions(ctx, data)
		return prepared{hashes: h, regions: r}, err
	}
	h, err := im.hash.HashListingImage(ctx, data)
	return prepared{hashes: h}, err
}

// hashReference hashes a mark's reference image.
func (im *Images) hashReference(ctx context.Context, data []byte) (prepared, error) {
	h, err := im.hash.HashReference(ctx, data)
	return prepared{hashes: h}, err
}

// featureFunc computes an image's local features.
type featureFunc func(context.Context, []byte) (*matchers.Features, error)

// load fetches ref and prepares it in role: hashes it with fn, and
// computes its features with feat if not nil (or fn does), under the
// concurrency bound; withFeatures says the features are wanted, so a
// cached preparation without them does not do. An image that hashes but
// has no features is kept with its hashes: logo detection is one signal
// of several.
func (im *Images) load(ctx context.Context, ref string, role uint8, withFeatures bool, fn func(context.Context, []byte) (prepared, error), feat featureFunc) (prepared, error) {
	select {
	case im.sem <- struct{}{}:
	case <-ctx.Done():
		return prepared{}, ctx.Err()
	}
	defer func() { <-im.sem }()
	data, err := im.fetch.Fetch(ctx, ref)
	if err != nil {
		return prepared{}, err
	}
	key := contentKey{sha256.Sum256(data), role}
	p, ok := im.byBytes.Get(key)
	ok = ok && (p.featured || !withFeatures) && !(withFeatures && p.pixels)
	im.metrics.lookups.WithLabelValues(cacheContent, hitOrMiss(ok)).Inc()
	if ok {
		return p, nil
	}
	p, err = fn(ctx, data)
	if err != nil {
		return prepared{}, fmt.Errorf("image %s: %w", ref, err)
	}
	if feat != nil {
		f, err := feat(ctx, data)
		switch {
		case err == nil:
			p.features = f
		case ctx.Err() != nil:
			return prepared{}, ctx.Err()
		}
	}
	p.featured = withFeatures
	p.pixels = p.features != nil && p.features.Pixels != nil
	if old, ok := im.byBytes.Peek(key); !ok || p.featured || !old.featured {
		im.byBytes.Add(key, p.cached())
	}
	return p, nil
}

// Reasons a reference image is skipped, the values of the reason label of
// markwatch_reference_images_skipped_total.
const (
	SkipUnreadable  = "unreadable"  // not fetched, or not a JPEG, PNG, GIF or WebP
	SkipFeatureless = "featureless" // blank or nearly uniform on every ground
	SkipTooLarge    = "too_large"   // over a byte, pixel or decoded-bytes cap
)

// SkippedReference is a mark's reference image that could not be hashed:
// the mark is used without it.
type SkippedReference struct {
	MarkID string
	// Kind is logo or official.
	Kind string
	URL  string
	// Reason is SkipUnreadable, SkipFeatureless or SkipTooLarge.
	Reason string
	Err    error
}

func (s SkippedReference) String() string {
	return fmt.Sprintf("mark %s: %s %s not used (%s): %v", s.MarkID, s.Kind, s.URL, s.Reason, s.Err)
}

// skipReason classifies why a reference image could not be hashed.
func skipReason(err error) string {
	switch {
	case errors.Is(err, imagematch.ErrTooLarge), errors.Is(err, imagefetch.ErrTooLarge):
		return SkipTooLarge
	case errors.Is(err, imagematch.ErrFeatureless):
		return SkipFeatureless
	}
	return SkipUnreadable
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
// carry hashes for (ImageHashes) are fetched and hashed. One that cannot
// be (unreadable, featureless, too large) is returned in skipped with the
// reason, counted in markwatch_reference_images_skipped_total, and left
// out: the mark is used with the rest, since its word mark and its other
// images still find listings, and one bad file must not stop a whole run.
// The error is only ctx's.
func (im *Images) Mark(ctx context.Context, m *domain.Mark) (_ *matchers.Mark, skipped []SkippedReference, _ error) {
	// A logo carried without features is prepared again when features are
	// computed, so that marks hashed before logo detection get them.
	have := map[string]bool{}
	old := map[string]domain.ImageHash{}
	for _, ih := range m.ImageHashes {
		old[ih.URL] = ih
		if ih.Kind != matchers.RefLogo || ih.Features != "" || im.features == nil {
			have[ih.URL] = true
		}
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
			var feat featureFunc
			if refs[i].Kind == matchers.RefLogo && im.features != nil {
				feat = im.features.LogoFeatures
			}
			p, err := im.load(ctx, refs[i].URL, roleReference, feat != nil, im.hashReference, feat)
			if err != nil {
				errs[i] = err
				return
			}
			for _, x := range p.hashes {
				refs[i].Hashes = append(refs[i].Hashes, matchers.FormatHash(x))
			}
			if p.features != nil {
				// A logo whose features cannot be encoded (too large an
				// image) is still matched by its hashes.
				if enc, err := matchers.EncodeFeatures(p.features); err == nil {
					refs[i].Features = enc
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	cp := *m
	cp.ImageHashes = nil
	for _, ih := range m.ImageHashes {
		if have[ih.URL] {
			cp.ImageHashes = append(cp.ImageHashes, ih)
		}
	}
	for i, ref := range refs {
		if errs[i] != nil {
			if ih, ok := old[ref.URL]; ok {
				// Hashed before: keep those hashes, without features.
				cp.ImageHashes = append(cp.ImageHashes, ih)
				continue
			}
			s := SkippedReference{MarkID: m.MarkID, Kind: ref.Kind, URL: ref.URL, Reason: skipReason(errs[i]), Err: errs[i]}
			im.metrics.skipped.WithLabelValues(s.Reason).Inc()
			skipped = append(skipped, s)
			continue
		}
		cp.ImageHashes = append(cp.ImageHashes, ref)
	}
	p, err := matchers.NewMark(&cp)
	if err != nil {
		return nil, nil, err
	}
	return p, skipped, nil
}

// imageMetrics are the image preparer's metrics.
type imageMetrics struct {
	skipped *prometheus.CounterVec
	lookups *prometheus.CounterVec
}

// newImageMetrics registers the metrics with reg, or keeps them
// unregistered when reg is nil. A process may build several preparers on
// one registry (reference and listing images): they share the counters, so
// a collector already registered is reused rather than refused.
func newImageMetrics(reg prometheus.Registerer) (*imageMetrics, error) {
	skipped, err := registerShared(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: telemetry.Namespace, Name: "reference_images_skipped_total",
		Help: "Reference images of marks that could not be hashed and that the mark is used without, by reason (unreadable, featureless, too_large).",
	}, []string{"reason"}))
	if err != nil {
		return nil, err
	}
	lookups, err := registerShared(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: telemetry.Namespace, Subsystem: "image", Name: "cache_lookups_total",
		Help: "Image hash cache lookups, by cache (url: the listing image's URL, content: the fetched bytes' SHA-256) and result (hit, miss). A hit by url saves the fetch, by content the decode and hash.",
	}, []string{"cache", "result"}))
	if err != nil {
		return nil, err
	}
	telemetry.Init(skipped, []string{SkipUnreadable, SkipFeatureless, SkipTooLarge})
	telemetry.Init(lookups, []string{cacheURL, cacheContent}, []string{"hit", "miss"})
	return &imageMetrics{skipped: skipped, lookups: lookups}, nil
}

// registerShared registers c with reg (nil: none) and returns the collector
// to use: c, or the equal one registered before.
func registerShared(reg prometheus.Registerer, c *prometheus.CounterVec) (*prometheus.CounterVec, error) {
	if reg == nil {
		return c, nil
	}
	if err := reg.Register(c); err != nil {
		are, ok := err.(prometheus.AlreadyRegisteredError)
		if !ok {
			return nil, fmt.Errorf("detection: register metrics: %w", err)
		}
		return are.ExistingCollector.(*prometheus.CounterVec), nil
	}
	return c, nil
}
