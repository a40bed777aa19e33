package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/pipeline/ingest"
)

// TestNetworksFromKafka runs the seller-network consumer of a listings
// topic on the real broker: sellers that write the same WhatsApp number in
// different spellings end up in one network, every listing delivered
// twice changes nothing, a courier's number shared by more sellers than
// the cap links nobody, and a malformed listing is skipped.
func TestNetworksFromKafka(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	st, err := store.Open(ctx, storetest.SQLiteDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // after the consumer stops
	linker, err := review.NewLinker(review.LinkerOptions{Store: st, CommonAt: 4, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	consumeTopic(t, ctx, brokers, "listings-networks", ingest.NetworkHandler(linker, domain.Limits{}), func(topic string) []kafka.Message {
		var msgs []kafka.Message
		add := func(seller, listing, text string) {
			b, _ := json.Marshal(domain.Listing{SchemaVersion: 1, ListingID: listing, Version: 1, SellerID: seller, Title: "bag", Description: text})
			msg := kafka.Message{Topic: topic, Key: []byte(listing), Value: b}
			msgs = append(msgs, msg, msg)
		}
		for s, text := range map[string]string{
			"s_net1": "WhatsApp +86 138 1234 5678",
			"s_net2": "微信 luxbags88, tel 138-1234-5678",
			"s_net3": "wechat: LuxBags88",
		} {
			add(s, "l_"+s, text)
		}
		for i := range 6 { // a courier's number: more sellers than the cap
			add(fmt.Sprintf("s_shop%d", i), fmt.Sprintf("l_shop%d", i), "delivery by courier, call +1 (212) 555-0199")
		}
		return append(msgs, kafka.Message{Topic: topic, Key: []byte("l_bad"), Value: []byte(`{"schema_version":1}`)})
	})
	size := func(seller string) int {
		net, err := st.SellerNetwork(ctx, seller, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(net.Sellers)
	}
	for size("s_net1") < 3 {
		select {
		case <-ctx.Done():
			t.Fatalf("network of s_net1 has %d sellers at the deadline, want 3", size("s_net1"))
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Wait for every courier listing: the fifth seller makes it common.
	for {
		// The probe is a seller of the number too: it may be the one
		// that makes it common, so the network is read after it.
		res, err := linker.Link(ctx, &domain.Listing{ListingID: "l_probe", SellerID: "s_probe", Description: "call +1 (212) 555-0199"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Common == 1 {
			if n := size("s_shop0"); n != 1 {
				t.Errorf("a courier's common number left s_shop0 in a network of %d", n)
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the courier's number never became common")
		case <-time.After(100 * time.Millisecond):
		}
	}
	net, err := st.SellerNetwork(ctx, "s_net2", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(net.Sellers) != 3 || len(net.Links) != 2 {
		t.Errorf("network %+v, want 3 sellers linked by the phone and the WeChat id", net)
	}
}
