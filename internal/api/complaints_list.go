package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/search"
	"github.com/markwatch/markwatch/internal/store"
)

// listParams are the query parameters GET /v1/complaints accepts.
var listParams = []string{
	"q", "status", "source", "mark_id", "holder_id", "seller_id",
	"min_score", "max_score", "created_after", "created_before", "max_age",
	"cursor", "limit", "matcher", "counts",
}

// queryParamDocs describe query parameters in the OpenAPI document, by
// name (only names no two routes use differently).
var queryParamDocs = map[string]string{
	"matcher": "Complaints whose evidence names this matcher (text, image, logo, price, cue, seller, or any other a detector reports); repeated or comma-separated, any may match. Served from an index of (matcher, queue order), keyset-paged like every list.",
	"q":       "Full-text search, with any other filter and the cursor, in queue order like every list: every word must appear in the listing's title, description or brand, the explanation or the text evidence (case ignored; English stop words such as the or of ignored; a run of CJK characters matched by its two-character pairs, so 高仿 finds 高仿手袋). The store matches the text (complaint_terms on PostgreSQL, complaint_term_keys on SQLite): a list with q sees every change committed before it, through any replica. total is exact when the page holds every match (no next_cursor), else a lower bound with total_estimated: the matches the page's own reads found (no count of its own, which would read as far again). A page reads at most 50,000 candidates: a text whose matches are rare in the queue may come back with fewer rows than limit, even none, and a next_cursor to go on from; follow next_cursor until it is empty.",
	"counts":  "true adds counts: for each filter option, how many complaints it would list (exact where kept by triggers, else capped at 1000 with capped: true). Ignored with q.",
}

// listMultiParams may be repeated or comma-separated; any value matches.
var listMultiParams = []string{"status", "source", "mark_id", "holder_id", "seller_id", "matcher"}

// Bounds of the list query, so that a request cannot make the index work
// on arbitrarily large filters.
const (
	maxListValues   = 50
	maxListValueLen = 200
	maxListText     = 500
)

// syncLag is how far before the last catch-up the next one re-reads the
// store: a transaction stamped before the watermark (its clock is read when
// it begins) may commit after the catch-up read. A transaction that takes
// longer than syncLag to commit is missed until the next rebuild.
const syncLag = 10 * time.Second

// DefaultSearchInterval is how often RunSearch catches the index up with
// the store when Options.SearchInterval is zero.
const DefaultSearchInterval = time.Second

// complaintIndex is the search index of the complaint queue, a derived view
// of the store. It follows the store's change stream, the complaints in
// order of (updated_at, id) from its watermark on an index of those
// columns (migration 9), so that every writer — the complaints consumer,
// decisions, counter-notices, the reinstatement timer, other replicas —
// reaches it without knowing it, and a catch-up costs the changes since the
// last one, not the size of the queue.
//
// Under RunSearch (serve) requests never catch up: they query the index as
// it is, while the loop keeps it within SearchInterval of the store, and
// the API re-indexes a complaint it decided as soon as the decision
// commits. A replica that starts serves from the first batch on while the
// loop builds the rest; markwatch_search_index_lag_seconds says how stale
// it is. Without RunSearch (tests, tools) each request catches up first,
// which reads the index's own writes.
type complaintIndex struct {
	store  *store.Store
	review *review.Service
	log    *slog.Logger
	// ix is safe for concurrent use; mu serializes catch-ups.
	ix *search.Index
	mu sync.Mutex
	// synced is the store time of the newest update already indexed;
	// zero until the first rebuild.
	synced time.Time
	built  bool
	// goodFaith are the holders whose complaints were indexed with
	// priority: a change of the set re-ranks their complaints. Read
	// without mu by refresh.
	goodFaith atomic.Pointer[map[string]bool]
	// recent is what was indexed of the complaints updated within
	// syncLag of synced, so that re-reading them does not re-put them.
	recent map[string]indexedVersion
	// running is set while RunSearch keeps the index current.
	running atomic.Bool
	// caughtUp is when the last complete catch-up started (Unix
	// nanoseconds): everything the store committed syncLag before it is
	// in the index. opened stands in until the first one.
	caughtUp atomic.Int64
	opened   time.Time
	// saved is the watermark last persisted in the index.
	saved watermark
}

// indexedVersion is the version of a complaint the index holds.
type indexedVersion struct {
	updated time.Time
	status  string
}

func newComplaintIndex(st *store.Store, rv *review.Service, ix *search.Index, log *slog.Logger) (*complaintIndex, error) {
	if ix == nil {
		var err error
		if ix, err = search.Open(""); err != nil {
			return nil, fmt.Errorf("complaint index: %w", err)
		}
	}
	ci := &complaintIndex{store: st, review: rv, ix: ix, log: log, opened: time.Now()}
	if err := ci.resume(); err != nil {
		return nil, fmt.Errorf("complaint index: %w", err)
	}
	return ci, nil
}

// watermarkKey is the index metadata under which catchUp persists its
// watermark.
const watermarkKey = "watermark"

// watermark is how far an index has followed the store, stored in the
// index itself after every catch-up that changed it, so that an index on
// disk resumes where it stopped (search.Open) instead of being rebuilt.
type watermark struct {
	// Synced is the store time of the newest update indexed (Unix ns).
	Synced int64 `json:"synced"`
	// CaughtUp is when the catch-up that wrote it started (Unix ns).
	CaughtUp int64 `json:"caught_up"`
	// GoodFaith are the holders indexed with priority.
	GoodFaith []string `json:"good_faith"`
}

// resume reads the watermark of an index that was built before (on disk):
// the index serves at once, its staleness is the time since that catch-up
// (markwatch_search_index_lag_seconds), and the first catch-up reads only
// the store's changes since the watermark. An index without one (new, or
// in memory) is built by the first catch-up.
func (ci *complaintIndex) resume() error {
	b, err := ci.ix.Meta(watermarkKey)
	if err != nil || b == nil {
		return err
	}
	var w watermark
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("watermark: %w", err)
	}
	good := make(map[string]bool, len(w.GoodFaith))
	for _, h := range w.GoodFaith {
		good[h] = true
	}
	ci.synced, ci.built, ci.saved = time.Unix(0, w.Synced), true, w
	ci.goodFaith.Store(&good)
	ci.caughtUp.Store(w.CaughtUp)
	return nil
}

// persist stores the watermark of the catch-up that began at began, unless
// it is what the index holds already (an idle store writes nothing).
func (ci *complaintIndex) persist(began time.Time, good map[string]bool) error {
	w := watermark{Synced: ci.synced.UnixNano(), GoodFaith: slices.Sorted(maps.Keys(good))}
	if w.Synced == ci.saved.Synced && slices.Equal(w.GoodFaith, ci.saved.GoodFaith) {
		return nil
	}
	w.CaughtUp = began.UnixNano()
	b, err := json.Marshal(w)
	if err != nil {
		return err
	}
	if err := ci.ix.SetMeta(watermarkKey, b); err != nil {
		return err
	}
	ci.saved = w
	return nil
}

// lag is how stale the index may be: the time since the start of the last
// complete catch-up, or since the index was opened before the first.
//
// It is 0 when the store answers text search itself (PostgreSQL,
// store.TextSearch): a list with q then reads the store as every list
// does, and sees every change committed before it.
func (ci *complaintIndex) lag(now time.Time) time.Duration {
	if ci.store.TextSearch() {
		return 0
	}
	at := ci.caughtUp.Load()
	if at == 0 {
		return now.Sub(ci.opened)
	}
	return now.Sub(time.Unix(0, at))
}

// forQuery returns the index to query: as it is under RunSearch, caught up
// first otherwise.
func (ci *complaintIndex) forQuery(ctx context.Context) (*search.Index, error) {
	if ci.running.Load() {
		return ci.ix, nil
	}
	if err := ci.catchUp(ctx); err != nil {
		return nil, err
	}
	return ci.ix, nil
}

// goodFaithHolders are the holders whose complaints are indexed with
// priority 1, from their current standings.
func (ci *complaintIndex) goodFaithHolders(ctx context.Context) (map[string]bool, error) {
	standings, err := ci.review.Standings(ctx)
	if err != nil {
		return nil, fmt.Errorf("complaint index: %w", err)
	}
	good := make(map[string]bool)
	for h, st := range standings {
		if st == review.StandingGoodFaith {
			good[h] = true
		}
	}
	return good, nil
}

// doc is the index document of c given the good-faith holders.
func doc(c *store.Complaint, good map[string]bool) search.Doc {
	d := search.DocFrom(&c.Body, c.Status, c.CreatedAt)
	if good[c.Body.HolderID] {
		d.Priority = 1
	}
	return d
}

// refresh re-indexes the complaints ids from the store at once, without
// waiting for a catch-up: the API calls it after a change it made commits,
// so that the reviewer who decided sees the decision in the next list.
// A catch-up that read an older version and puts it after refresh is
// corrected by the following one, which re-reads the change (it is within
// syncLag of the watermark).
func (ci *complaintIndex) refresh(ctx context.Context, ids ...string) error {
	if ci.store.TextSearch() {
		// Nothing to refresh: the store is the index.
		return nil
	}
	var good map[string]bool
	if p := ci.goodFaith.Load(); p != nil {
		good = *p
	}
	docs := make([]search.Doc, 0, len(ids))
	for _, id := range ids {
		c, err := ci.store.GetComplaint(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("complaint index: refresh: %w", err)
		}
		docs = append(docs, doc(&c, good))
	}
	if err := ci.ix.Put(ctx, docs...); err != nil {
		return fmt.Errorf("complaint index: refresh: %w", err)
	}
	return nil
}

// reindex refreshes the complaints ids in the search index after a change
// through the API committed. A failure is only logged: the change stands,
// and the next catch-up indexes it.
func (a *API) reindex(ctx context.Context, ids ...string) {
	// Counts kept for a few seconds must not hide one's own decision.
	a.facetCache.entries.Purge()
	if err := a.index.refresh(ctx, ids...); err != nil && ctx.Err() == nil {
		a.log.Warn("complaint search index refresh failed", "complaint_id", strings.Join(ids, ","), "error", err)
	}
}

// catchUp rebuilds the index the first time and afterwards puts every
// complaint updated since the last catch-up (less syncLag). Good-faith
// holders' complaints get priority 1, which the index orders ahead of the
// score, so they rise in the queue; when the set of good-faith holders
// changes, the index is rebuilt so that every complaint has its holder's
// current priority (standing moves slowly: over tens of decisions).
func (ci *complaintIndex) catchUp(ctx context.Context) error {
	ci.mu.Lock()
	defer ci.mu.Unlock()
	began := time.Now()
	good, err := ci.goodFaithHolders(ctx)
	if err != nil {
		return err
	}
	// The store's queue order follows the same holders (a no-op read
	// when they did not change, as on almost every catch-up).
	if err := ci.store.SetPriorityHolders(ctx, slices.Collect(maps.Keys(good))); err != nil {
		return fmt.Errorf("complaint index: %w", err)
	}
	if prev := ci.goodFaith.Load(); prev == nil || !maps.Equal(good, *prev) {
		ci.built = false
	}
	// Documents put from here on carry the new priorities.
	ci.goodFaith.Store(&good)
	if ci.store.TextSearch() {
		// The store answers text search (complaint_terms): the index is
		// not built, and a catch-up only keeps the holders' priorities.
		ci.caughtUp.Store(began.UnixNano())
		return nil
	}
	newest := ci.synced
	seen := make(map[string]indexedVersion)
	docs := func(yield func(search.Doc) bool) error {
		since := time.Time{}
		if ci.built {
			since = ci.synced.Add(-syncLag)
		}
		return ci.store.EachComplaint(ctx, since, func(c store.Complaint) bool {
			if c.UpdatedAt.After(newest) {
				newest = c.UpdatedAt
			}
			v := indexedVersion{updated: c.UpdatedAt, status: c.Status}
			seen[c.Body.ComplaintID] = v
			if prev, ok := ci.recent[c.Body.ComplaintID]; ok && ci.built && prev == v {
				return true
			}
			return yield(doc(&c, good))
		})
	}
	if !ci.built {
		if err := search.Rebuild(ctx, ci.ix, docs); err != nil {
			return fmt.Errorf("complaint index: %w", err)
		}
		ci.built = true
	} else {
		var batch []search.Doc
		if err := docs(func(d search.Doc) bool { batch = append(batch, d); return true }); err != nil {
			return fmt.Errorf("complaint index: catch up: %w", err)
		}
		if err := ci.ix.Put(ctx, batch...); err != nil {
			return fmt.Errorf("complaint index: catch up: %w", err)
		}
	}
	ci.synced = newest
	for id, v := range ci.recent {
		if _, ok := seen[id]; !ok {
			seen[id] = v
		}
	}
	for id, v := range seen {
		if v.updated.Before(newest.Add(-syncLag)) {
			delete(seen, id)
		}
	}
	ci.recent = seen
	if err := ci.persist(began, good); err != nil {
		return fmt.Errorf("complaint index: %w", err)
	}
	ci.caughtUp.Store(began.UnixNano())
	return nil
}

// RebuildSearch rebuilds the complaint search index from the store, and
// waits for it. Tools and tests call it; serve runs RunSearch instead,
// which builds the index in the background while requests are served.
func (a *API) RebuildSearch(ctx context.Context) error {
	a.index.mu.Lock()
	a.index.built = false
	a.index.mu.Unlock()
	return a.index.catchUp(ctx)
}

// RunSearch keeps the complaint search index current with the store until
// ctx ends: it builds it, then catches up every Options.SearchInterval.
// While it runs, GET /v1/complaints queries the index without catching up
// (see complaintIndex). A failed catch-up is logged and retried at the
// next tick. It returns nil when ctx ends.
func (a *API) RunSearch(ctx context.Context) error {
	a.index.running.Store(true)
	defer a.index.running.Store(false)
	t := time.NewTicker(a.searchInterval)
	defer t.Stop()
	for {
		if err := a.index.catchUp(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			a.log.Warn("complaint search index catch-up failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// complaintListResponse is the body of GET /v1/complaints.
type complaintListResponse struct {
	Complaints []complaintResponse `json:"complaints"`
	// Total is how many complaints match, on every page.
	Total int64 `json:"total" doc:"How many complaints match. Exact unless total_estimated is true; then a lower bound: the count stopped at 10000 matches (1000 with a matcher filter, whose count probes a complaint per match), so that a total never costs more than that; for a full-text search, the matches the page's reads found; and when a count not kept by the service (any filter other than status, source, holder_id and one matcher) did not finish within the count budget (30 ms by default), the complaints of this page, plus one when there is a next page."`
	// TotalEstimated tells that Total is a lower bound, not a count.
	TotalEstimated bool `json:"total_estimated" doc:"True when total is a lower bound (more than 10000 match, or 1000 with a matcher filter, with a filter other than status, source, holder_id and one matcher, which are counted exactly; or such a count did not finish within the count budget; or a full-text search has more than this page), false when it is exact."`
	// NextCursor, passed as cursor with the same filters, gives the next
	// page; empty on the last page.
	NextCursor string `json:"next_cursor"`
	// Counts are the per-filter counts asked for with counts=true.
	Counts *facetCounts `json:"counts,omitempty" doc:"With counts=true and no q: for each filter, how many complaints each of its options would list with the other filters as given (mark_id and holder_id: the values given). Absent otherwise."`
}

// facetCounts are the counts per filter option of one list.
type facetCounts struct {
	Status  []facetCount `json:"status"`
	Source  []facetCount `json:"source"`
	Matcher []facetCount `json:"matcher"`
	MaxAge  []facetCount `json:"max_age" doc:"Per max_age option (1h, 24h, 72h, 168h)."`
	MarkID  []facetCount `json:"mark_id" doc:"The mark_id values given, each alone; empty without mark_id."`
	// HolderID is a brand owner's own holder for a brand owner, whose
	// list is always confined to it.
	HolderID []facetCount `json:"holder_id" doc:"The holder_id values given, each alone; empty without holder_id."`
}

// facetCount is how many complaints one filter option lists.
type facetCount struct {
	Value string `json:"value"`
	Count int64  `json:"count" doc:"Exact unless capped is true; then a lower bound: counting stopped at 1000."`
	// Capped tells that Count stopped at FacetCountCap.
	Capped bool `json:"capped" doc:"True when count stopped at 1000 (more match): show it as 1000+. Counts of status, source and matcher options are exact, from counts kept by triggers, when the other filters are only status, source, holder_id and one matcher."`
	// Unknown tells that the count was not finished in time.
	Unknown bool `json:"unknown" doc:"True when this option was not counted within the list's time budget (a rare option under broad filters can take a scan to count); count is then 0 and means nothing."`
}

func (a *API) listComplaints(w http.ResponseWriter, r *request) error {
	page, err := a.SearchComplaints(r.Context(), r.user, r.URL.Query())
	if err != nil {
		return err
	}
	resp := complaintListResponse{
		Complaints: make([]complaintResponse, 0, len(page.Complaints)),
		Total:      int64(page.Total), TotalEstimated: page.TotalEstimated, NextCursor: page.Next,
	}
	for i := range page.Complaints {
		resp.Complaints = append(resp.Complaints, newComplaintResponse(&page.Complaints[i]))
	}
	if page.Counts != nil {
		fc := &facetCounts{}
		for _, f := range []struct {
			dst *[]facetCount
			src []FacetCount
		}{
			{&fc.Status, page.Counts.Status}, {&fc.Source, page.Counts.Source}, {&fc.Matcher, page.Counts.Matcher},
			{&fc.MaxAge, page.Counts.MaxAge}, {&fc.MarkID, page.Counts.MarkID}, {&fc.HolderID, page.Counts.HolderID},
		} {
			*f.dst = make([]facetCount, 0, len(f.src))
			for _, c := range f.src {
				*f.dst = append(*f.dst, facetCount(c))
			}
		}
		resp.Counts = fc
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// ComplaintPage is one page of the complaint queue.
type ComplaintPage struct {
	Complaints []store.Complaint
	// Total is how many complaints match, on every page; a lower bound
	// when TotalEstimated.
	Total          int
	TotalEstimated bool
	// TotalDeferred tells that Total is the page's lower bound because
	// it was not counted (SearchOptions.KnownCountsOnly): a list without
	// that option counts it.
	TotalDeferred bool
	// Next, passed as cursor with the same parameters, gives the next
	// page; empty on the last page.
	Next string
	// Counts are the counts per filter option, when the parameters ask
	// for them (counts=true) and have no text; nil otherwise.
	Counts *Facets
}

// Facets are how many complaints each option of each filter would list,
// the other filters kept as given.
type Facets struct {
	Status, Source, Matcher, MaxAge, MarkID, HolderID []FacetCount
	// Deferred tells that some options were left Unknown without being
	// counted, because the list asked for the known counts only
	// (SearchOptions.KnownCountsOnly): a list with counts=true counts them.
	Deferred bool
}

// FacetCount is how many complaints one filter option lists; past
// FacetCountCap the count stops and Capped is set. Unknown is set when the
// count did not finish within the list's budget (facetBudget).
type FacetCount struct {
	Value   string
	Count   int64
	Capped  bool
	Unknown bool
}

// Options of the per-filter counts.
var (
	// FacetMatchers are the matchers counted, the detectors' and the
	// logo detection's.
	FacetMatchers = []string{"text", "image", "logo", "price", "cue", "seller"}
	// FacetMaxAges are the max_age options counted.
	FacetMaxAges = []string{"1h", "24h", "72h", "168h"}
)

// FacetCountCap is where a per-filter count that is not kept by triggers
// stops: each costs at most this many index entries.
const FacetCountCap = 1000

// SearchComplaints answers the query parameters of GET /v1/complaints for
// user: the same filters, order and confinement of a brand owner to its own
// holder. The console's queue pages call it, so that they list exactly
// what the API would. Malformed parameters are an error for which
// ClientError returns the message to show.
//
// Every list is in queue order, keyset-paged by the store (store.ListQueue),
// current and of a cost independent of the size of the queue. A search
// with q is a list of the store with one more filter where the store
// matches text (PostgreSQL, store.TextSearch); elsewhere it takes its
// matches from the full-text index, which may lag the store by
// markwatch_search_index_lag_seconds (see searchText).
func (a *API) SearchComplaints(ctx context.Context, user *store.User, params url.Values) (ComplaintPage, error) {
	return a.SearchComplaintsWith(ctx, user, params, SearchOptions{})
}

// SearchOptions change how SearchComplaintsWith answers, not what it lists.
type SearchOptions struct {
	// KnownCountsOnly, with counts=true, limits the per-filter counts to
	// those known at once: kept a few seconds from an earlier list with
	// the same filters, or kept by triggers (a few rows each). The others,
	// which would need a bounded walk of the queue, are left Unknown and
	// Facets.Deferred is set: the console renders its page without them
	// and its script asks for them after the page has loaded. The same
	// holds for the total of a list without text, with or without
	// counts=true: one the triggers do not keep is the page's lower bound
	// (ComplaintPage.TotalDeferred).
	KnownCountsOnly bool
}

// SearchComplaintsWith is SearchComplaints with options.
func (a *API) SearchComplaintsWith(ctx context.Context, user *store.User, params url.Values, o SearchOptions) (ComplaintPage, error) {
	q, err := parseListQuery(params, user, time.Now())
	if err != nil {
		return ComplaintPage{}, err
	}
	var out ComplaintPage
	if strings.TrimSpace(q.Text) == "" {
		// The per-filter counts run beside the list, within their own
		// budget: a page waits for the longer of the two, not both.
		type counted struct {
			f   *Facets
			err error
		}
		var counts chan counted
		if q.Counts {
			counts = make(chan counted, 1)
			go func() {
				f, err := a.facets(ctx, q.Query, time.Now(), o.KnownCountsOnly)
				counts <- counted{f, err}
			}()
		}
		out, err = a.listQueue(ctx, q.Query, o.KnownCountsOnly)
		if counts != nil {
			c := <-counts
			if err == nil {
				out.Counts, err = c.f, c.err
			}
		}
	} else if a.store.TextSearch() {
		// The store matches the text itself (PostgreSQL): a list like
		// any other, with one filter more.
		out, err = a.listQueue(ctx, q.Query, o.KnownCountsOnly)
	} else {
		out, err = a.searchText(ctx, q.Query)
	}
	if err != nil {
		return ComplaintPage{}, err
	}
	if out.Next != "" && params.Has("max_age") {
		out.Next = maxAgeCursor(q.CreatedAfter, out.Next)
	}
	// The query filtered by holder already; this is the last word.
	if identity.Role(user.Role) == identity.RoleBrandOwner {
		out.Complaints = slices.DeleteFunc(out.Complaints, func(c store.Complaint) bool { return c.Body.HolderID != user.HolderID })
	}
	return out, nil
}

// queueFilter is the store filter of q's filters.
func queueFilter(q search.Query) store.QueueFilter {
	return store.QueueFilter{
		Status: q.Status, Source: q.Source, MarkID: q.MarkID, HolderID: q.HolderID, SellerID: q.SellerID, Matcher: q.Matcher,
		MinScore: q.MinScore, MaxScore: q.MaxScore, CreatedAfter: q.CreatedAfter, CreatedBefore: q.CreatedBefore,
	}
}

// pageCursor is the store key q's cursor resumes after, checked against
// the fingerprint fp of the query it was made for; empty without cursor.
func pageCursor(q search.Query, fp string) (string, error) {
	if q.Cursor == "" {
		return "", nil
	}
	after, ok := decodeQueueCursor(q.Cursor, fp)
	if !ok {
		return "", badRequest("query parameter cursor: not a cursor of this query")
	}
	return after, nil
}

// listQueue answers a query from the store: one without text, or one with
// text where the store matches it (store.TextSearch). With
// knownTotal, a total the triggers do not keep is not counted: the page
// gives its lower bound and sets TotalDeferred.
func (a *API) listQueue(ctx context.Context, q search.Query, knownTotal bool) (ComplaintPage, error) {
	if !a.index.running.Load() {
		// Without RunSearch nothing else keeps the holders' priorities
		// current (see complaintIndex.catchUp).
		if _, err := a.index.forQuery(ctx); err != nil {
			return ComplaintPage{}, fmt.Errorf("list complaints: %w", err)
		}
	}
	f := queueFilter(q)
	if a.store.TextSearch() {
		f.Text = strings.TrimSpace(q.Text)
	}
	limit := q.Limit
	if limit == 0 {
		limit = search.DefaultLimit
	}
	fp := queueFingerprint(f)
	after, err := pageCursor(q, fp)
	if err != nil {
		return ComplaintPage{}, err
	}
	deferTotal := knownTotal && !f.CountKept()
	var total <-chan queueTotal
	var over <-chan struct{}
	if f.Text != "" {
		// A text search's total comes from its page (below): a count of
		// its own would walk as far as the page again, beside it.
		never := make(chan struct{})
		over = never
	} else if deferTotal {
		// Never answers, and over is closed: the lower bound below.
		closed := make(chan struct{})
		close(closed)
		over = closed
	} else {
		total, over = a.countTotal(ctx, f)
	}
	page, err := a.store.ListQueue(ctx, f, after, limit)
	if err != nil {
		return ComplaintPage{}, fmt.Errorf("list complaints: %w", err)
	}
	if f.Text != "" {
		// Exact when the first page read every match; else at least
		// what the page's reads found, counted as the lists count (up
		// to FacetCountCap).
		n, estimated := page.Matched, !page.MatchedAll
		if n > FacetCountCap {
			n, estimated = FacetCountCap, true
		}
		out := ComplaintPage{Complaints: page.Complaints, Total: max(n, len(page.Complaints)), TotalEstimated: estimated}
		if page.After != "" {
			out.Next = encodeQueueCursor(fp, page.After)
			if !estimated {
				out.TotalEstimated = true
			}
		}
		return out, nil
	}
	var t queueTotal
	select {
	case t = <-total:
	case <-over:
		// Over the budget, or done: the count sends its answer before
		// it releases its context. The page does not wait for a
		// cancelled count to stop.
		select {
		case t = <-total:
		default:
			t.err = context.DeadlineExceeded
		}
	}
	if errors.Is(t.err, context.DeadlineExceeded) && ctx.Err() == nil {
		// Not counted within the budget: at least what this page lists
		// (and one more when there is a next page).
		t = queueTotal{n: int64(len(page.Complaints)), estimated: true}
		if page.After != "" {
			t.n++
		}
	}
	if t.err != nil {
		return ComplaintPage{}, fmt.Errorf("list complaints: %w", t.err)
	}
	out := ComplaintPage{Complaints: page.Complaints, Total: int(t.n), TotalEstimated: t.estimated, TotalDeferred: deferTotal}
	if page.After != "" {
		out.Next = encodeQueueCursor(fp, page.After)
	}
	return out, nil
}

// queueTotal is the answer of countTotal.
type queueTotal struct {
	n         int64
	estimated bool
	err       error
}

// countTotal counts the complaints of f for a list's total, beside the
// list's own query, and sends the count once. A count the triggers keep
// (store.QueueFilter.CountKept) reads a few rows; any other reads up to
// QueueCountCap index entries (FacetCountCap through the matcher index,
// which probes a complaint per entry) and gets the count budget
// (Options.CountBudget), like the per-filter counts: past it the answer is
// context.DeadlineExceeded, and listQueue reports a lower bound instead.
// A rare filter beside a common one (a matcher and a seller, say) would
// otherwise read up to the cap to find few matches. over is closed when
// the budget is spent (nil without a budget): a cancelled query may take
// a while to stop, and the page need not wait for it.
func (a *API) countTotal(ctx context.Context, f store.QueueFilter) (total <-chan queueTotal, over <-chan struct{}) {
	out := make(chan queueTotal, 1)
	countCap := store.QueueCountCap
	if len(f.Matcher) > 0 || f.Text != "" {
		// A full-text total stops at 1000 matches, as the index's did.
		countCap = FacetCountCap
	}
	cancel := context.CancelFunc(func() {})
	if !f.CountKept() {
		ctx, cancel = context.WithTimeout(ctx, a.countBudget)
		over = ctx.Done()
	}
	go func() {
		defer cancel()
		n, estimated, err := a.store.CountQueueUpTo(ctx, f, countCap)
		if err != nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		out <- queueTotal{n, estimated, err}
	}()
	return out, over
}

// Bounds of the full-text search's work per page (variables so that tests
// can make a small queue take the broad path).
var (
	// narrowMatches is how many matches a search may have for the store
	// to order them all (IN a list of ids on its primary key); past it
	// the search is broad and walks the queue instead. It is also the cap
	// of a full-text total.
	narrowMatches = 1000
	// midMatches is how many matches a search may have for the walk of
	// the queue to test its candidates against a set of every match's id
	// read from the index; past it the candidates are tested against the
	// index a batch at a time (a lookup per id and index segment, cheap
	// only for the few candidates a dense search needs).
	midMatches = 10_000
	// walkFirstBatch and walkMaxBatch bound each batch of queue
	// candidates tested against the index: the first is a few pages'
	// worth, each next one twice the last.
	walkFirstBatch = 4 * search.DefaultLimit
	walkMaxBatch   = 4096
	// walkMaxCandidates bounds the candidates one page tests: a page of
	// a search whose matches are rare in the queue may hold fewer rows
	// than the limit, with a cursor to go on.
	walkMaxCandidates = 50_000
)

// searchText answers a query with text, in queue order like every list.
// The full-text index gives the matches, the store orders and pages them.
// The matches of the text and the filters are first counted up to
// midMatches, without scoring, sorting or reading ids. A narrow search (at
// most narrowMatches) is one store query over its matches' ids; a mid one
// (at most midMatches) and a broad one walk the store's queue with the
// filters from the cursor, a batch of candidates at a time, keeping those
// in the set of the matches' ids (mid) or those the index matches (broad)
// until the page is full. A page so costs at most midMatches index entries
// and the candidates before its last row (fewer than limit×Q/midMatches
// for a broad search over a queue of Q), never a sort of every match:
// that is what made a broad search slow. Its total is then a lower bound.
func (a *API) searchText(ctx context.Context, q search.Query) (ComplaintPage, error) {
	ix, err := a.index.forQuery(ctx)
	if err != nil {
		return ComplaintPage{}, fmt.Errorf("list complaints: %w", err)
	}
	f := queueFilter(q)
	limit := q.Limit
	if limit == 0 {
		limit = search.DefaultLimit
	}
	fp := textFingerprint(f, q.Text)
	after, err := pageCursor(q, fp)
	if err != nil {
		return ComplaintPage{}, err
	}
	n, broad, err := ix.CountMatches(ctx, q, midMatches)
	if err != nil {
		return ComplaintPage{}, searchErr(err)
	}
	var matches []string
	if !broad {
		if matches, _, err = ix.Matches(ctx, q, midMatches); err != nil {
			return ComplaintPage{}, searchErr(err)
		}
	}
	var out ComplaintPage
	if !broad && n <= narrowMatches {
		f.IDs = matches
		page, err := a.store.ListQueue(ctx, f, after, limit)
		if err != nil {
			return ComplaintPage{}, fmt.Errorf("list complaints: %w", err)
		}
		n, capped, err := a.store.CountQueue(ctx, f)
		if err != nil {
			return ComplaintPage{}, fmt.Errorf("list complaints: %w", err)
		}
		out = ComplaintPage{Complaints: page.Complaints, Total: int(n), TotalEstimated: capped}
		if page.After != "" {
			out.Next = encodeQueueCursor(fp, page.After)
		}
		return out, nil
	}
	// A mid search tests candidates against its matches' ids, a broad one
	// against the index.
	matching := func(ids []string) (map[string]bool, error) { return ix.Matching(ctx, q.Text, ids) }
	if !broad {
		set := make(map[string]bool, len(matches))
		for _, id := range matches {
			set[id] = true
		}
		matching = func([]string) (map[string]bool, error) { return set, nil }
	}
	var (
		ids     []string
		last    string // the key of the last row kept or candidate tested
		more    bool
		ended   bool // the walk reached the end of the queue
		tested  int
		batchSz = walkFirstBatch
	)
	key := after
	for len(ids) <= limit && tested < walkMaxCandidates {
		cands, err := a.store.QueueKeys(ctx, f, key, batchSz)
		if err != nil {
			return ComplaintPage{}, fmt.Errorf("list complaints: %w", err)
		}
		cid := make([]string, len(cands))
		for i, c := range cands {
			cid[i] = c.ID
		}
		hit, err := matching(cid)
		if err != nil {
			return ComplaintPage{}, searchErr(err)
		}
		for _, c := range cands {
			tested++
			if hit[c.ID] {
				if len(ids) == limit {
					more = true
					break
				}
				ids = append(ids, c.ID)
			}
			last = c.Key
		}
		if ended = len(cands) < batchSz; more || ended {
			break
		}
		if len(cands) > 0 {
			key = cands[len(cands)-1].Key
		}
		batchSz = min(2*batchSz, walkMaxBatch)
	}
	cs, err := a.store.GetComplaints(ctx, ids)
	if err != nil {
		return ComplaintPage{}, fmt.Errorf("list complaints: %w", err)
	}
	// n (more than narrowMatches; a lower bound when broad) match the
	// text and the filters the index knows; with a matcher filter beside
	// them, at least what was found.
	total := n
	if len(f.Matcher) > 0 {
		total = len(cs)
		if more {
			total++
		}
	}
	out = ComplaintPage{Complaints: cs, Total: total, TotalEstimated: true}
	if more || (!ended && tested >= walkMaxCandidates) {
		out.Next = encodeQueueCursor(fp, last)
	}
	return out, nil
}

// searchErr is the API error of a search index error.
func searchErr(err error) error {
	switch {
	case errors.Is(err, search.ErrBadCursor):
		return badRequest("query parameter cursor: not a cursor of this query")
	case errors.Is(err, search.ErrBadQuery):
		return badRequest("%s", strings.TrimPrefix(err.Error(), "search: "))
	}
	return fmt.Errorf("list complaints: %w", err)
}

// SearchComplaintIDs is SearchComplaints reduced to the complaints' ids in
// queue order, for a caller that needs only where an item stands (the
// console's next and previous). Callers that show a complaint load it and
// check its tenant.
func (a *API) SearchComplaintIDs(ctx context.Context, user *store.User, params url.Values) ([]string, ComplaintPage, error) {
	page, err := a.SearchComplaints(ctx, user, params)
	if err != nil {
		return nil, ComplaintPage{}, err
	}
	ids := make([]string, len(page.Complaints))
	for i, c := range page.Complaints {
		ids[i] = c.Body.ComplaintID
	}
	return ids, page, nil
}

// queueCursor is the decoded cursor of a list without text: the queue key
// of the last complaint of the page and a fingerprint of the filters.
type queueCursor struct {
	V int    `json:"v"`
	Q string `json:"q"`
	K string `json:"k"`
}

// queueCursorVersion tells these cursors from the search index's (version 1).
const queueCursorVersion = 2

// maxQueueCursor bounds what decodeQueueCursor reads: a key is an id and
// 33 characters.
const maxQueueCursor = 4096

// queueFingerprint identifies the filters of a list, so that a cursor is
// refused on another one.
func queueFingerprint(f store.QueueFilter) string {
	b, _ := json.Marshal(f) // strings, floats and times always marshal
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// textFingerprint is queueFingerprint of a search with text.
func textFingerprint(f store.QueueFilter, text string) string {
	b, _ := json.Marshal(struct {
		F    store.QueueFilter
		Text string
	}{f, strings.TrimSpace(text)}) // as in queueFingerprint
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// listQuery is a parsed GET /v1/complaints: the search and whether the
// counts per filter are asked for.
type listQuery struct {
	search.Query
	Counts bool
}

func encodeQueueCursor(fp, key string) string {
	b, _ := json.Marshal(queueCursor{V: queueCursorVersion, Q: fp, K: key}) // strings always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeQueueCursor(s, fp string) (string, bool) {
	if len(s) > maxQueueCursor {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", false
	}
	var c queueCursor
	if err := json.Unmarshal(b, &c); err != nil || c.V != queueCursorVersion || c.Q != fp || c.K == "" {
		return "", false
	}
	return c.K, true
}

// ClientError returns the message of an error that SearchComplaints (or
// another exported method) returns for bad input, and whether err is one.
func ClientError(err error) (string, bool) {
	var ae *apiError
	if errors.As(err, &ae) && ae.status < 500 {
		return ae.msg, true
	}
	return "", false
}

// parseListQuery turns the query parameters of GET /v1/complaints into a
// search query for user at time now. A brand owner is always confined to
// its own holder, from its credentials; naming another holder is a 400.
func parseListQuery(v url.Values, user *store.User, now time.Time) (listQuery, error) {
	var q listQuery
	for k, vals := range v {
		if !slices.Contains(listParams, k) {
			return q, badRequest("query parameter %s: unknown; want one of %s", k, strings.Join(listParams, ", "))
		}
		if len(vals) > 1 && !slices.Contains(listMultiParams, k) {
			return q, badRequest("query parameter %s: given more than once", k)
		}
		for _, s := range vals {
			if !utf8.ValidString(s) {
				return q, badRequest("query parameter %s: not UTF-8", k)
			}
		}
	}
	list := func(k string) ([]string, error) {
		var out []string
		for _, raw := range v[k] {
			for s := range strings.SplitSeq(raw, ",") {
				s = strings.TrimSpace(s)
				if s == "" {
					return nil, badRequest("query parameter %s: empty value", k)
				}
				if len(s) > maxListValueLen {
					return nil, badRequest("query parameter %s: value over %d bytes", k, maxListValueLen)
				}
				out = append(out, s)
			}
		}
		if len(out) > maxListValues {
			return nil, badRequest("query parameter %s: more than %d values", k, maxListValues)
		}
		return out, nil
	}
	var err error
	for _, f := range []struct {
		name string
		dst  *[]string
		ok   []string
	}{
		{"status", &q.Status, enumSets[queryEnums["status"]]},
		{"source", &q.Source, enumSets[queryEnums["source"]]},
		{"mark_id", &q.MarkID, nil},
		{"holder_id", &q.HolderID, nil},
		{"seller_id", &q.SellerID, nil},
		// Not a closed set: a new matcher (logo) is filtered on as soon
		// as its evidence is stored.
		{"matcher", &q.Matcher, nil},
	} {
		if *f.dst, err = list(f.name); err != nil {
			return q, err
		}
		for _, s := range *f.dst {
			if f.ok != nil && !slices.Contains(f.ok, s) {
				return q, badRequest("query parameter %s: %q is not one of %s", f.name, s, strings.Join(f.ok, ", "))
			}
		}
	}
	if identity.Role(user.Role) == identity.RoleBrandOwner {
		for _, h := range q.HolderID {
			if h != user.HolderID {
				return q, badRequest("query parameter holder_id: a brand owner sees only its own holder's complaints")
			}
		}
		q.HolderID = []string{user.HolderID}
	}
	score := func(k string) (*float64, error) {
		s := v.Get(k)
		if s == "" {
			return nil, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f != f || f < 0 || f > 1 {
			return nil, badRequest("query parameter %s: want a number from 0 to 1", k)
		}
		return &f, nil
	}
	if q.MinScore, err = score("min_score"); err != nil {
		return q, err
	}
	if q.MaxScore, err = score("max_score"); err != nil {
		return q, err
	}
	if q.MinScore != nil && q.MaxScore != nil && *q.MinScore > *q.MaxScore {
		return q, badRequest("query parameter min_score: above max_score")
	}
	stamp := func(k string) (time.Time, error) {
		s := v.Get(k)
		if s == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || t.Year() < 1970 || t.Year() > 2200 {
			return time.Time{}, badRequest("query parameter %s: want an RFC 3339 time between 1970 and 2200", k)
		}
		return t, nil
	}
	if q.CreatedAfter, err = stamp("created_after"); err != nil {
		return q, err
	}
	if q.CreatedBefore, err = stamp("created_before"); err != nil {
		return q, err
	}
	if s := v.Get("max_age"); s != "" {
		if !q.CreatedAfter.IsZero() {
			return q, badRequest("query parameter max_age: give created_after or max_age, not both")
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 || d > 100*365*24*time.Hour {
			return q, badRequest("query parameter max_age: want a positive duration such as 72h")
		}
		// Later pages keep the first page's bound, which their cursor
		// carries (see maxAgeCursor), so that the cursor fits the query.
		q.CreatedAfter = now.Add(-d).Truncate(time.Second)
		if c := v.Get("cursor"); c != "" {
			at, rest, ok := strings.Cut(c, ".")
			secs, err := strconv.ParseInt(at, 10, 64)
			if !ok || err != nil || secs < 0 || secs > now.Unix() {
				return q, badRequest("query parameter cursor: not a cursor of this query")
			}
			q.CreatedAfter = time.Unix(secs, 0).UTC()
			q.Cursor = rest
		}
	}
	if !q.CreatedAfter.IsZero() && !q.CreatedBefore.IsZero() && !q.CreatedAfter.Before(q.CreatedBefore) {
		return q, badRequest("query parameter created_before: not after created_after")
	}
	q.Text = v.Get("q")
	if len(q.Text) > maxListText {
		return q, badRequest("query parameter q: over %d bytes", maxListText)
	}
	if q.Cursor == "" {
		q.Cursor = v.Get("cursor")
	}
	switch v.Get("counts") {
	case "", "false":
	case "true":
		q.Counts = true
	default:
		return q, badRequest("query parameter counts: want true or false")
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > search.MaxLimit {
			return q, badRequest("query parameter limit: want an integer from 1 to %d", search.MaxLimit)
		}
		q.Limit = n
	}
	return q, nil
}

// maxAgeCursor prefixes the index's cursor with the created_after bound
// max_age resolved to on the first page: the index refuses a cursor on a
// query with another bound, and a later page would resolve another one.
// Index cursors are base64url, without dots.
func maxAgeCursor(after time.Time, next string) string {
	return strconv.FormatInt(after.Unix(), 10) + "." + next
}
