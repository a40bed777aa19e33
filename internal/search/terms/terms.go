// Package terms makes the full-text terms of complaints and of text
// queries with the search index's own analyzers, without the index: the
// store keeps a complaint's terms and matches a query's against them
// (PostgreSQL, migration 20) exactly as internal/search's index matches
// its text fields.
package terms

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/registry"

	"github.com/markwatch/markwatch/internal/domain"
)

// Text is the searchable text of complaint c: listing title, description
// and brand, the explanation and the text evidence matched. The index
// (search.DocFrom) and the store's full-text terms (Of) are made from it.
func Text(c *domain.Complaint) string {
	var parts []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	if c.Listing != nil {
		add(c.Listing.Title)
		add(c.Listing.Description)
		add(c.Listing.Brand)
	}
	add(c.Explanation)
	for _, e := range c.Evidence {
		// Image evidence matches are URLs: searching them is noise.
		if strings.HasPrefix(e.Field, "images") {
			continue
		}
		add(e.Match)
	}
	return strings.Join(parts, "\n")
}

// analyzers are the index's two text analyzers, for Of and Query.
var analyzers = sync.OnceValues(func() (std, bigram analysis.Analyzer) {
	cache := registry.NewCache()
	var err error
	if std, err = cache.AnalyzerNamed(standard.Name); err != nil {
		panic("search: standard analyzer: " + err.Error())
	}
	if bigram, err = cache.AnalyzerNamed(cjk.AnalyzerName); err != nil {
		panic("search: cjk analyzer: " + err.Error())
	}
	return std, bigram
})

// maxTerm bounds a term's length in bytes: PostgreSQL refuses a lexeme of
// 2 KB or more, and no one searches for such a word.
const maxTerm = 255

// Of are the distinct terms of text as the index matches them: the
// terms of both text fields, the standard analyzer's words (lower case,
// English stop words dropped, CJK as single ideographs) and the cjk
// analyzer's (CJK runs as bigrams). A store that keeps these beside each
// complaint matches Query against them as the index matches a text
// query: every term of the query among the complaint's terms.
func Of(text string) []string {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, " ")
	}
	std, bigram := analyzers()
	var out []string
	for _, a := range []analysis.Analyzer{std, bigram} {
		for _, t := range a.Analyze([]byte(text)) {
			if len(t.Term) > 0 && len(t.Term) <= maxTerm {
				out = append(out, string(t.Term))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Query are the terms a complaint must have (Of) to match the
// text query text, as Search matches it: the cjk analyzer's when the text
// has a run of two CJK characters, the standard analyzer's otherwise. None
// (only stop words or punctuation) matches nothing, as in the index.
func Query(text string) []string {
	text = strings.TrimSpace(text)
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, " ")
	}
	std, bigram := analyzers()
	a := std
	if HasCJKRun(text) {
		a = bigram
	}
	var out []string
	for _, t := range a.Analyze([]byte(text)) {
		// A longer term than Of keeps cannot match.
		if len(t.Term) > 0 {
			out = append(out, string(t.Term))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// HasCJKRun reports whether s has two CJK characters in a row: such a query
// is matched by bigrams; a lone character is matched as a single ideograph
// by the standard field (bigram indexing has no unigrams inside a run).
func HasCJKRun(s string) bool {
	prev := false
	for _, r := range s {
		c := unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
		if c && prev {
			return true
		}
		prev = c
	}
	return false
}
