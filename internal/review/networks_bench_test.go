package review

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
	"github.com/markwatch/markwatch/internal/testenv"
)

// BenchmarkLinkListing measures the cost of seller-network linking per
// listing, end to end on the review side without photo fetching: handle
// extraction from a description of a few hundred bytes and the store's
// keys, key statistics, union-find and priority refresh in one
// transaction. Listings are never seen before (a fresh listing id, a
// random seller among 100k); one in four carries a handle from a pool of
// 2k that links it, one in fifty a courier's phone that is common, the
// rest a handle of their own; every listing has a photo hash, most of them
// unique.
func BenchmarkLinkListing(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			dsn := "sqlite:" + b.TempDir() + "/networks.db"
			if db == "postgres" {
				dsn = storetest.PostgresDSNFor(b, testenv.PostgresURL(b))
			}
			st, err := store.Open(b.Context(), dsn)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			k, err := NewLinker(LinkerOptions{Store: st, CommonAt: 50, Registerer: prometheus.NewRegistry()})
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, uint64(b.N)))
			i := 0
			report := testenv.ReportCPUPerOp(b)
			defer report()
			for b.Loop() {
				i++
				var handle string
				switch r := rng.IntN(100); {
				case r < 25:
					handle = fmt.Sprintf("WhatsApp +86 139 %04d %04d", rng.IntN(2000), 7)
				case r < 27:
					handle = "courier: call +1 (212) 555-0199"
				default:
					handle = fmt.Sprintf("mail shop%d [at] example [dot] com", i)
				}
				l := &domain.Listing{
					ListingID: fmt.Sprintf("l_%d_%d", b.N, i), SellerID: fmt.Sprintf("s_%d", rng.IntN(100_000)),
					Title:       "Designer handbag, premium leather, fast shipping",
					Description: "Brand new with tags. Ships in 2 days from our warehouse. Contact us for wholesale prices. " + handle + ". Payment on delivery possible, size 30x20x10 cm, weight 1.2 kg.",
					ShipFrom:    fmt.Sprintf("warehouse %d", rng.IntN(5000)),
				}
				photo := rng.Uint64()
				if rng.IntN(10) == 0 {
					photo = uint64(rng.IntN(500) + 1) // a photo reused by a few sellers
				}
				k.photos = fixedPhotos{photo}
				l.Images = []string{"https://img.example/p.jpg"}
				if _, err := k.Link(b.Context(), l); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fixedPhotos hashes every listing's images as the given hashes.
type fixedPhotos []uint64

func (p fixedPhotos) ListingPhotos(_ context.Context, _ *domain.Listing) ([]uint64, error) {
	return p, nil
}
