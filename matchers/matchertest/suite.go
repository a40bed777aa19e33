// Package matchertest is the conformance suite every markwatch matcher
// passes: determinism, cancellation, concurrency, scores in [0,1],
// evidence whenever a score is positive, and no panic on hostile input.
// Each matcher's own tests call Run with a fixture of marks and a listing
// that the matcher is expected to find something in.
package matchertest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

// Fixture is what a matcher's test gives the suite.
type Fixture struct {
	// Marks are the candidate marks passed to Match.
	Marks []*matchers.Mark
	// Hit is a listing for which the matcher must return a positive score
	// for at least one of Marks.
	Hit *matchers.Listing
	// Miss is a listing for which every score must be 0; nil to skip.
	Miss *matchers.Listing
}

// Run runs the conformance suite against m.
func Run(t *testing.T, m matchers.Matcher, fx Fixture) {
	t.Helper()
	if m.Name() == "" {
		t.Fatal("Name() is empty")
	}
	t.Run("HitScoresPositive", func(t *testing.T) {
		sigs := mustMatch(t, m, fx.Hit, fx.Marks)
		best := 0.0
		for _, s := range sigs {
			best = max(best, s.Score)
		}
		if best <= 0 {
			t.Fatalf("no positive signal for the hit listing %q", fx.Hit.Title)
		}
	})
	if fx.Miss != nil {
		t.Run("MissScoresZero", func(t *testing.T) {
			for i, s := range mustMatch(t, m, fx.Miss, fx.Marks) {
				if s.Score != 0 {
					t.Errorf("mark %s: score %v for the miss listing %q, evidence %+v", fx.Marks[i].MarkID, s.Score, fx.Miss.Title, s.Evidence)
				}
			}
		})
	}
	t.Run("Deterministic", func(t *testing.T) {
		a := mustMatch(t, m, fx.Hit, fx.Marks)
		for range 5 {
			if b := mustMatch(t, m, fx.Hit, fx.Marks); !reflect.DeepEqual(a, b) {
				t.Fatalf("two runs differ:\n%+v\n%+v", a, b)
			}
		}
	})
	t.Run("NoMarks", func(t *testing.T) {
		if sigs := mustMatch(t, m, fx.Hit, nil); len(sigs) != 0 {
			t.Fatalf("got %d signals for no marks", len(sigs))
		}
	})
	t.Run("Canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := m.Match(ctx, fx.Hit, fx.Marks); !errors.Is(err, context.Canceled) {
			t.Fatalf("Match with a canceled context: err = %v, want context.Canceled", err)
		}
		if p, ok := m.(matchers.Presearcher); ok {
			if _, err := p.Candidates(ctx, fx.Hit); !errors.Is(err, context.Canceled) {
				t.Fatalf("Candidates with a canceled context: err = %v, want context.Canceled", err)
			}
		}
		if cm, ok := m.(matchers.CandidateMatcher); ok {
			if _, _, err := cm.MatchCandidates(ctx, fx.Hit); !errors.Is(err, context.Canceled) {
				t.Fatalf("MatchCandidates with a canceled context: err = %v, want context.Canceled", err)
			}
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		want := mustMatch(t, m, fx.Hit, fx.Marks)
		var wg sync.WaitGroup
		errs := make(chan string, 8)
		for range 8 {
			wg.Go(func() {
				got, err := m.Match(context.Background(), fx.Hit, fx.Marks)
				if err != nil || !reflect.DeepEqual(got, want) {
					errs <- "concurrent Match differs or failed"
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Fatal(e)
		}
	})
	t.Run("Hostile", func(t *testing.T) {
		for _, l := range Hostile(fx.Hit) {
			mustMatch(t, m, l, fx.Marks)
			if p, ok := m.(matchers.Presearcher); ok {
				if _, err := p.Candidates(context.Background(), l); err != nil {
					t.Fatalf("Candidates(%q): %v", trunc(l.Title), err)
				}
			}
		}
	})
	if cm, ok := m.(matchers.CandidateMatcher); ok {
		t.Run("MatchCandidatesAgrees", func(t *testing.T) {
			for _, l := range append([]*matchers.Listing{fx.Hit}, Hostile(fx.Hit)...) {
				ids, sigs, err := cm.MatchCandidates(context.Background(), l)
				if err != nil {
					t.Fatal(err)
				}
				want, err := cm.Candidates(context.Background(), l)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(ids, want) || len(sigs) != len(ids) {
					t.Fatalf("MatchCandidates ids %v (%d signals), Candidates %v", ids, len(sigs), want)
				}
				byID := map[string]*matchers.Mark{}
				for _, mk := range fx.Marks {
					byID[mk.MarkID] = mk
				}
				var marks []*matchers.Mark
				for _, id := range ids {
					if byID[id] == nil {
						t.Fatalf("candidate %s is not one of the fixture's marks", id)
					}
					marks = append(marks, byID[id])
				}
				if got := mustMatch(t, m, l, marks); len(got)+len(sigs) > 0 && !reflect.DeepEqual(got, sigs) {
					t.Fatalf("MatchCandidates signals differ from Match:\n%+v\n%+v", sigs, got)
				}
			}
		})
	}
	if p, ok := m.(matchers.Presearcher); ok {
		t.Run("PresearchFindsHit", func(t *testing.T) {
			ids, err := p.Candidates(context.Background(), fx.Hit)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, id := range ids {
				if seen[id] {
					t.Fatalf("duplicate candidate %s", id)
				}
				seen[id] = true
			}
			sigs := mustMatch(t, m, fx.Hit, fx.Marks)
			for i, s := range sigs {
				if s.Score > 0 && !seen[fx.Marks[i].MarkID] {
					t.Errorf("mark %s scores %v but is not a candidate", fx.Marks[i].MarkID, s.Score)
				}
			}
		})
	}
}

// mustMatch calls Match, recovering a panic into a test failure, and checks
// the invariants every result must hold.
func mustMatch(t *testing.T, m matchers.Matcher, l *matchers.Listing, marks []*matchers.Mark) (sigs []matchers.Signal) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Match panicked on %q: %v", trunc(l.Title), r)
		}
	}()
	sigs, err := m.Match(context.Background(), l, marks)
	if err != nil {
		t.Fatalf("Match(%q): %v", trunc(l.Title), err)
	}
	if len(sigs) != len(marks) {
		t.Fatalf("Match returned %d signals for %d marks", len(sigs), len(marks))
	}
	for i, s := range sigs {
		if !(s.Score >= 0 && s.Score <= 1) {
			t.Errorf("mark %s: score %v outside [0,1]", marks[i].MarkID, s.Score)
		}
		if s.Score > 0 && len(s.Evidence) == 0 {
			t.Errorf("mark %s: score %v without evidence", marks[i].MarkID, s.Score)
		}
		for _, e := range s.Evidence {
			if e.Matcher != m.Name() {
				t.Errorf("mark %s: evidence names matcher %q, want %q", marks[i].MarkID, e.Matcher, m.Name())
			}
			if !(e.Score >= 0 && e.Score <= 1) {
				t.Errorf("mark %s: evidence score %v outside [0,1]", marks[i].MarkID, e.Score)
			}
		}
	}
	return sigs
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Hostile returns listings derived from base whose fields are empty, huge,
// or full of hostile Unicode.
func Hostile(base *matchers.Listing) []*matchers.Listing {
	mk := func(f func(l *domain.Listing)) *matchers.Listing {
		d := *base.Listing
		d.Price = nil
		f(&d)
		p := matchers.NewListing(&d)
		p.Images = base.Images
		return p
	}
	weird := []string{
		"",
		" ",
		"\x00\x01\x02",
		"\xff\xfe\xfd invalid utf8 \xc3",
		strings.Repeat("a", 100000),
		strings.Repeat("N I K E ", 5000),
		strings.Repeat("\u200b", 1000),
		strings.Repeat("\u0301", 1000),
		"\U0010FFFF\uFFFD\uFEFF\u202E reversed",
		strings.Repeat("耐", 5000),
		strings.Repeat("1:1 ", 3000),
		"ﷺ﷽ﷻ" + strings.Repeat("ﬀ", 100),
	}
	var out []*matchers.Listing
	for _, w := range weird {
		out = append(out,
			mk(func(l *domain.Listing) { l.Title, l.Description, l.Brand = w, w, w }),
			mk(func(l *domain.Listing) { l.Title = w; l.SellerID = w; l.Category = w }),
		)
	}
	out = append(out,
		mk(func(l *domain.Listing) { l.Price = &domain.Money{Amount: "NaN", Currency: "???"} }),
		mk(func(l *domain.Listing) { l.Price = &domain.Money{Amount: "0", Currency: "USD"} }),
		mk(func(l *domain.Listing) { l.Price = &domain.Money{Amount: "99999999999999999999", Currency: "XXX"} }),
	)
	noImg := mk(func(*domain.Listing) {})
	noImg.Images = []matchers.ListingImage{{Index: 0, URL: "x", Err: "fetch failed"}, {Index: 1, Hashes: []uint64{0, ^uint64(0)}}}
	out = append(out, noImg)
	return out
}
