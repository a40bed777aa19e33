package detection

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/suppress"
)

// stockPhoto is the hash of a generic product photo a holder uploaded as an
// "official image"; brandPhoto is one of its real ones.
const (
	stockPhoto uint64 = 0xf0e1d2c3b4a59687
	brandPhoto uint64 = 0x0123456789abcdef
)

// floodMark is a mark with the stock photo and a real photo as references.
func floodMark(qs ...domain.Quarantine) *matchers.Mark {
	return &matchers.Mark{
		Mark: &domain.Mark{
			SchemaVersion: 1, MarkID: "m-kavelo", HolderID: "h", Name: "Kavelo", Status: domain.MarkActive,
			Categories: []string{"bags"}, Quarantines: qs,
		},
		References: []matchers.ReferenceImage{
			{Kind: matchers.RefOfficial, URL: "stock.jpg", Hashes: []uint64{stockPhoto}},
			{Kind: matchers.RefOfficial, URL: "kavelo-tote.jpg", Hashes: []uint64{brandPhoto}},
		},
	}
}

// photoListing is a listing with one image of hash h (flipped in flip bits,
// a re-encode) and title.
func photoListing(id, title string, h uint64) *matchers.Listing {
	l := matchers.NewListing(&domain.Listing{
		SchemaVersion: 1, ListingID: id, SellerID: "s-" + id, Category: "bags", Title: title,
		Images: []string{"https://img.example.com/" + id + ".jpg"}, CreatedAt: time.Unix(0, 0),
	})
	l.Images = []matchers.ListingImage{{Index: 0, URL: l.Listing.Images[0], Hashes: []uint64{h}}}
	return l
}

func flagged(t *testing.T, e *Engine, l *matchers.Listing, sup *suppress.Bank) (bool, []string, bool) {
	t.Helper()
	var rs []scoreResult
	got, err := e.ScoreSuppressed(context.Background(), l, sup)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		rs = append(rs, scoreResult{r.Flagged, r.Suppressed, r.FlaggedUnsuppressed})
	}
	if len(rs) == 0 {
		return false, nil, false
	}
	return rs[0].flagged, rs[0].suppressed, rs[0].unsuppressed
}

type scoreResult struct {
	flagged      bool
	suppressed   []string
	unsuppressed bool
}

// TestStockPhotoQuarantine is the case: a stock photo uploaded as
// an official image matches thousands of unrelated listings. In quarantine,
// none of them is flagged while a counterfeit that names the mark is.
func TestStockPhotoQuarantine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	unrelated := make([]*matchers.Listing, 2000)
	for i := range unrelated {
		// The same stock photo, re-encoded: a bit or two flipped.
		h := stockPhoto ^ (1 << rng.IntN(64))
		unrelated[i] = photoListing(fmt.Sprintf("u%d", i), fmt.Sprintf("canvas tote bag model %d", i), h)
	}
	fake := photoListing("fake", "Kavelo replica tote 1:1 mirror quality", brandPhoto)

	open, err := Build([]*matchers.Mark{floodMark()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	n := 0
	for _, l := range unrelated {
		if f, _, _ := flagged(t, open, l, nil); f {
			n++
		}
	}
	if n < len(unrelated)*9/10 {
		t.Fatalf("before quarantine the stock photo flags %d of %d unrelated listings; the test needs a flood", n, len(unrelated))
	}

	q := domain.Quarantine{Kind: domain.QuarantineImage, Ref: "stock.jpg", Trigger: domain.TriggerFlood, Reason: "flood", Since: time.Unix(1, 0)}
	quarantined, err := Build([]*matchers.Mark{floodMark(q)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer quarantined.Close()
	var empty *suppress.Bank
	for _, l := range unrelated {
		f, why, would := flagged(t, quarantined, l, empty)
		if f {
			t.Fatalf("%s still flagged with the stock photo in quarantine", l.ListingID)
		}
		if len(why) != 1 || why[0] != suppress.QuarantineImage || !would {
			t.Fatalf("%s: suppressed %v, flagged without %v; want [%s], true", l.ListingID, why, would, suppress.QuarantineImage)
		}
	}
	if f, why, _ := flagged(t, quarantined, fake, empty); !f || why != nil {
		t.Fatalf("the counterfeit on the brand's own photo: flagged %v, suppressed %v; want flagged, nothing suppressed", f, why)
	}
}

// TestBankSuppresses checks the negative bank per mark and global, image
// by distance and phrase by normalized text, and that another mark's
// entry does not apply.
func TestBankSuppresses(t *testing.T) {
	e, err := Build([]*matchers.Mark{floodMark()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	at := time.Unix(1, 0)
	img := func(id, mark string, h uint64) *domain.BankEntry {
		return &domain.BankEntry{SchemaVersion: 1, EntryID: id, Kind: domain.BankImage, MarkID: mark,
			Hashes: []string{fmt.Sprintf("%016x", h)}, Reason: "generic", CreatedBy: "u", CreatedAt: at}
	}
	phrase := func(id, mark, p string) *domain.BankEntry {
		return &domain.BankEntry{SchemaVersion: 1, EntryID: id, Kind: domain.BankPhrase, MarkID: mark,
			Phrase: p, Reason: "ordinary", CreatedBy: "u", CreatedAt: at}
	}
	stock := photoListing("l1", "canvas tote bag", stockPhoto^0b11)
	named := photoListing("l2", "KAVELO replica tote 1:1", 0x5555555555555555)
	tests := []struct {
		name    string
		entries []*domain.BankEntry
		l       *matchers.Listing
		flagged bool
		why     string
	}{
		{"empty bank", nil, stock, true, ""},
		{"image for this mark", []*domain.BankEntry{img("b1", "m-kavelo", stockPhoto)}, stock, false, suppress.BankImage},
		{"image global", []*domain.BankEntry{img("b1", "", stockPhoto)}, stock, false, suppress.BankImage},
		{"image of another mark", []*domain.BankEntry{img("b1", "m-other", stockPhoto)}, stock, true, ""},
		{"image too far", []*domain.BankEntry{img("b1", "", stockPhoto^0xff00ff)}, stock, true, ""},
		{"phrase for this mark, other case", []*domain.BankEntry{phrase("b2", "m-kavelo", "kavelo")}, named, false, suppress.BankPhrase},
		{"phrase global", []*domain.BankEntry{phrase("b2", "", "Kavelo")}, named, false, suppress.BankPhrase},
		{"phrase of another mark", []*domain.BankEntry{phrase("b2", "m-other", "Kavelo")}, named, true, ""},
		{"other phrase", []*domain.BankEntry{phrase("b2", "", "tote")}, named, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := suppress.New(tc.entries, suppress.Options{})
			if err != nil {
				t.Fatal(err)
			}
			f, why, would := flagged(t, e, tc.l, b)
			if f != tc.flagged {
				t.Fatalf("flagged %v, want %v (suppressed %v)", f, tc.flagged, why)
			}
			if tc.why == "" && why != nil || tc.why != "" && (len(why) != 1 || why[0] != tc.why || !would) {
				t.Fatalf("suppressed %v (flagged without: %v), want %q", why, would, tc.why)
			}
		})
	}
}
