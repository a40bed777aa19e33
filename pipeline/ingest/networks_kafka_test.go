package ingest_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/pipeline/ingest"
)

// TestNetworksFromKafka runs the seller-network consumer of a listings
// topic on the real broker: sellers that write the same WhatsApp number in
// different spellings end up in one network, every listing delivered
// twice changes nothing, a courier's number shared by more sellers than
// the cap links nobody, and a malformed listing is skipped.
func TestNetworksFromKafka(t *testing.T) {
	brokers, ctx, st := kafkaAndStore(t)
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

// TestNetworkPhotosFromKafka runs the seller-network consumer of the
// detectors' listing-photos topic on the real broker: two sellers whose
// listings show the same photo end up in one network from the hashes
// alone (nothing is fetched), a message delivered twice changes nothing,
// an image that could not be had links nobody, and a malformed message is
// dead-lettered.
func TestNetworkPhotosFromKafka(t *testing.T) {
	brokers, ctx, st := kafkaAndStore(t)
	reg := prometheus.NewRegistry()
	linker, err := review.NewLinker(review.LinkerOptions{Store: st, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	const shared = "5a5a0f0fc3c3a5a5"
	dlq := consumeTopic(t, ctx, brokers, "listing-photos", ingest.NetworkPhotosHandler(linker, domain.Limits{}), func(topic string) []kafka.Message {
		var msgs []kafka.Message
		add := func(seller, listing string, photos ...string) {
			b, _ := json.Marshal(domain.ListingPhotos{SchemaVersion: 1, ListingID: listing, Version: 1, SellerID: seller,
				Photos: photos, HashedAt: time.Now().UTC()})
			msg := kafka.Message{Topic: topic, Key: []byte(listing), Value: b}
			msgs = append(msgs, msg, msg)
		}
		add("s_photo1", "l_p1", shared, "")
		add("s_photo2", "l_p2", "0123456789abcdef", shared)
		add("s_photo3", "l_p3", "")
		return append(msgs, kafka.Message{Topic: topic, Key: []byte("l_bad"), Value: []byte(`{"schema_version":1,"photos":["XYZ"]}`)})
	})
	for {
		net, err := st.SellerNetwork(ctx, "s_photo1", 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(net.Sellers) == 2 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("network of s_photo1 is %+v at the deadline, want s_photo2 in it", net)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if dead := readOne(t, ctx, brokers, dlq); string(dead.Key) != "l_bad" {
		t.Errorf("dead letter key %q, want l_bad", dead.Key)
	}
	// Once the listing without a photo is read (no keys), it must have
	// linked nobody.
	for resultCount(t, reg, "markwatch_networks_photo_messages_total", "no_keys") < 1 {
		select {
		case <-ctx.Done():
			t.Fatal("the message without a photo was never read")
		case <-time.After(100 * time.Millisecond):
		}
	}
	if net, err := st.SellerNetwork(ctx, "s_photo3", 100); err != nil || len(net.Sellers) > 1 {
		t.Errorf("a seller without a photo was linked: %+v, %v", net, err)
	}
	if got := resultCount(t, reg, "markwatch_networks_photo_messages_total", "invalid"); got != 1 {
		t.Errorf("invalid photo messages %v, want 1", got)
	}
}
