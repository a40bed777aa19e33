// Package ingest is the review service's consumer stage: one complaint
// message in, stored once. Automatic complaints from the detectors and
// manual ones submitted through the API both arrive on the complaints
// topic; storing is idempotent on complaint_id, so redeliveries, replays
// and rebalances leave the database as it was.
package ingest

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/pipeline"
)

// Ingester stores a complaint once. *review.Service implements it.
type Ingester interface {
	Ingest(ctx context.Context, c *domain.Complaint) (inserted bool, err error)
}

// ClassRefused is the dead-letter class of a well-formed complaint that the
// ingester refused by a rule of the review flow (its mark unknown, not
// active, or not its holder's), apart from malformed ones
// (pipeline.ClassValidation), so that an operator can tell a detector
// working from stale marks from a broken producer.
const ClassRefused = "refused"

// refusal is an ingester's error that names the rule it broke; a
// *review.InvalidError is one, with RefusedBy its Rule. Matched by
// interface so that this stage needs no import of the review service.
type refusal interface {
	error
	RefusedBy() string
}

// Handler returns the pipeline handler that decodes each complaint
// strictly and ingests it. A complaint that cannot be decoded, or whose key
// is not its listing id, is a permanent failure (dead-lettered); a store
// failure is transient (retried). isInvalid tells the ingester's
// validation errors apart (errors.Is(err, review.ErrInvalid)); those are
// dead-lettered too, with ClassRefused when the error names a rule.
func Handler(in Ingester, lim domain.Limits, isInvalid func(error) bool) pipeline.Handler {
	lim = lim.WithDefaults()
	return func(ctx context.Context, msg kafka.Message) ([]kafka.Message, error) {
		c, err := domain.DecodeComplaint(msg.Value, lim)
		if err != nil {
			return nil, pipeline.Permanent(decodeClass(err), fmt.Errorf("complaint: %w", err))
		}
		if len(msg.Key) > 0 && string(msg.Key) != c.ListingID {
			return nil, pipeline.Permanent(pipeline.ClassValidation,
				fmt.Errorf("complaint %s: message key %q differs from listing_id %q", c.ComplaintID, msg.Key, c.ListingID))
		}
		_, err = in.Ingest(ctx, c)
		return nil, ingestError(err, isInvalid)
	}
}

// decodeClass is the dead-letter class of a decoding error: a message
// that is not JSON at all (no field to blame), or one that breaks a rule
// of its format.
func decodeClass(err error) string {
	var fe *domain.FieldError
	if errors.As(err, &fe) && fe.Field == "" {
		return pipeline.ClassDecode
	}
	return pipeline.ClassValidation
}

// ingestError classifies an ingester's error: nil stays nil, an invalid
// one (isInvalid) is permanent, with ClassRefused when it names a rule,
// and anything else (the store) is transient.
func ingestError(err error, isInvalid func(error) bool) error {
	if err == nil {
		return nil
	}
	if isInvalid != nil && isInvalid(err) {
		class := pipeline.ClassValidation
		if r, ok := errors.AsType[refusal](err); ok && r.RefusedBy() != "" {
			class = ClassRefused
		}
		return pipeline.Permanent(class, err)
	}
	return fmt.Errorf("ingest: %w", err)
}
