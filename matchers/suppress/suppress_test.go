package suppress

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

func TestNewRefuses(t *testing.T) {
	at := time.Unix(1, 0)
	for name, tc := range map[string]struct {
		es []*domain.BankEntry
		o  Options
	}{
		"bad hash":     {[]*domain.BankEntry{{EntryID: "a", Kind: domain.BankImage, Hashes: []string{"xyz"}, CreatedAt: at}}, Options{}},
		"unknown kind": {[]*domain.BankEntry{{EntryID: "a", Kind: "word", CreatedAt: at}}, Options{}},
		"distance":     {nil, Options{MaxDistance: 40}},
	} {
		if _, err := New(tc.es, tc.o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestNilAndEmptyBank(t *testing.T) {
	var b *Bank
	mk := &matchers.Mark{Mark: &domain.Mark{MarkID: "m"}}
	l := &matchers.Listing{Listing: &domain.Listing{}, Images: []matchers.ListingImage{{Index: 0, Hashes: []uint64{1}}}}
	e := &domain.Evidence{Matcher: "image", Field: "images[0]", Reference: "r.jpg"}
	if why := b.Suppress(l, mk, e); why != "" || b.Len() != 0 {
		t.Errorf("nil bank: %q, len %d", why, b.Len())
	}
	mk.Quarantines = []domain.Quarantine{{Kind: domain.QuarantineImage, Ref: "r.jpg"}}
	if why := b.Suppress(l, mk, e); why != QuarantineImage {
		t.Errorf("nil bank still applies quarantines: got %q", why)
	}
	mk.Quarantines[0].ReleasedAt = time.Unix(2, 0)
	if why := b.Suppress(l, mk, e); why != "" {
		t.Errorf("a released quarantine suppressed: %q", why)
	}
	for _, f := range []string{"images[9]", "images[x]", "title", "images[0"} {
		if img := listingImage(l, f); img != nil {
			t.Errorf("field %q found image %+v", f, img)
		}
	}
}

// benchBank is a bank of n entries, half images and half phrases, a tenth
// of them global, over 1000 marks.
func benchBank(b *testing.B, n int, rng *rand.Rand) *Bank {
	es := make([]*domain.BankEntry, n)
	for i := range es {
		e := &domain.BankEntry{EntryID: fmt.Sprint(i), CreatedAt: time.Unix(1, 0)}
		if i%10 != 0 {
			e.MarkID = fmt.Sprintf("m%03d", rng.IntN(1000))
		}
		if i%2 == 0 {
			e.Kind, e.Hashes = domain.BankImage, []string{fmt.Sprintf("%016x", rng.Uint64()), fmt.Sprintf("%016x", rng.Uint64())}
		} else {
			e.Kind, e.Phrase = domain.BankPhrase, fmt.Sprintf("phrase %d", i)
		}
		es[i] = e
	}
	bank, err := New(es, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return bank
}

// BenchmarkSuppress measures the bank's cost per listing: a listing with
// four images (two hashes each, never seen) matched against three
// candidate marks, each with one image and two text evidence, as the
// scorer asks. The bank holds n entries; a tenth are global, which every
// image is compared with.
func BenchmarkSuppress(b *testing.B) {
	for _, n := range []int{0, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 5))
			bank := benchBank(b, n, rng)
			marks := []*matchers.Mark{
				{Mark: &domain.Mark{MarkID: "m001"}}, {Mark: &domain.Mark{MarkID: "m002"}}, {Mark: &domain.Mark{MarkID: "m003"}},
			}
			const listings = 1024
			ls := make([]*matchers.Listing, listings)
			for i := range ls {
				l := &matchers.Listing{Listing: &domain.Listing{ListingID: fmt.Sprint(i)}}
				for k := range 4 {
					l.Images = append(l.Images, matchers.ListingImage{Index: k, Hashes: []uint64{rng.Uint64(), rng.Uint64()}})
				}
				ls[i] = l
			}
			ev := []domain.Evidence{
				{Matcher: "image", Field: "images[2]", Reference: "ref.jpg"},
				{Matcher: "text", Field: "title", Match: "Kavelo Tote", Reference: "Kavelo"},
				{Matcher: "text", Field: "description", Match: "k4velo", Reference: "Kavelo"},
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				l := ls[i%listings]
				for _, mk := range marks {
					for k := range ev {
						if bank.Suppress(l, mk, &ev[k]) != "" {
							b.Fatal("a never-seen listing was suppressed")
						}
					}
				}
			}
		})
	}
}
