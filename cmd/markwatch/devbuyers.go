package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/pipeline"
)

// Buyer reports of markwatch dev: a trickle from a small pool of buyers,
// so that complaints show buyer evidence and the weights have something to
// weigh (a quarter of the buyers have new accounts).
const (
	devBuyerReportPeriod = 2 * time.Second
	devBuyers            = 40
)

// produceBuyerReports writes one buyer report every period to topic, on a
// fixture listing picked at random, until ctx ends.
func produceBuyerReports(ctx context.Context, w pipeline.MessageWriter, topic string, listings []*domain.Listing, period time.Duration) error {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 13))
	run := time.Now().UnixNano()
	tick := time.NewTicker(period)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		l := listings[rng.IntN(len(listings))]
		buyer := rng.IntN(devBuyers)
		now := time.Now().UTC().Truncate(time.Second)
		r := domain.BuyerReport{
			SchemaVersion: domain.SchemaVersion, ReportID: fmt.Sprintf("br-dev-%d-%d", run, n),
			ListingID: l.ListingID, ListingVersion: l.Version, SellerID: l.SellerID,
			BuyerID: fmt.Sprintf("buyer-%02d", buyer), Reason: domain.ReasonCounterfeit,
			BuyerSince: now.Add(-400 * 24 * time.Hour), CreatedAt: now,
			// As a marketplace forwards them: the brand field names the
			// mark of a buyer complaint, when it is one.
			ListingTitle: l.Title, ListingBrand: l.Brand,
		}
		if buyer%4 == 0 {
			r.BuyerSince = now.Add(-3 * 24 * time.Hour) // a new account
		}
		if rng.IntN(5) == 0 {
			r.Reason = domain.ReasonNotAsDescribed
		}
		v, err := json.Marshal(&r)
		if err != nil {
			return fmt.Errorf("encode buyer report %s: %w", r.ReportID, err)
		}
		if err := w.WriteMessages(ctx, kafka.Message{Topic: topic, Key: []byte(r.ListingID), Value: v}); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("write buyer report %s: %w", r.ReportID, err)
		}
	}
}
