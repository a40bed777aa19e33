package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/imagefetch"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/pipeline"
	"github.com/markwatch/markwatch/pipeline/ingest"
)

// listingPhotos is the review.PhotoHasher over the detectors' image
// loader: a listing image's first hash is the image as published (the
// others are variants the matcher tries).
type listingPhotos struct{ images *detection.Images }

func (p listingPhotos) ListingPhotos(ctx context.Context, l *domain.Listing) ([]uint64, error) {
	imgs, err := p.images.Listing(ctx, l)
	// Only the hashes are read; the loader computes no features
	// (networkImages), but any pixels would be given back at once.
	defer matchers.ReleasePixels(imgs)
	if err != nil {
		return nil, err
	}
	out := make([]uint64, len(imgs))
	for i, im := range imgs {
		if len(im.Hashes) > 0 {
			out[i] = im.Hashes[0]
		}
	}
	return out, nil
}

// networkImages is the image loader of the seller-network linker when it
// fetches photos itself: the detectors' hashing without logo detection's
// features, which it never reads (about 15 ms of CPU and a 640 KB copy
// per image saved with logo detection on). The hashes are the same
// either way: the luma decode logo detection shares with the hashes
// gives them bit for bit (imagematch's TestListingHashesUnchanged), and
// TestNetworkImagesHashes holds the two loaders to it.
func networkImages(d config.Detection, fetch detection.Fetcher, reg prometheus.Registerer) (*detection.Images, error) {
	d.Logo.Enabled = false
	return detection.ImagesFrom(d, fetch, detection.HasherFrom(d), reg)
}

// newNetworkConsumers builds the seller-network consumers (review.networks):
// none unless enabled; one of the listings topic, and a second of the
// detectors' listing-photos topic when photos come from there
// (Config.PhotosFromTopic). Without that topic, photos are fetched and
// hashed again by the first.
func newNetworkConsumers(cfg config.Config, st *store.Store, w pipeline.MessageWriter, log *slog.Logger, reg prometheus.Registerer) ([]*pipeline.Consumer, error) {
	n := cfg.Review.Networks
	if !n.Enabled {
		return nil, nil
	}
	var photos review.PhotoHasher
	if n.Photos && !cfg.PhotosFromTopic() {
		fetch, err := listingImageFetcher(cfg)
		if err != nil {
			return nil, err
		}
		images, err := networkImages(cfg.Detection, fetch, reg)
		if err != nil {
			return nil, err
		}
		photos = listingPhotos{images}
	}
	linker, err := review.NewLinker(review.LinkerOptions{
		Store: st, CommonAt: n.CommonAt, Photos: photos, Logger: log, Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	consumer := func(group, topic, label string, h pipeline.Handler) (*pipeline.Consumer, error) {
		return pipeline.NewConsumer(pipeline.Options{
			Brokers:     cfg.Kafka.Brokers,
			GroupID:     group,
			Topic:       topic,
			DLQTopic:    cfg.Kafka.Topics.DLQ,
			Concurrency: cfg.Kafka.Concurrency,
			Logger:      log,
			Registerer:  prometheus.WrapRegistererWith(prometheus.Labels{"consumer": label}, reg),
			Writer:      w,
		}, h)
	}
	listings, err := consumer(n.GroupID, cfg.Kafka.Topics.Listings, "networks", ingest.NetworkHandler(linker, cfg.Limits))
	if err != nil {
		return nil, err
	}
	if !cfg.PhotosFromTopic() {
		return []*pipeline.Consumer{listings}, nil
	}
	fromDetectors, err := consumer(n.PhotosGroupID, cfg.Kafka.Topics.ListingPhotos, "networks_photos", ingest.NetworkPhotosHandler(linker, cfg.Limits))
	if err != nil {
		return nil, err
	}
	return []*pipeline.Consumer{listings, fromDetectors}, nil
}

// listingImageFetcher fetches listing images under detection.image's
// settings (hosts, caps, timeout): the detector, the console's image proxy
// and the seller-network linker reach exactly the same hosts.
func listingImageFetcher(cfg config.Config) (*imagefetch.Fetcher, error) {
	return imagefetch.New(imagefetch.Options{
		AllowHosts:   cfg.Detection.Image.AllowHosts,
		AllowPrivate: cfg.Detection.Image.AllowPrivate,
		MaxBytes:     cfg.Detection.Image.MaxBytes,
		Timeout:      cfg.Detection.Image.FetchTimeout,
		UserAgent:    "markwatch/" + version,
	})
}
