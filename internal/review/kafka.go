package review

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// HeaderEventID is the Kafka header that carries an event's stable id, for
// consumers to deduplicate on.
const HeaderEventID = "event_id"

// MessageWriter writes Kafka messages, each to its own Topic, and returns
// once all are acknowledged. A *kafka.Writer from pipeline.NewWriter
// (RequireAll acks, no Topic of its own, a consistent key balancer)
// satisfies it.
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// KafkaPublisher is the Publisher that writes outbox events to Kafka: the
// event's key as the message key, its payload as the value (nil, a
// tombstone, stays nil) and its id in the event_id header. A Writer
// without Async keeps the order of one key's events within a call.
type KafkaPublisher struct {
	Writer MessageWriter
}

// Publish writes events and returns once every one is acknowledged. A
// partial failure fails the whole call; the relay then publishes the batch
// again, and consumers drop the repeats by event_id.
func (p KafkaPublisher) Publish(ctx context.Context, events []Event) error {
	msgs := make([]kafka.Message, len(events))
	for i, e := range events {
		msgs[i] = kafka.Message{
			Topic:   e.Topic,
			Key:     []byte(e.Key),
			Value:   e.Payload,
			Headers: []kafka.Header{{Key: HeaderEventID, Value: []byte(e.ID)}},
		}
		if e.Payload == nil {
			msgs[i].Value = nil
		}
	}
	if err := p.Writer.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("review: publish %d events to kafka: %w", len(events), err)
	}
	return nil
}
