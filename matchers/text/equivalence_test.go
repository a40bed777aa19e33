package text

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/fixtures"
	"github.com/markwatch/markwatch/fixtures/benchstream"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

// TestTypoIndexesAgree checks the delete index against bleve's automaton
// on random keys and terms: the same keys at the same distances, in the
// same order, for every distance and prefix length the matcher can ask.
// The alphabet is small, so that near neighbours abound, and has
// multi-byte runes, so that runes and bytes cannot be confused.
func TestTypoIndexesAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []rune("abcdeéж")
	word := func(n int) string {
		r := make([]rune, n)
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(r)
	}
	edit := func(s string) string {
		r := []rune(s)
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(r))
			switch rng.IntN(4) {
			case 0: // substitute
				r[i] = alphabet[rng.IntN(len(alphabet))]
			case 1: // delete
				if len(r) > 2 {
					r = slices.Delete(r, i, i+1)
				}
			case 2: // insert
				r = slices.Insert(r, i, alphabet[rng.IntN(len(alphabet))])
			case 3: // transpose
				if i+1 < len(r) {
					r[i], r[i+1] = r[i+1], r[i]
				}
			}
		}
		return string(r)
	}
	seen := map[string]bool{}
	var keys []string
	for len(keys) < 400 {
		if k := word(3 + rng.IntN(8)); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	bl, err := newBleveIndex(keys)
	if err != nil {
		t.Fatal(err)
	}
	defer bl.close()
	var terms []string
	for range 900 {
		terms = append(terms, edit(keys[rng.IntN(len(keys))]))
	}
	for range 200 {
		terms = append(terms, word(2+rng.IntN(10)))
	}
	terms = append(terms, keys[:50]...)
	for prefix := range 3 {
		del := newDeleteIndex(keys, prefix, 0)
		for _, term := range terms {
			for dist := 1; dist <= 2; dist++ {
				p := prefixOf(term, prefix)
				want, err := bl.lookup(term, dist, p)
				if err != nil {
					t.Fatal(err)
				}
				if got := del.lookup(term, dist, p); !reflect.DeepEqual(got, want) {
					t.Fatalf("lookup(%q, %d, %q) = %v, bleve %v", term, dist, p, got, want)
				}
			}
		}
	}
}

// prefixOf is the prefix fuzzyTerms passes for a term: its first n runes,
// or "" when the term has no more than n.
func prefixOf(term string, n int) string {
	i := 0
	for at := range term {
		if i == n && n > 0 {
			return term[:at]
		}
		i++
	}
	return ""
}

// TestFuzzyHitsUnchanged checks that the matcher finds exactly what it
// found before the delete index and the prefix filter: every hit (mark,
// field, span, kind, distance, score, in order) on the fixtures, on the
// hand-written real-brand marks with typos of them, and on generated
// repetitive and never-seen-word streams over 10,000 marks with typos of
// their names, against the first implementation (bleve's automaton, every
// window looked up), with the shipped options and the package defaults.
func TestFuzzyHitsUnchanged(t *testing.T) {
	type set struct {
		name     string
		marks    []*matchers.Mark
		listings []*matchers.Listing
	}
	var sets []set

	fm, err := fixtures.LoadMarks()
	if err != nil {
		t.Fatal(err)
	}
	fl, err := fixtures.LoadListings()
	if err != nil {
		t.Fatal(err)
	}
	fix := set{name: "fixtures", marks: benchMarks(fm)}
	for _, l := range fl {
		fix.listings = append(fix.listings, matchers.NewListing(l))
	}
	fix.listings = append(fix.listings, typoListings(fix.marks, 400, 5)...)
	sets = append(sets, fix)

	real := set{name: "real-world", marks: benchMarks(readRealMarks(t))}
	real.listings = append(real.listings, typoListings(real.marks, 600, 6)...)
	for _, title := range realTitles {
		real.listings = append(real.listings, listing(title, "", ""))
	}
	sets = append(sets, real)

	gm := benchstream.Marks(10_000, 1)
	gen := set{name: "generated 10k marks", marks: benchMarks(gm)}
	for _, novel := range []bool{false, true} {
		s := benchstream.NewStream(gm, 5, novel)
		for range 400 {
			gen.listings = append(gen.listings, matchers.NewListing(s.Next()))
		}
	}
	gen.listings = append(gen.listings, typoListings(gen.marks, 400, 7)...)
	sets = append(sets, gen)

	opts := map[string]Options{"shipped": shippedOptions(""), "defaults": {}}
	for _, s := range sets {
		for oname, o := range opts {
			t.Run(s.name+"/"+oname, func(t *testing.T) {
				cur, err := New(s.marks, o)
				if err != nil {
					t.Fatal(err)
				}
				defer cur.Close()
				o.FuzzyIndex = FuzzyIndexBleve
				ref, err := New(s.marks, o)
				if err != nil {
					t.Fatal(err)
				}
				defer ref.Close()
				ref.prefixes = bitFilter{}    // every window looked up, as before
				ref.dict.filter = bitFilter{} // every term looked up in the dictionary
				fuzzy := 0
				for _, l := range s.listings {
					got, err := cur.find(l)
					if err != nil {
						t.Fatal(err)
					}
					want, err := ref.find(l)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("listing %q / %q:\n got %+v\nwant %+v", l.Title, l.Description, got, want)
					}
					for _, h := range got {
						if h.kind == KindFuzzy {
							fuzzy++
						}
					}
				}
				// The comparison means something only if typos were found.
				if fuzzy < 100 {
					t.Errorf("only %d fuzzy hits in %d listings", fuzzy, len(s.listings))
				}
				t.Logf("%d listings, %d fuzzy hits, identical", len(s.listings), fuzzy)
			})
		}
	}
}

// typoListings writes n listings naming a mark with one or two typos
// (substitution, deletion, insertion, transposition, first letter
// included), in the title, the brand field or the description.
func typoListings(marks []*matchers.Mark, n int, seed uint64) []*matchers.Listing {
	rng := rand.New(rand.NewPCG(seed, 11))
	letters := []rune("abcdefghijklmnopqrstuvwxyzé")
	out := make([]*matchers.Listing, 0, n)
	for i := range n {
		r := []rune(marks[rng.IntN(len(marks))].Name)
		for range 1 + rng.IntN(2) {
			if len(r) < 3 {
				break
			}
			at := rng.IntN(len(r))
			switch rng.IntN(4) {
			case 0:
				r[at] = letters[rng.IntN(len(letters))]
			case 1:
				r = slices.Delete(r, at, at+1)
			case 2:
				r = slices.Insert(r, at, letters[rng.IntN(len(letters))])
			case 3:
				if at+1 < len(r) {
					r[at], r[at+1] = r[at+1], r[at]
				}
			}
		}
		name := string(r)
		switch i % 3 {
		case 0:
			out = append(out, listing(name+" leather bag new", "", ""))
		case 1:
			out = append(out, listing("leather bag", name, ""))
		default:
			out = append(out, listing("bag", "", "Looks like the "+name+" classic, "+fmt.Sprint(i)))
		}
	}
	return out
}

// readRealMarks reads the hand-written real-brand marks of the evaluation
// package's real-world test.
func readRealMarks(t *testing.T) []*domain.Mark {
	f, err := os.Open(filepath.Join("..", "..", "internal", "evaluation", "testdata", "real_marks.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, err := fixtures.ReadMarks(f, domain.Limits{}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// realTitles are listing titles in the manner of the real-world test's,
// typos of real brands included.
var realTitles = strings.Split(`N1ke Air Max 90 replica 1:1
Guccci Marmont bag mirror quality
Louis Vuiton Neverfull MM
Rolx Daytona automatic
Rollex Submariner super clone
Channel Classic Flap inspired by
Adiddas Superstar white
Ralph Laurent polo shirt
Hermes Birkim 30 togo
Pradda Galleria saffiano
Louis Philippe formal shirt slim fit
U.S. Polo Assn. men's polo shirt
Diorama kit for model railway
Channel islands travel guide
Apple juice 1 L, organic`, "\n")

// FuzzOSADistance checks the bounded distance against the plain dynamic
// programme (no early exit, full matrix) on arbitrary strings.
func FuzzOSADistance(f *testing.F) {
	f.Add("gucci", "guccci", 2)
	f.Add("vuitton", "vuiton", 1)
	f.Add("ab", "ba", 1)
	f.Add("耐克", "克耐", 2)
	f.Fuzz(func(t *testing.T, a, b string, max int) {
		if max < 0 || max > 3 || len(a) > 64 || len(b) > 64 {
			return
		}
		ra, rb := []rune(a), []rune(b)
		want := min(plainOSA(ra, rb), max+1)
		if got := osaDistance(ra, rb, max); got != want {
			t.Fatalf("osaDistance(%q, %q, %d) = %d, want %d", a, b, max, got, want)
		}
	})
}

func plainOSA(a, b []rune) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func TestUnknownFuzzyIndex(t *testing.T) {
	if _, err := New(testMarks(), Options{FuzzyIndex: "trigram"}); err == nil {
		t.Fatal("unknown fuzzy index accepted")
	}
}

// FuzzDeleet checks what findLeet's early exit relies on: a chunk decoded
// as leet or masked always holds a byte hasLeetByte sees, so a field
// without one has nothing for the pass.
func FuzzDeleet(f *testing.F) {
	for _, s := range []string{"73ssel", "7avr0$$3", "W111ow", "(N1ke)", "RTX4090", "plain", "a.b-c_d", "é1x", "VELT*RO", "Qu#llora", "VЕL7АR0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, leet, masked, _, ok := deleet(s)
		if ok && (leet || masked) && !hasLeetByte(s) {
			t.Fatalf("%q decoded as leet or masked without a byte hasLeetByte sees", s)
		}
	})
}
