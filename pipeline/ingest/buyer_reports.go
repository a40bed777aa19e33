package ingest

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/pipeline"
)

// BuyerReportIngester stores a buyer report once. *review.Service
// implements it.
type BuyerReportIngester interface {
	IngestBuyerReport(ctx context.Context, r *domain.BuyerReport) (inserted bool, err error)
}

// BuyerReportHandler returns the pipeline handler of the buyer-reports
// topic: each report decoded strictly and stored once, like Handler's
// complaints. A report that cannot be decoded, or whose key is not its
// listing id, is dead-lettered; a store failure is retried.
func BuyerReportHandler(in BuyerReportIngester, lim domain.Limits, isInvalid func(error) bool) pipeline.Handler {
	lim = lim.WithDefaults()
	return func(ctx context.Context, msg kafka.Message) ([]kafka.Message, error) {
		r, err := domain.DecodeBuyerReport(msg.Value, lim)
		if err != nil {
			return nil, pipeline.Permanent(decodeClass(err), fmt.Errorf("buyer report: %w", err))
		}
		if len(msg.Key) > 0 && string(msg.Key) != r.ListingID {
			return nil, pipeline.Permanent(pipeline.ClassValidation,
				fmt.Errorf("buyer report %s: message key %q differs from listing_id %q", r.ReportID, msg.Key, r.ListingID))
		}
		_, err = in.IngestBuyerReport(ctx, r)
		return nil, ingestError(err, isInvalid)
	}
}
