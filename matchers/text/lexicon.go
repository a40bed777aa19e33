package text

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"strings"
	"sync"
)

// The English word list is SCOWL's (via Debian's wamerican; licence in
// lexicon/SCOWL-COPYRIGHT): words of two letters or more, proper nouns
// written with a capital. The fuzzy pass never reads a dictionary word or
// name as a typo of a mark ("submit" is not a misspelt "Summit", "Montana"
// not a misspelt "Montavo"); a one-word mark that is a lower-case
// dictionary word is a common word ("Harbor", "Meadow").
//
//go:embed lexicon/english.txt.gz
var englishGz []byte

// dictionary is the loaded word list; it is never written after loading.
type dictionary struct {
	words  map[string]struct{} // every word and name, lower-cased
	common map[string]struct{} // the lower-case (non-name) words
	// filter holds the words too: most terms the fuzzy pass asks about
	// are not words, and the filter says so without a miss in words.
	filter bitFilter
}

// has reports whether w is a word or name of the dictionary.
func (d dictionary) has(w string) bool {
	if !d.filter.has(hashString(w)) {
		return false
	}
	_, ok := d.words[w]
	return ok
}

var (
	englishOnce sync.Once
	englishDict dictionary
)

// english returns the dictionary, loaded once.
func english() dictionary {
	englishOnce.Do(func() {
		d := dictionary{words: map[string]struct{}{}, common: map[string]struct{}{}}
		zr, err := gzip.NewReader(bytes.NewReader(englishGz))
		if err == nil {
			sc := bufio.NewScanner(zr)
			for sc.Scan() {
				w := sc.Text()
				lw := strings.ToLower(w)
				d.words[lw] = struct{}{}
				if w == lw {
					d.common[lw] = struct{}{}
				}
			}
		}
		d.filter = newBitFilter(len(d.words))
		for w := range d.words {
			d.filter.add(hashString(w))
		}
		englishDict = d // a broken embed leaves it empty; TestDictionary catches that
	})
	return englishDict
}

// productWords are the nouns sellers glue onto a brand to dodge exact
// matching ("grellonitote", "#harborwallet", "QuorvelWatch"). A token that
// is a mark key followed by one of these is a squashed use of the mark;
// a key followed by anything else ("tessellation") is not.
var productWords = toSet(`bag bags handbag handbags tote totes purse purses wallet wallets clutch backpack
belt belts watch watches smartwatch shoe shoes sneaker sneakers trainer trainers boots boot loafers loafer heels sandals
tee tees tshirt shirt shirts hoodie hoodies sweater sweatshirt jacket jackets coat coats parka trench dress dresses
jeans pants shorts skirt scarf scarves cap caps hat hats beanie gloves socks
sunglasses glasses eyewear perfume perfumes parfum fragrance cologne lipstick makeup cream serum foundation mascara
earbuds buds headphones headset speaker speakers phone charger cable case cover powerbank
ring rings necklace bracelet earrings jewelry jewellery pendant keychain cardholder
store shop official outlet sale originals
`)

func toSet(s string) map[string]struct{} {
	m := map[string]struct{}{}
	for _, w := range strings.Fields(s) {
		m[w] = struct{}{}
	}
	return m
}
