package text

import (
	"errors"
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
)

// bleveIndex finds typo candidates with bleve's Levenshtein automaton over
// the term dictionary of mark keys: the matcher's first fuzzy pass, kept as
// the reference the delete index is tested against (FuzzyIndexBleve). Its
// cost grows with the dictionary for every term not in the cache.
type bleveIndex struct {
	idx   bleve.Index
	read  index.IndexReader
	fuzzy index.IndexReaderFuzzy
}

// newBleveIndex indexes every key as one term of one document, in a single
// batch so that the in-memory index has a single segment (many segments
// make every lookup slower).
func newBleveIndex(keys []string) (*bleveIndex, error) {
	im := mapping.NewIndexMapping()
	im.DefaultAnalyzer = keyword.Name
	im.StoreDynamic = false
	im.IndexDynamic = true
	im.DocValuesDynamic = false
	// Scorch with an empty path is an in-memory index whose readers offer
	// Levenshtein-automaton lookups over the term dictionary (the older
	// upsidedown store behind NewMemOnly does not).
	idx, err := bleve.NewUsing("", im, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("text: create fuzzy index: %w", err)
	}
	fail := func(what string, err error) (*bleveIndex, error) {
		_ = idx.Close()
		return nil, fmt.Errorf("text: %s: %w", what, err)
	}
	if len(keys) > 0 {
		batch := idx.NewBatch()
		for _, key := range keys {
			if err := batch.Index(key, map[string]any{"k": key}); err != nil {
				return fail(fmt.Sprintf("index key %q", key), err)
			}
		}
		if err := idx.Batch(batch); err != nil {
			return fail("build fuzzy index", err)
		}
	}
	adv, err := idx.Advanced()
	if err != nil {
		return fail("open fuzzy index", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return fail("open fuzzy reader", err)
	}
	fr, ok := r.(index.IndexReaderFuzzy)
	if !ok {
		_ = r.Close()
		return fail("open fuzzy reader", fmt.Errorf("bleve reader %T has no fuzzy dictionary", r))
	}
	return &bleveIndex{idx: idx, read: r, fuzzy: fr}, nil
}

// lookup returns the keys within dist of term that begin with prefix, in
// the dictionary's (byte) order, without term itself.
func (b *bleveIndex) lookup(term string, dist int, prefix string) ([]fuzzyTerm, error) {
	dict, auto, err := b.fuzzy.FieldDictFuzzyAutomaton("k", term, dist, prefix)
	if err != nil {
		return nil, fmt.Errorf("text: fuzzy lookup %q: %w", term, err)
	}
	defer dict.Close()
	var out []fuzzyTerm
	for {
		e, err := dict.Next()
		if err != nil {
			return nil, fmt.Errorf("text: fuzzy lookup %q: %w", term, err)
		}
		if e == nil {
			break
		}
		if e.Term == term {
			continue
		}
		ok, d := auto.MatchAndDistance(e.Term)
		if !ok || d == 0 {
			continue
		}
		out = append(out, fuzzyTerm{key: e.Term, dist: d})
	}
	return out, nil
}

func (b *bleveIndex) close() error {
	return errors.Join(b.read.Close(), b.idx.Close())
}
