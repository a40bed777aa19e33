package api

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// allPages follows next_cursor from path (which has a limit) to the end.
func (e *env) allPages(t *testing.T, path string, role identity.Role) ([]string, complaintListResponse) {
	t.Helper()
	var out []string
	first := e.list(t, path, role)
	resp := first
	for range 200 {
		out = append(out, ids(resp)...)
		if resp.NextCursor == "" {
			return out, first
		}
		resp = e.list(t, path+"&cursor="+url.QueryEscape(resp.NextCursor), role)
	}
	t.Fatalf("%s: pages never end", path)
	return nil, first
}

// TestSearchTextQueueOrder: a full-text search lists its matches in queue
// order, the order of the same filters without text, paged without skips
// or repeats, whether the search is narrow (the store orders the index's
// matches) or broad (the queue walked and tested against the index in
// batches); with a matcher filter as well. On SQLite and PostgreSQL.
func TestSearchTextQueueOrder(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		words := []string{"replica", "genuine", "cheap"}
		titles := map[string]string{}
		for i := range 90 {
			id := fmt.Sprintf("c_%03d", i)
			title := fmt.Sprintf("ACME %s bag %d", words[i%3], i)
			if i%5 == 0 {
				title += " rare"
			}
			titles[id] = title
			e.ingestFixture(t, listFixture{id, []string{ownHolder, otherHolder}[i%2], domain.SourceAuto, []string{"m_acme", "m_other"}[i%2], "s_1", title, float64(i%10) / 10})
		}
		// Without text: the queue order, the truth for every search.
		queue, _ := e.allPages(t, "/v1/complaints?status=open&limit=500", identity.RoleReviewer)
		if len(queue) != 90 {
			t.Fatalf("queue of %d", len(queue))
		}
		want := func(word, holder string) []string {
			return slices.DeleteFunc(slices.Clone(queue), func(id string) bool {
				return !strings.Contains(titles[id], word) || (holder != "" && (id[len(id)-1]-'0')%2 != map[string]byte{ownHolder: 0, otherHolder: 1}[holder])
			})
		}
		for _, tier := range []struct{ narrow, mid int }{{1000, 10_000}, {4, 1000}, {4, 20}, {4, 4}} {
			narrow := tier.narrow
			t.Run(fmt.Sprintf("narrow up to %d, mid up to %d", tier.narrow, tier.mid), func(t *testing.T) {
				defer func(n, m, b int) { narrowMatches, midMatches, walkFirstBatch = n, m, b }(narrowMatches, midMatches, walkFirstBatch)
				narrowMatches, midMatches, walkFirstBatch = tier.narrow, tier.mid, 3
				for _, tc := range []struct{ query, word, holder string }{
					{"q=replica", "replica", ""},
					{"q=rare", "rare", ""},
					{"q=acme", "ACME", ""},
					{"q=replica&holder_id=" + otherHolder, "replica", otherHolder},
					{"q=genuine&matcher=text", "genuine", ""},
					{"q=nothing", "nothing", ""},
				} {
					for _, limit := range []int{1, 7, 50} {
						got, first := e.allPages(t, fmt.Sprintf("/v1/complaints?status=open&limit=%d&%s", limit, tc.query), identity.RoleReviewer)
						w := want(tc.word, tc.holder)
						if !slices.Equal(got, w) {
							t.Errorf("?%s limit %d: %v, want %v", tc.query, limit, got, w)
						}
						// PostgreSQL matches the text in the store: the
						// total is exact when the first page holds every
						// match, else a lower bound of at least the page.
						// The index's tiers do not apply.
						if e.store.TextSearch() {
							if first.NextCursor == "" && (first.Total != int64(len(w)) || first.TotalEstimated) {
								t.Errorf("?%s limit %d: total %d estimated %v, want %d exact", tc.query, limit, first.Total, first.TotalEstimated, len(w))
							}
							if first.NextCursor != "" && (first.Total > int64(len(w)) || first.Total < int64(len(first.Complaints)) || !first.TotalEstimated) {
								t.Errorf("?%s limit %d: total %d estimated %v, want a lower bound of %d", tc.query, limit, first.Total, first.TotalEstimated, len(w))
							}
							continue
						}
						if len(w) <= narrow && (first.Total != int64(len(w)) || first.TotalEstimated) {
							t.Errorf("?%s: total %d estimated %v, want %d exact", tc.query, first.Total, first.TotalEstimated, len(w))
						}
						if len(w) > narrow && (first.Total > int64(len(w)) || !first.TotalEstimated) {
							t.Errorf("?%s: total %d estimated %v, want a lower bound of %d", tc.query, first.Total, first.TotalEstimated, len(w))
						}
					}
				}
				// A brand owner's search stays within its holder.
				got, _ := e.allPages(t, "/v1/complaints?status=open&limit=5&q=replica", identity.RoleBrandOwner)
				if w := want("replica", ownHolder); !slices.Equal(got, w) {
					t.Errorf("brand owner: %v, want %v", got, w)
				}
			})
		}
		// A cursor of one search is refused on another.
		first := e.list(t, "/v1/complaints?limit=1&q=replica", identity.RoleReviewer)
		if w := e.do("GET", "/v1/complaints?limit=1&q=genuine&cursor="+url.QueryEscape(first.NextCursor), "", identity.RoleReviewer); w.Code != 400 {
			t.Errorf("cursor of another search: %d", w.Code)
		}
	})
}

// TestListCounts: counts=true gives, per filter option, what the list with
// that option would total, exact where kept by triggers and capped
// otherwise; a brand owner's counts are its own holder's.
func TestListCounts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		// Room for a loaded machine: every count must finish here.
		e := newEnv(t, eng.NewDSN(t), Options{CountBudget: time.Minute})
		for _, f := range listFixtures {
			e.ingestFixture(t, f)
		}
		for _, tc := range []struct {
			query string
			role  identity.Role
		}{
			{"status=open", identity.RoleReviewer},
			{"status=open&source=auto", identity.RoleReviewer},
			{"status=open&matcher=text&mark_id=m_acme", identity.RoleReviewer},
			{"holder_id=" + otherHolder + "&min_score=0.5", identity.RoleAdmin},
			{"", identity.RoleBrandOwner},
		} {
			resp := e.list(t, "/v1/complaints?counts=true&"+tc.query, tc.role)
			if resp.Counts == nil {
				t.Fatalf("?%s: no counts", tc.query)
			}
			base, _ := url.ParseQuery(tc.query)
			for _, dim := range []struct {
				param  string
				counts []facetCount
			}{
				{"status", resp.Counts.Status}, {"source", resp.Counts.Source}, {"matcher", resp.Counts.Matcher},
				{"max_age", resp.Counts.MaxAge}, {"mark_id", resp.Counts.MarkID}, {"holder_id", resp.Counts.HolderID},
			} {
				if dim.param == "status" && len(dim.counts) != 5 || dim.param == "matcher" && len(dim.counts) != len(FacetMatchers) {
					t.Errorf("?%s: %s counts %+v", tc.query, dim.param, dim.counts)
				}
				for _, c := range dim.counts {
					v := url.Values{}
					for k, vs := range base {
						v[k] = vs
					}
					v.Set(dim.param, c.Value)
					list := e.list(t, "/v1/complaints?limit=500&"+v.Encode(), tc.role)
					if c.Capped || c.Unknown || c.Count != int64(len(list.Complaints)) {
						t.Errorf("?%s: %s=%s counted %d (capped %v), the list has %d", tc.query, dim.param, c.Value, c.Count, c.Capped, len(list.Complaints))
					}
				}
			}
		}
		if resp := e.list(t, "/v1/complaints?counts=true&q=wallet", identity.RoleReviewer); resp.Counts != nil {
			t.Errorf("counts with q: %+v", resp.Counts)
		}
		if w := e.do("GET", "/v1/complaints?counts=maybe", "", identity.RoleReviewer); w.Code != 400 {
			t.Errorf("counts=maybe: %d", w.Code)
		}
	})
}

// TestKnownCountsOnly: with SearchOptions.KnownCountsOnly the counts kept
// by triggers are given exactly and the others are left unknown and
// deferred, unless the full counts of the same filters are kept; a
// deferred answer is kept for the next such list but never answers a full
// count.
func TestKnownCountsOnly(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{CountBudget: time.Minute})
		for _, f := range listFixtures {
			e.ingestFixture(t, f)
		}
		ctx := context.Background()
		user := &store.User{ID: "u_known", Role: string(identity.RoleReviewer)}
		countsOf := func(query string, o SearchOptions) *Facets {
			t.Helper()
			v, _ := url.ParseQuery(query)
			page, err := e.api.SearchComplaintsWith(ctx, user, v, o)
			if err != nil || page.Counts == nil {
				t.Fatalf("?%s: %v, counts %v", query, err, page.Counts)
			}
			// Only a total the triggers do not keep is deferred, and only
			// when asked: then it is the page's lower bound.
			kept := !strings.Contains(query, "min_score")
			if want := o.KnownCountsOnly && !kept; page.TotalDeferred != want || want && (!page.TotalEstimated || page.Total != len(page.Complaints)) {
				t.Errorf("?%s %+v: total %d (estimated %v, deferred %v) of %d listed", query, o, page.Total, page.TotalEstimated, page.TotalDeferred, len(page.Complaints))
			}
			return page.Counts
		}
		known := SearchOptions{KnownCountsOnly: true}
		for _, query := range []string{"counts=true&status=open", "counts=true&status=open&min_score=0.5"} {
			f := countsOf(query, known)
			if again := countsOf(query, known); again != f {
				t.Errorf("?%s: the deferred counts were not kept", query)
			}
			if !f.Deferred {
				t.Errorf("?%s: nothing deferred", query)
			}
			kept := !strings.Contains(query, "min_score")
			for _, c := range f.Status {
				if c.Unknown == kept {
					t.Errorf("?%s: status %s unknown %v, want %v", query, c.Value, c.Unknown, !kept)
				}
			}
			for _, c := range f.MaxAge {
				if !c.Unknown {
					t.Errorf("?%s: max_age %s counted (%d) with known counts only", query, c.Value, c.Count)
				}
			}
			full := countsOf(query, SearchOptions{})
			if full.Deferred || slices.ContainsFunc(full.MaxAge, func(c FacetCount) bool { return c.Unknown }) {
				t.Errorf("?%s: full counts %+v", query, full)
			}
			if kept && !slices.Equal(f.Matcher, full.Matcher) {
				t.Errorf("?%s: kept matcher counts %+v, full %+v", query, f.Matcher, full.Matcher)
			}
			// Counted in full just now: kept, and known at once.
			if again := countsOf(query, known); again.Deferred || !slices.Equal(again.MaxAge, full.MaxAge) {
				t.Errorf("?%s: after the full count, known counts %+v", query, again)
			}
		}
	})
}
