package ingest

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/pipeline"
)

// ListingLinker links a listing's seller into seller networks.
// *review.Linker implements it.
type ListingLinker interface {
	LinkListing(ctx context.Context, l *domain.Listing) error
	// Invalid counts a listing that could not be decoded.
	Invalid()
}

// NetworkHandler returns the pipeline handler of the seller-network
// consumer of the listings topic. A listing that cannot be decoded is
// skipped and counted, not dead-lettered: the detectors' consumer of the
// same topic dead-letters it already, and one bad message should be in the
// dead-letter topic once. A store failure is retried.
func NetworkHandler(k ListingLinker, lim domain.Limits) pipeline.Handler {
	lim = lim.WithDefaults()
	return func(ctx context.Context, msg kafka.Message) ([]kafka.Message, error) {
		l, err := domain.DecodeListing(msg.Value, lim)
		if err != nil {
			k.Invalid()
			return nil, nil
		}
		return nil, k.LinkListing(ctx, l)
	}
}

// PhotoLinker links a seller by the photo hashes a detector published.
// *review.Linker implements it.
type PhotoLinker interface {
	LinkPhotos(ctx context.Context, p *domain.ListingPhotos) error
	// InvalidPhotos counts a message that could not be decoded.
	InvalidPhotos()
}

// NetworkPhotosHandler returns the pipeline handler of the seller-network
// consumer of the listing-photos topic. The detectors write that topic,
// so a message that cannot be decoded is a fault to look at: it is
// counted and dead-lettered. A store failure is retried.
func NetworkPhotosHandler(k PhotoLinker, lim domain.Limits) pipeline.Handler {
	lim = lim.WithDefaults()
	return func(ctx context.Context, msg kafka.Message) ([]kafka.Message, error) {
		p, err := domain.DecodeListingPhotos(msg.Value, lim)
		if err != nil {
			k.InvalidPhotos()
			return nil, pipeline.Permanent(pipeline.ClassValidation, fmt.Errorf("listing photos: %w", err))
		}
		return nil, k.LinkPhotos(ctx, p)
	}
}
