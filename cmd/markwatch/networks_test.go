package main

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
	"github.com/markwatch/markwatch/pipeline"
)

// TestNetworkConsumers checks which consumers review.networks runs: none
// when off; one of the listings topic that fetches photos itself without
// kafka.topics.listing_photos; with it, a second of that topic, and no
// image fetching on the review side (its image cache metrics stay unregistered).
func TestNetworkConsumers(t *testing.T) {
	st, err := store.Open(t.Context(), storetest.SQLiteDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := pipeline.NewWriter([]string{"127.0.0.1:1"}, pipeline.WriterOptions{})
	defer pipeline.CloseWriter(w)
	registered := func(reg *prometheus.Registry, name string) bool {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			if f.GetName() == name {
				return true
			}
		}
		return false
	}
	cases := []struct {
		name           string
		enabled, photo bool
		topic          string
		consumers      int
		fetches        bool
	}{
		{"off", false, true, "listing-photos", 0, false},
		{"text and fields only", true, false, "", 1, false},
		{"photos fetched again", true, true, "", 1, true},
		{"photos from the detectors", true, true, "listing-photos", 2, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Review.Networks.Enabled, cfg.Review.Networks.Photos = tc.enabled, tc.photo
			cfg.Kafka.Topics.ListingPhotos = tc.topic
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			reg := prometheus.NewRegistry()
			got, err := newNetworkConsumers(cfg, st, w, nil, reg)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.consumers {
				t.Errorf("%d consumers, want %d", len(got), tc.consumers)
			}
			if f := registered(reg, "markwatch_image_cache_lookups_total"); f != tc.fetches {
				t.Errorf("review side fetches images: %v, want %v", f, tc.fetches)
			}
		})
	}
}
