package review

// Seller networks are linked on the review side, from the listings topic
// in a consumer group of their own: the review service owns the store the
// networks live in, their evidence and the queue priority they raise, and
// a detector stays stateless apart from its mark indexes (the design's
// scale rule). The cost is a second read of the listings topic. Photos
// come from the detectors, which publish the hashes they computed on the
// listing-photos topic (kafka.topics.listing_photos), read by a second
// consumer; without that topic the linker fetches and hashes each
// listing image a second time (bounded by the image cache and the
// process's decode budget). Linking never delays detection.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/linking"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/telemetry"
)

// DefaultCommonAt is how many sellers may share a key before it is common:
// a network of counterfeit shops is tens of accounts, a courier's phone or
// a stock photo is hundreds to thousands.
const DefaultCommonAt = 100

// PhotoHasher returns the perceptual hash of each of a listing's images
// (0 for one that could not be had). It must return when ctx is canceled;
// an error is ctx's only, an image that fails is a 0.
type PhotoHasher interface {
	ListingPhotos(ctx context.Context, l *domain.Listing) ([]uint64, error)
}

// LinkerOptions configure a Linker.
type LinkerOptions struct {
	Store *store.Store
	// CommonAt: a key shared by more sellers than this links nobody.
	// Default DefaultCommonAt.
	CommonAt int
	// Photos hashes listing photos; nil links on text and fields only.
	Photos     PhotoHasher
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Linker links the seller of each listing to the sellers it shares a
// contact handle, a photo, a ship-from or a payout account with.
type Linker struct {
	store    *store.Store
	commonAt int
	photos   PhotoHasher
	log      *slog.Logger
	metrics  *linkerMetrics
}

type linkerMetrics struct {
	listings *prometheus.CounterVec
	photos   *prometheus.CounterVec
	keys     *prometheus.CounterVec
	unions   prometheus.Counter
}

// NewLinker returns a Linker.
func NewLinker(o LinkerOptions) (*Linker, error) {
	if o.Store == nil {
		return nil, errors.New("review: new linker: no store")
	}
	if o.CommonAt == 0 {
		o.CommonAt = DefaultCommonAt
	}
	if o.CommonAt < 1 {
		return nil, fmt.Errorf("review: new linker: common_at %d, want at least 1", o.CommonAt)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := telemetry.Build(o.Registerer, func(f promauto.Factory) *linkerMetrics {
		const ns = telemetry.Namespace
		m := &linkerMetrics{
			listings: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "networks", Name: "listings_total",
				Help: "Listings read for seller networks, by result: linked (joined two networks), seen (keys recorded, no new link), no_keys, invalid (dead-lettered by the detectors, skipped here).",
			}, []string{"result"}),
			photos: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "networks", Name: "photo_messages_total",
				Help: "Listing-photos messages (the detectors' hashes of listing images, kafka.topics.listing_photos) read for seller networks, by result: linked, seen, no_keys (no image could be had), invalid (dead-lettered).",
			}, []string{"result"}),
			keys: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "networks", Name: "keys_total",
				Help: "Linking keys of listings (handles, photos, ship-from, payout) by result: new (first seen for the seller), common (shared by more sellers than review.networks.common_at: links nobody).",
			}, []string{"result"}),
			unions: f.NewCounter(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "networks", Name: "unions_total",
				Help: "Merges of two seller networks.",
			}),
		}
		for _, r := range []string{"linked", "seen", "no_keys", "invalid"} {
			m.listings.WithLabelValues(r)
			m.photos.WithLabelValues(r)
		}
		m.keys.WithLabelValues("new")
		m.keys.WithLabelValues("common")
		return m
	})
	if err != nil {
		return nil, fmt.Errorf("review: new linker: %w", err)
	}
	return &Linker{store: o.Store, commonAt: o.CommonAt, photos: o.Photos, log: o.Logger.With("component", "linker"), metrics: m}, nil
}

// Invalid counts a listing that could not be decoded: the detectors
// dead-letter it, the linker only skips it.
func (k *Linker) Invalid() { k.metrics.listings.WithLabelValues("invalid").Inc() }

// LinkListing is Link without its result, for the pipeline.
func (k *Linker) LinkListing(ctx context.Context, l *domain.Listing) error {
	_, err := k.Link(ctx, l)
	return err
}

// Link records l's keys for its seller and links the seller into networks.
// It is idempotent: a listing read again records nothing new.
func (k *Linker) Link(ctx context.Context, l *domain.Listing) (store.LinkResult, error) {
	var photos []uint64
	if k.photos != nil && len(l.Images) > 0 {
		var err error
		if photos, err = k.photos.ListingPhotos(ctx, l); err != nil {
			return store.LinkResult{}, fmt.Errorf("review: link listing %s: photos: %w", l.ListingID, err)
		}
	}
	return k.link(ctx, l.SellerID, l.ListingID, linking.ListingKeys(l, photos), k.metrics.listings)
}

// LinkPhotos links the seller of a listing-photos message (the hashes a
// detector computed of the listing's images) by those photos, as Link
// does with a PhotoHasher, without fetching or hashing anything. With the
// detectors publishing these (kafka.topics.listing_photos), Link runs
// without a PhotoHasher and the two together link what Link alone would.
func (k *Linker) LinkPhotos(ctx context.Context, p *domain.ListingPhotos) error {
	_, err := k.link(ctx, p.SellerID, p.ListingID, linking.PhotoKeys(p.Hashes()), k.metrics.photos)
	return err
}

// InvalidPhotos counts a listing-photos message that could not be decoded.
func (k *Linker) InvalidPhotos() { k.metrics.photos.WithLabelValues("invalid").Inc() }

// link records keys for seller and counts the result in results.
func (k *Linker) link(ctx context.Context, seller, listing string, keys []linking.Key, results *prometheus.CounterVec) (store.LinkResult, error) {
	if len(keys) == 0 {
		results.WithLabelValues("no_keys").Inc()
		return store.LinkResult{Size: 1}, nil
	}
	sk := make([]store.SellerKey, len(keys))
	for i, key := range keys {
		sk[i] = store.SellerKey{Kind: key.Kind, Value: key.Value}
	}
	res, err := k.store.LinkSeller(ctx, seller, listing, sk, k.commonAt)
	if err != nil {
		return store.LinkResult{}, fmt.Errorf("review: link listing %s: %w", listing, err)
	}
	k.metrics.keys.WithLabelValues("new").Add(float64(res.NewKeys))
	k.metrics.keys.WithLabelValues("common").Add(float64(res.Common))
	k.metrics.unions.Add(float64(res.Unions))
	if res.Unions > 0 {
		results.WithLabelValues("linked").Inc()
		k.log.Debug("seller linked", "listing_id", listing, "seller_id", seller, "network_id", res.NetworkID, "size", res.Size)
	} else {
		results.WithLabelValues("seen").Inc()
	}
	return res, nil
}
