// Package search is the review queue's complaint index: keyword filters,
// score and age ranges and full-text search over complaint and listing text,
// with stable cursor pagination. It is a derived view of the store, rebuilt
// from it at start (Rebuild) and kept current by upserts (Put).
//
// The index is a bleve index with a fixed mapping; user text is only ever
// used as the input of a match query on the text fields, never parsed as
// bleve's query-string syntax, so a user cannot name fields or inject
// clauses — in particular not a holder, which is how a brand owner is kept
// to its own complaints.
package search

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/search/terms"
)

// Errors callers tell apart.
var (
	// ErrBadCursor means Query.Cursor was not one this index returned for
	// the same query; the API answers 400.
	ErrBadCursor = errors.New("search: bad cursor")
	// ErrBadQuery means the query itself is invalid (NaN bounds, an
	// inverted range); the API answers 400.
	ErrBadQuery = errors.New("search: bad query")
)

// Limits of one page.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// putBatch is how many documents go into one bleve batch: large enough to
// amortise segment creation, small enough to bound memory and to notice a
// cancelled context.
const putBatch = 500

// Field names in the index.
const (
	fStatus    = "status"
	fSource    = "source"
	fMark      = "mark_id"
	fHolder    = "holder_id"
	fSeller    = "seller_id"
	fListing   = "listing_id"
	fScore     = "score"
	fPriority  = "priority"
	fCreated   = "created_at"
	fText      = "text"
	fTextCJK   = "text_cjk"
	docType    = "complaint"
	mappingKey = "markwatch.search.mapping"
)

// mappingVersion is stored in the index; an on-disk index written with
// another mapping is refused so that the caller rebuilds it.
const mappingVersion = "2"

// Doc is what the index knows of one complaint.
type Doc struct {
	ComplaintID string
	Status      string
	Source      string
	MarkID      string
	HolderID    string
	SellerID    string
	ListingID   string
	Score       float64
	// Priority orders the queue ahead of the score: a higher priority
	// comes first in every order without Text. The review service gives
	// good-faith holders' complaints priority 1, the rest 0.
	Priority int
	// CreatedAt is when the store received the complaint.
	CreatedAt time.Time
	// Text is the searchable text: listing title, description and brand,
	// the explanation and the text evidence matched.
	Text string
}

// DocFrom makes the index document of complaint c, whose review status and
// store arrival time are status and createdAt.
func DocFrom(c *domain.Complaint, status string, createdAt time.Time) Doc {
	return Doc{
		ComplaintID: c.ComplaintID,
		Status:      status,
		Source:      c.Source,
		MarkID:      c.MarkID,
		HolderID:    c.HolderID,
		SellerID:    c.SellerID,
		ListingID:   c.ListingID,
		Score:       c.Score,
		CreatedAt:   createdAt,
		Text:        terms.Text(c),
	}
}

// Index is the complaint index. It is safe for concurrent use.
type Index struct {
	idx bleve.Index
}

// Open opens the index at path, creating it when missing; an empty path
// makes an in-memory index.
func Open(path string) (*Index, error) {
	if path != "" {
		if _, err := os.Stat(path); err == nil {
			idx, err := bleve.Open(path)
			if err != nil {
				return nil, fmt.Errorf("search: open %s: %w", path, err)
			}
			v, err := idx.GetInternal([]byte(mappingKey))
			if err != nil || string(v) != mappingVersion {
				_ = idx.Close()
				return nil, fmt.Errorf("search: open %s: mapping version %q, want %q: remove the directory to rebuild", path, v, mappingVersion)
			}
			return &Index{idx: idx}, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("search: open %s: %w", path, err)
		}
	}
	// Scorch with an empty path is an in-memory index; on disk it is the
	// current bleve format.
	idx, err := bleve.NewUsing(path, newMapping(), scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("search: create index %q: %w", path, err)
	}
	if err := idx.SetInternal([]byte(mappingKey), []byte(mappingVersion)); err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("search: create index %q: %w", path, err)
	}
	return &Index{idx: idx}, nil
}

// metaPrefix keeps the caller's metadata apart from the index's own.
const metaPrefix = "markwatch.meta."

// SetMeta stores value under key beside the documents: on disk it is
// written with the index and read back by the next Open, which is how a
// caller persists how far the index has followed its source.
func (ix *Index) SetMeta(key string, value []byte) error {
	if err := ix.idx.SetInternal([]byte(metaPrefix+key), value); err != nil {
		return fmt.Errorf("search: set meta %s: %w", key, err)
	}
	return nil
}

// Meta returns what SetMeta stored under key, nil when nothing.
func (ix *Index) Meta(key string) ([]byte, error) {
	v, err := ix.idx.GetInternal([]byte(metaPrefix + key))
	if err != nil {
		return nil, fmt.Errorf("search: meta %s: %w", key, err)
	}
	return v, nil
}

func newMapping() *mapping.IndexMappingImpl {
	kw := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	num := bleve.NewNumericFieldMapping()
	num.Store = false
	num.IncludeInAll = false
	num.DocValues = true // sorting
	date := bleve.NewDateTimeFieldMapping()
	date.Store = false
	date.IncludeInAll = false
	date.DocValues = true // sorting
	text := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = false
		return f
	}

	dm := bleve.NewDocumentStaticMapping()
	for _, name := range []string{fStatus, fSource, fMark, fHolder, fSeller, fListing} {
		dm.AddFieldMappingsAt(name, kw())
	}
	dm.AddFieldMappingsAt(fScore, num)
	dm.AddFieldMappingsAt(fPriority, num)
	dm.AddFieldMappingsAt(fCreated, date)
	// The standard analyzer splits CJK into single ideographs; the cjk
	// analyzer's bigrams make a run of two or more characters match as a
	// phrase-like unit.
	dm.AddFieldMappingsAt(fText, text(standard.Name))
	dm.AddFieldMappingsAt(fTextCJK, text(cjk.AnalyzerName))

	im := bleve.NewIndexMapping()
	im.DefaultMapping = dm
	im.DefaultType = docType
	im.DefaultAnalyzer = standard.Name
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	return im
}

func (d Doc) fields() map[string]any {
	return map[string]any{
		fStatus:   d.Status,
		fSource:   d.Source,
		fMark:     d.MarkID,
		fHolder:   d.HolderID,
		fSeller:   d.SellerID,
		fListing:  d.ListingID,
		fScore:    d.Score,
		fPriority: float64(d.Priority),
		fCreated:  d.CreatedAt.UTC(),
		fText:     d.Text,
		fTextCJK:  d.Text,
	}
}

// Put inserts or replaces docs by ComplaintID, in batches.
func (ix *Index) Put(ctx context.Context, docs ...Doc) error {
	for start := 0; start < len(docs); start += putBatch {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("search: put: %w", err)
		}
		end := min(start+putBatch, len(docs))
		b := ix.idx.NewBatch()
		for _, d := range docs[start:end] {
			if d.ComplaintID == "" {
				return fmt.Errorf("search: put: %w: empty complaint id", ErrBadQuery)
			}
			if math.IsNaN(d.Score) || math.IsInf(d.Score, 0) {
				return fmt.Errorf("search: put %s: %w: score %v", d.ComplaintID, ErrBadQuery, d.Score)
			}
			if err := b.Index(d.ComplaintID, d.fields()); err != nil {
				return fmt.Errorf("search: put %s: %w", d.ComplaintID, err)
			}
		}
		if err := ix.idx.Batch(b); err != nil {
			return fmt.Errorf("search: put: %w", err)
		}
	}
	return nil
}

// Delete removes the documents of ids; unknown ids are ignored.
func (ix *Index) Delete(ctx context.Context, ids ...string) error {
	for start := 0; start < len(ids); start += putBatch {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("search: delete: %w", err)
		}
		end := min(start+putBatch, len(ids))
		b := ix.idx.NewBatch()
		for _, id := range ids[start:end] {
			b.Delete(id)
		}
		if err := ix.idx.Batch(b); err != nil {
			return fmt.Errorf("search: delete: %w", err)
		}
	}
	return nil
}

// Count reports how many documents the index holds.
func (ix *Index) Count() (uint64, error) {
	n, err := ix.idx.DocCount()
	if err != nil {
		return 0, fmt.Errorf("search: count: %w", err)
	}
	return n, nil
}

// Close releases the index; an on-disk index is flushed.
func (ix *Index) Close() error {
	if err := ix.idx.Close(); err != nil {
		return fmt.Errorf("search: close: %w", err)
	}
	return nil
}

// Query selects and orders complaints. Every non-empty filter must hold;
// within one list filter any value may match. Zero values are no filter.
type Query struct {
	// Text is matched, all terms required, against the complaint's text.
	// It is not parsed: operators and field names are plain words.
	Text     string
	Status   []string
	Source   []string
	MarkID   []string
	HolderID []string
	SellerID []string
	// Matcher keeps complaints whose evidence names one of these
	// matchers. The index does not hold matchers: the store applies this
	// filter (see the API's listing), and Search refuses a query with it
	// rather than ignore it.
	Matcher []string
	// MinScore and MaxScore bound the score, both inclusive.
	MinScore, MaxScore *float64
	// CreatedAfter (inclusive) and CreatedBefore (exclusive) bound the
	// store arrival time.
	CreatedAfter, CreatedBefore time.Time
	// Limit is the page size: DefaultLimit when 0, at most MaxLimit.
	Limit int
	// Cursor is Page.Next of the previous page of the same query.
	Cursor string
}

// Page is one page of complaint ids in order.
type Page struct {
	IDs []string
	// Total is how many complaints match the query, on every page.
	Total uint64
	// Next is the cursor of the following page; empty on the last page.
	Next string
}

// Search returns the page of q. Without Text the order is priority
// descending, then score descending, then created_at ascending, then id;
// with Text it is relevance descending, then id.
func (ix *Index) Search(ctx context.Context, q Query) (Page, error) {
	if err := ctx.Err(); err != nil {
		return Page{}, fmt.Errorf("search: %w", err)
	}
	limit := q.Limit
	switch {
	case limit < 0:
		return Page{}, fmt.Errorf("search: %w: negative limit %d", ErrBadQuery, limit)
	case limit == 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	if len(q.Matcher) > 0 {
		return Page{}, fmt.Errorf("search: %w: the index has no matcher field", ErrBadQuery)
	}
	bq, relevance, err := build(q)
	if err != nil {
		return Page{}, err
	}
	// One hit more than the page tells whether a next page exists.
	req := bleve.NewSearchRequestOptions(bq, limit+1, 0, false)
	var order []string
	if relevance {
		order = []string{"-_score", "_id"}
	} else {
		order = []string{"-" + fPriority, "-" + fScore, fCreated, "_id"}
		// Scores are only needed for relevance order.
		req.Score = bleve.ScoreNone
	}
	req.SortBy(order)
	fp := fingerprint(q)
	if q.Cursor != "" {
		after, err := decodeCursor(q.Cursor, fp, len(order), relevance)
		if err != nil {
			return Page{}, err
		}
		req.SetSearchAfter(after)
	}
	res, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return Page{}, fmt.Errorf("search: %w", ctxErr)
		}
		return Page{}, fmt.Errorf("search: %w", err)
	}
	hits := res.Hits
	more := len(hits) > limit
	if more {
		hits = hits[:limit]
	}
	p := Page{Total: res.Total, IDs: make([]string, 0, len(hits))}
	for _, h := range hits {
		p.IDs = append(p.IDs, h.ID)
	}
	if more {
		last := hits[len(hits)-1]
		vals := make([]string, len(last.Sort))
		copy(vals, last.Sort)
		if relevance {
			// bleve puts a placeholder in the sort values for _score; the
			// search-after document takes the score from this string.
			vals[0] = strconv.FormatFloat(last.Score, 'g', -1, 64)
		}
		p.Next = encodeCursor(fp, vals)
	}
	return p, nil
}

// build turns q into a bleve query; relevance reports whether it has text.
func build(q Query) (query.Query, bool, error) {
	var must []query.Query
	for _, f := range []struct {
		field string
		vals  []string
	}{
		{fStatus, q.Status}, {fSource, q.Source}, {fMark, q.MarkID},
		{fHolder, q.HolderID}, {fSeller, q.SellerID},
	} {
		if len(f.vals) == 0 {
			continue
		}
		// An empty value stays a term: it matches only documents without
		// the field, so a tenant filter of "" never widens to everyone.
		alts := make([]query.Query, 0, len(f.vals))
		for _, v := range f.vals {
			t := bleve.NewTermQuery(v)
			t.SetField(f.field)
			alts = append(alts, t)
		}
		if len(alts) == 1 {
			must = append(must, alts[0])
		} else {
			must = append(must, bleve.NewDisjunctionQuery(alts...))
		}
	}
	if q.MinScore != nil || q.MaxScore != nil {
		lo, hi := q.MinScore, q.MaxScore
		if (lo != nil && math.IsNaN(*lo)) || (hi != nil && math.IsNaN(*hi)) {
			return nil, false, fmt.Errorf("search: %w: NaN score bound", ErrBadQuery)
		}
		if lo != nil && hi != nil && *lo > *hi {
			return nil, false, fmt.Errorf("search: %w: min score %v above max %v", ErrBadQuery, *lo, *hi)
		}
		incl := true
		r := bleve.NewNumericRangeInclusiveQuery(lo, hi, &incl, &incl)
		r.SetField(fScore)
		must = append(must, r)
	}
	if !q.CreatedAfter.IsZero() || !q.CreatedBefore.IsZero() {
		a, b := q.CreatedAfter, q.CreatedBefore
		if !a.IsZero() && !b.IsZero() && !a.Before(b) {
			return nil, false, fmt.Errorf("search: %w: created range [%v, %v) is empty", ErrBadQuery, a, b)
		}
		for _, t := range []time.Time{a, b} {
			// bleve keeps times as int64 nanoseconds.
			if !t.IsZero() && (t.Year() < 1678 || t.Year() > 2261) {
				return nil, false, fmt.Errorf("search: %w: time %v out of range", ErrBadQuery, t)
			}
		}
		incl, excl := true, false
		r := bleve.NewDateRangeInclusiveQuery(a.UTC(), b.UTC(), &incl, &excl)
		if a.IsZero() {
			r = bleve.NewDateRangeInclusiveQuery(time.Time{}, b.UTC(), nil, &excl)
		} else if b.IsZero() {
			r = bleve.NewDateRangeInclusiveQuery(a.UTC(), time.Time{}, &incl, nil)
		}
		r.SetField(fCreated)
		must = append(must, r)
	}
	text := strings.TrimSpace(q.Text)
	relevance := text != ""
	if relevance {
		if !utf8.ValidString(text) {
			text = strings.ToValidUTF8(text, " ")
		}
		m := bleve.NewMatchQuery(text)
		m.SetOperator(query.MatchQueryOperatorAnd)
		if terms.HasCJKRun(text) {
			m.SetField(fTextCJK)
		} else {
			m.SetField(fText)
		}
		must = append(must, m)
	}
	switch len(must) {
	case 0:
		return bleve.NewMatchAllQuery(), false, nil
	case 1:
		return must[0], relevance, nil
	}
	return bleve.NewConjunctionQuery(must...), relevance, nil
}

// Matches returns the ids of up to max complaints that match q's text and
// filters (Matcher, Limit and Cursor aside), in no particular order, and
// whether more match. It stops at the max+1st match: unlike Search it
// neither scores nor sorts, so its cost is that of max matches however
// many there are. The API takes a narrow search's matches from it and lets
// the store order and page them.
func (ix *Index) Matches(ctx context.Context, q Query, max int) (ids []string, more bool, err error) {
	q.Matcher, q.Limit, q.Cursor = nil, 0, ""
	bq, _, err := build(q)
	if err != nil {
		return nil, false, err
	}
	ids = make([]string, 0, min(max, 1024))
	err = ix.each(ctx, bq, true, func(id string) bool {
		if len(ids) == max {
			more = true
			return false
		}
		ids = append(ids, id)
		return true
	})
	if err != nil {
		return nil, false, err
	}
	return ids, more, nil
}

// CountMatches counts the complaints that match q's text and filters
// (Matcher, Limit and Cursor aside) up to max, and tells whether more
// match. It reads no ids, the cheapest way to learn how broad a search is.
func (ix *Index) CountMatches(ctx context.Context, q Query, max int) (n int, more bool, err error) {
	q.Matcher, q.Limit, q.Cursor = nil, 0, ""
	bq, _, err := build(q)
	if err != nil {
		return 0, false, err
	}
	err = ix.each(ctx, bq, false, func(string) bool {
		if n == max {
			more = true
			return false
		}
		n++
		return true
	})
	if err != nil {
		return 0, false, err
	}
	return n, more, nil
}

// Matching reports which of ids match text (as Query.Text does; no other
// filter). The API walks the store's queue in order and keeps the
// candidates this admits, for a search too broad for Matches.
func (ix *Index) Matching(ctx context.Context, text string, ids []string) (map[string]bool, error) {
	out := make(map[string]bool)
	if len(ids) == 0 || strings.TrimSpace(text) == "" {
		return out, nil
	}
	tq, _, err := build(Query{Text: text})
	if err != nil {
		return nil, err
	}
	err = ix.each(ctx, bleve.NewConjunctionQuery(bleve.NewDocIDQuery(ids), tq), true, func(id string) bool {
		out[id] = true
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// each calls fn with the id of every document matching bq (the empty
// string unless withIDs: reading an id costs a stored-field lookup), in
// the index's internal order, until fn returns false. It drives bleve's
// searcher directly, without a collector, so that it can stop early.
func (ix *Index) each(ctx context.Context, bq query.Query, withIDs bool, fn func(id string) bool) error {
	adv, err := ix.idx.Advanced()
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return fmt.Errorf("search: open reader: %w", err)
	}
	defer r.Close()
	sr, err := bq.Searcher(ctx, r, ix.idx.Mapping(), bsearch.SearcherOptions{Score: "none"})
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	defer sr.Close()
	sctx := &bsearch.SearchContext{DocumentMatchPool: bsearch.NewDocumentMatchPool(sr.DocumentMatchPoolSize(), 0), IndexReader: r}
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("search: %w", err)
			}
		}
		dm, err := sr.Next(sctx)
		if err != nil {
			return fmt.Errorf("search: %w", err)
		}
		if dm == nil {
			return nil
		}
		var id string
		if withIDs {
			if id, err = r.ExternalID(dm.IndexInternalID); err != nil {
				return fmt.Errorf("search: %w", err)
			}
		}
		sctx.DocumentMatchPool.Put(dm)
		if !fn(id) {
			return nil
		}
	}
}

// cursor is the decoded form of Page.Next: the sort values of the last hit
// and a fingerprint of the query it belongs to.
type cursor struct {
	V int      `json:"v"`
	Q string   `json:"q"`
	S [][]byte `json:"s"`
}

const cursorVersion = 1

// fingerprint identifies a query apart from its page size and cursor, so
// that a cursor is refused on another query.
func fingerprint(q Query) string {
	q.Cursor, q.Limit = "", 0
	b, _ := json.Marshal(q) // a struct of strings, floats and times always marshals
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

func encodeCursor(fp string, vals []string) string {
	c := cursor{V: cursorVersion, Q: fp, S: make([][]byte, len(vals))}
	for i, v := range vals {
		c.S[i] = []byte(v)
	}
	b, _ := json.Marshal(c) // byte slices and strings always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// maxCursor bounds what decodeCursor reads: a cursor holds a few short
// values.
const maxCursor = 4096

func decodeCursor(s, fp string, n int, relevance bool) ([]string, error) {
	if len(s) > maxCursor {
		return nil, fmt.Errorf("%w: too long", ErrBadCursor)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCursor, err)
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCursor, err)
	}
	if c.V != cursorVersion || c.Q != fp || len(c.S) != n {
		return nil, fmt.Errorf("%w: not a cursor of this query", ErrBadCursor)
	}
	out := make([]string, n)
	for i, v := range c.S {
		out[i] = string(v)
	}
	if relevance {
		f, err := strconv.ParseFloat(out[0], 64)
		if err != nil || math.IsNaN(f) {
			return nil, fmt.Errorf("%w: bad score", ErrBadCursor)
		}
	} else {
		// Priority, score and created_at are prefix-coded int64s: 0x20
		// then eight bytes of seven bits each (see bleve's numeric
		// package).
		for _, v := range c.S[:3] {
			if len(v) != 11 || v[0] != 0x20 {
				return nil, fmt.Errorf("%w: bad sort value", ErrBadCursor)
			}
		}
	}
	return out, nil
}

// Rebuild makes ix hold exactly the documents each yields: it upserts them
// in batches of 500 and then deletes documents each did not yield. each
// calls yield for every document and stops early when yield returns false.
func Rebuild(ctx context.Context, ix *Index, each func(yield func(Doc) bool) error) error {
	seen := make(map[string]struct{})
	batch := make([]Doc, 0, putBatch)
	var putErr error
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		putErr = ix.Put(ctx, batch...)
		batch = batch[:0]
		return putErr == nil
	}
	err := each(func(d Doc) bool {
		if putErr != nil {
			return false
		}
		if err := ctx.Err(); err != nil {
			putErr = fmt.Errorf("search: rebuild: %w", err)
			return false
		}
		seen[d.ComplaintID] = struct{}{}
		batch = append(batch, d)
		if len(batch) == putBatch {
			return flush()
		}
		return true
	})
	if putErr != nil {
		return fmt.Errorf("search: rebuild: %w", putErr)
	}
	if err != nil {
		return fmt.Errorf("search: rebuild: %w", err)
	}
	if !flush() {
		return fmt.Errorf("search: rebuild: %w", putErr)
	}
	stale, err := ix.staleIDs(ctx, seen)
	if err != nil {
		return fmt.Errorf("search: rebuild: %w", err)
	}
	if err := ix.Delete(ctx, stale...); err != nil {
		return fmt.Errorf("search: rebuild: %w", err)
	}
	return nil
}

// staleIDs lists the ids in the index that are not in keep, paging by id.
func (ix *Index) staleIDs(ctx context.Context, keep map[string]struct{}) ([]string, error) {
	var stale []string
	var after []string
	for {
		req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), 5000, 0, false)
		req.SortBy([]string{"_id"})
		req.Score = bleve.ScoreNone
		if after != nil {
			req.SetSearchAfter(after)
		}
		res, err := ix.idx.SearchInContext(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("list ids: %w", err)
		}
		for _, h := range res.Hits {
			if _, ok := keep[h.ID]; !ok {
				stale = append(stale, h.ID)
			}
		}
		if len(res.Hits) < 5000 {
			return stale, nil
		}
		after = []string{res.Hits[len(res.Hits)-1].ID}
	}
}
