package ingest

import (
	"context"

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
