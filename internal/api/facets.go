package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/markwatch/markwatch/internal/search"
	"github.com/markwatch/markwatch/internal/store"
)

// Per-filter counts are a few dozen small queries. A reviewer pages through
// one list and comes back to it: the counts of a list are kept for
// facetTTL, so that a page (the cursor is not part of the key) costs them
// once, and a count is at most that old; a change made through this API
// (reindex) drops them at once.
const (
	facetTTL     = 5 * time.Second
	facetEntries = 256
	// facetWorkers is how many count queries one list runs at once.
	facetWorkers = 4
)

// facetCache keeps recent lists' counts by the fingerprint of their
// filters (which holds a brand owner's holder, so that no two tenants
// share an entry).
type facetCache struct {
	entries *lru.Cache[string, facetEntry] // safe for concurrent use
}

type facetEntry struct {
	at     time.Time
	facets *Facets
}

func newFacetCache() *facetCache {
	c, _ := lru.New[string, facetEntry](facetEntries) // a positive size never fails
	return &facetCache{entries: c}
}

func (fc *facetCache) get(key string, now time.Time) (*Facets, bool) {
	e, ok := fc.entries.Get(key)
	if !ok || now.Sub(e.at) > facetTTL || now.Before(e.at) {
		return nil, false
	}
	return e.facets, true
}

func (fc *facetCache) put(key string, f *Facets, now time.Time) {
	fc.entries.Add(key, facetEntry{at: now, facets: f})
}

// facets counts, for each filter, the complaints each of its options
// would list with the other filters of q as they are: exact from the
// trigger-kept counts where the store has them (see
// store.CountQueueUpTo), otherwise up to FacetCountCap. The queries run a
// few at a time; the answer is kept for facetTTL. With knownOnly, only
// the counts kept by triggers are counted and the others are left Unknown
// (Facets.Deferred), unless a whole answer is kept. Such a partial answer
// is kept too, for the next knownOnly list of the same filters (the
// reviewer's next page), but never answers a full count, whose answer
// replaces it.
func (a *API) facets(ctx context.Context, q search.Query, now time.Time, knownOnly bool) (*Facets, error) {
	base := queueFilter(q)
	key := queueFingerprint(base)
	if f, ok := a.facetCache.get(key, now); ok && (knownOnly || !f.Deferred) {
		return f, nil
	}
	type option struct {
		dst   *[]FacetCount
		value string
		f     store.QueueFilter
	}
	var fs Facets
	var opts []option
	for _, dim := range []struct {
		dst    *[]FacetCount
		values []string
		set    func(f *store.QueueFilter, v string)
	}{
		{&fs.Status, enumSets[queryEnums["status"]], func(f *store.QueueFilter, v string) { f.Status = []string{v} }},
		{&fs.Source, enumSets[queryEnums["source"]], func(f *store.QueueFilter, v string) { f.Source = []string{v} }},
		{&fs.Matcher, FacetMatchers, func(f *store.QueueFilter, v string) { f.Matcher = []string{v} }},
		{&fs.MaxAge, FacetMaxAges, func(f *store.QueueFilter, v string) {
			d, _ := time.ParseDuration(v) // FacetMaxAges parse
			f.CreatedAfter = now.Add(-d).Truncate(time.Second)
		}},
		{&fs.MarkID, q.MarkID, func(f *store.QueueFilter, v string) { f.MarkID = []string{v} }},
		{&fs.HolderID, q.HolderID, func(f *store.QueueFilter, v string) { f.HolderID = []string{v} }},
	} {
		*dim.dst = make([]FacetCount, len(dim.values))
		for _, v := range dim.values {
			f := base
			dim.set(&f, v)
			opts = append(opts, option{dim.dst, v, f})
		}
	}
	// A capped count is cheap when its option is common and may read the
	// whole base list when it is rare (an option that matches nothing
	// proves it only at the end): what is not counted within the budget
	// is reported unknown, and the page does not wait for it (a cancelled
	// query can take a while to stop).
	bctx, cancel := context.WithTimeout(ctx, a.countBudget)
	var (
		mu      sync.Mutex
		res     = make([]FacetCount, len(opts))
		left    int
		errs    []error
		done    = make(chan struct{})
		pending = make(chan int, len(opts))
	)
	counted := 0
	for i, o := range opts {
		res[i] = FacetCount{Value: o.value, Unknown: true}
		if knownOnly && !o.f.CountKept() {
			fs.Deferred = true
			continue
		}
		pending <- i
		counted++
	}
	close(pending)
	left = counted
	if left == 0 {
		close(done)
	}
	for range min(facetWorkers, counted) {
		go func() {
			for i := range pending {
				var fc FacetCount
				var err error
				if bctx.Err() == nil {
					var n int64
					var capped bool
					n, capped, err = a.store.CountQueueUpTo(bctx, opts[i].f, FacetCountCap)
					fc = FacetCount{Value: opts[i].value, Count: n, Capped: capped}
				}
				mu.Lock()
				switch {
				case bctx.Err() != nil && (err != nil || fc.Value == ""):
					// over the budget: stays unknown
				case err != nil:
					errs = append(errs, err)
				default:
					res[i] = fc
				}
				if left--; left == 0 {
					close(done)
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-done:
	case <-bctx.Done():
	}
	cancel()
	mu.Lock()
	snapshot := slices.Clone(res)
	err := errors.Join(errs...)
	mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("list complaints: counts: %w", err)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("list complaints: counts: %w", ctx.Err())
	}
	slot := make(map[*[]FacetCount]int)
	for i, o := range opts {
		(*o.dst)[slot[o.dst]] = snapshot[i]
		slot[o.dst]++
	}
	// Kept even when incomplete: counting again at the next view would
	// spend the whole budget again on what did not fit in it. A deferred
	// answer does not replace a full one made meanwhile.
	if cur, ok := a.facetCache.get(key, now); !fs.Deferred || !ok || cur.Deferred {
		a.facetCache.put(key, &fs, now)
	}
	return &fs, nil
}
