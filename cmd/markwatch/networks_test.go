package main

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
	"github.com/markwatch/markwatch/matchers"
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

// TestNetworkImagesHashes: the seller-network linker's own image loader
// computes no logo features, and gives each listing photo the hashes the
// detectors' loader (logo detection on) gives it.
func TestNetworkImagesHashes(t *testing.T) {
	photos := mapPhotos{}
	l := &domain.Listing{SchemaVersion: 1, ListingID: "l-1", Version: 1, SellerID: "s-1", Title: "bag"}
	for i := range 4 {
		img := generate.SellerPhoto(rand.New(rand.NewPCG(3, uint64(i))), 640, 480)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 50 + 10*i}); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("p%d.jpg", i)
		photos[name] = buf.Bytes()
		l.Images = append(l.Images, name)
	}
	d := config.Default().Detection
	d.Logo.Enabled = true
	det, err := detection.ImagesFrom(d, photos, detection.HasherFrom(d), nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := det.Listing(t.Context(), l)
	if err != nil {
		t.Fatal(err)
	}
	defer matchers.ReleasePixels(want)
	net, err := networkImages(d, photos, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := net.Listing(t.Context(), l)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d images, the detectors' loader %d", len(got), len(want))
	}
	for i := range got {
		if want[i].Features == nil {
			t.Errorf("image %d: the detectors' loader computed no features with logo detection on", i)
		}
		if got[i].Features != nil {
			t.Errorf("image %d: the network loader computed logo features", i)
		}
		if len(got[i].Hashes) == 0 || !slices.Equal(got[i].Hashes, want[i].Hashes) {
			t.Errorf("image %d: hashes %x, the detectors' %x", i, got[i].Hashes, want[i].Hashes)
		}
	}
	hs, err := listingPhotos{net}.ListingPhotos(t.Context(), l)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hs {
		if h != want[i].Hashes[0] {
			t.Errorf("photo %d: linker hash %x, want %x", i, h, want[i].Hashes[0])
		}
	}
}

type mapPhotos map[string][]byte

func (m mapPhotos) Fetch(_ context.Context, ref string) ([]byte, error) {
	if b, ok := m[ref]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no photo %s", ref)
}
