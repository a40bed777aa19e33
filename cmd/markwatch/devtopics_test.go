package main

import (
	"testing"

	"github.com/markwatch/markwatch/internal/config"
)

// TestDevTopicsHaveComplaintsDLQ checks that dev creates the review
// service's dead-letter topic: complaints refused on ingest (a mark not
// active, ...) are written there, and writers never create topics.
func TestDevTopicsHaveComplaintsDLQ(t *testing.T) {
	cfg := config.Default()
	for _, topic := range devTopics(cfg.Kafka.Topics, cfg.Review.ComplaintsDLQ) {
		if topic.name == cfg.Review.ComplaintsDLQ {
			return
		}
	}
	t.Errorf("dev creates no %s topic", cfg.Review.ComplaintsDLQ)
}
