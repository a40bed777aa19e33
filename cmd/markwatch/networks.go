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
	"github.com/markwatch/markwatch/pipeline"
	"github.com/markwatch/markwatch/pipeline/ingest"
)

// listingPhotos is the review.PhotoHasher over the detectors' image
// loader: a listing image's first hash is the image as published (the
// others are variants the matcher tries).
type listingPhotos struct{ images *detection.Images }

func (p listingPhotos) ListingPhotos(ctx context.Context, l *domain.Listing) ([]uint64, error) {
	imgs, err := p.images.Listing(ctx, l)
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

// newNetworkConsumer builds the seller-network consumer of the listings
// topic (review.networks): nil unless enabled.
func newNetworkConsumer(cfg config.Config, st *store.Store, w pipeline.MessageWriter, log *slog.Logger, reg prometheus.Registerer) (*pipeline.Consumer, error) {
	n := cfg.Review.Networks
	if !n.Enabled {
		return nil, nil
	}
	var photos review.PhotoHasher
	if n.Photos {
		fetch, err := listingImageFetcher(cfg)
		if err != nil {
			return nil, err
		}
		images, err := detection.ImagesFrom(cfg.Detection, fetch, detection.HasherFrom(cfg.Detection), reg)
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
	return pipeline.NewConsumer(pipeline.Options{
		Brokers:     cfg.Kafka.Brokers,
		GroupID:     n.GroupID,
		Topic:       cfg.Kafka.Topics.Listings,
		DLQTopic:    cfg.Kafka.Topics.DLQ,
		Concurrency: cfg.Kafka.Concurrency,
		Logger:      log,
		Registerer:  prometheus.WrapRegistererWith(prometheus.Labels{"consumer": "networks"}, reg),
		Writer:      w,
	}, ingest.NetworkHandler(linker, cfg.Limits))
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
