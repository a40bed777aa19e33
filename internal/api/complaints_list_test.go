package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// listFixture is one complaint the list tests ingest.
type listFixture struct {
	id, holder, source, mark, seller, title string
	score                                   float64
}

func (e *env) ingestFixture(t testing.TB, f listFixture) {
	t.Helper()
	c := &domain.Complaint{
		SchemaVersion: domain.SchemaVersion, ComplaintID: f.id, Source: f.source,
		ListingID: "l_" + f.id, MarkID: f.mark, HolderID: f.holder, SellerID: f.seller, Score: f.score,
		Explanation: "looks fake",
	}
	if f.source == domain.SourceAuto {
		c.Listing = &domain.ListingSnapshot{Title: f.title}
		c.Evidence = []domain.Evidence{{Matcher: "text", Score: f.score, Field: "title", Match: f.title, Kind: "exact"}}
	} else {
		c.Explanation = f.title
	}
	e.ensureMark(t, f.mark, f.holder)
	if _, err := e.review.Ingest(context.Background(), c); err != nil {
		t.Fatalf("ingest %s: %v", f.id, err)
	}
}

// list gets path as role and decodes the page; it fails on a non-200.
func (e *env) list(t testing.TB, path string, role identity.Role) complaintListResponse {
	t.Helper()
	w := e.do("GET", path, "", role)
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s as %s: status %d: %s", path, role, w.Code, w.Body)
	}
	var resp complaintListResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp
}

func ids(resp complaintListResponse) []string {
	out := make([]string, 0, len(resp.Complaints))
	for _, c := range resp.Complaints {
		out = append(out, c.ComplaintID)
	}
	return out
}

var listFixtures = []listFixture{
	{"c_a", ownHolder, domain.SourceAuto, "m_acme", "s_1", "ACME handbag replica", 0.95},
	{"c_b", ownHolder, domain.SourceAuto, "m_acme", "s_2", "ACME sneakers", 0.70},
	{"c_c", ownHolder, domain.SourceRightsHolder, "m_zed", "s_1", "fake Zed watch", 0.50},
	{"c_d", otherHolder, domain.SourceAuto, "m_other", "s_3", "Other brand wallet", 0.85},
	{"c_e", otherHolder, domain.SourceRightsHolder, "m_other", "s_1", "counterfeit wallet", 0.60},
}

func TestListComplaintsFilters(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	for _, f := range listFixtures {
		e.ingestFixture(t, f)
	}
	if err := e.review.Decide(context.Background(), "c_b", review.Decision{Verdict: review.VerdictUphold, ReasonCode: "counterfeit", Actor: "u_test"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		query string
		role  identity.Role
		want  []string
	}{
		// Without q: score descending.
		{"all", "", identity.RoleReviewer, []string{"c_a", "c_d", "c_b", "c_e", "c_c"}},
		{"status open", "status=open", identity.RoleReviewer, []string{"c_a", "c_d", "c_e", "c_c"}},
		{"status list", "status=upheld,rejected", identity.RoleReviewer, []string{"c_b"}},
		{"status repeated", "status=upheld&status=open&source=rights_holder", identity.RoleAdmin, []string{"c_e", "c_c"}},
		{"source", "source=auto", identity.RoleReviewer, []string{"c_a", "c_d", "c_b"}},
		{"mark", "mark_id=m_acme", identity.RoleReviewer, []string{"c_a", "c_b"}},
		{"holder", "holder_id=" + otherHolder, identity.RoleReviewer, []string{"c_d", "c_e"}},
		{"seller", "seller_id=s_1", identity.RoleAdmin, []string{"c_a", "c_e", "c_c"}},
		{"score range", "min_score=0.6&max_score=0.85", identity.RoleReviewer, []string{"c_d", "c_b", "c_e"}},
		{"created before now", "created_before=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)), identity.RoleReviewer, []string{"c_a", "c_d", "c_b", "c_e", "c_c"}},
		{"created after now", "created_after=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)), identity.RoleReviewer, []string{}},
		{"max age", "max_age=1h", identity.RoleReviewer, []string{"c_a", "c_d", "c_b", "c_e", "c_c"}},
		{"matcher", "matcher=text", identity.RoleReviewer, []string{"c_a", "c_d", "c_b"}},
		{"matcher and status", "matcher=text&status=open", identity.RoleReviewer, []string{"c_a", "c_d"}},
		{"matchers", "matcher=cue,text&holder_id=" + otherHolder, identity.RoleReviewer, []string{"c_d"}},
		{"matcher none has", "matcher=logo", identity.RoleReviewer, []string{}},
		{"matcher and text", "matcher=text&q=wallet", identity.RoleReviewer, []string{"c_d"}},
		{"brand owner matcher", "matcher=text", identity.RoleBrandOwner, []string{"c_a", "c_b"}},
		{"text", "q=wallet", identity.RoleReviewer, []string{"c_d", "c_e"}},
		{"text all terms", "q=acme+sneakers", identity.RoleReviewer, []string{"c_b"}},
		{"text is not query syntax", "q=holder_id:" + otherHolder, identity.RoleReviewer, []string{}},
		{"text and filter", "q=wallet&source=auto", identity.RoleReviewer, []string{"c_d"}},
		{"brand owner sees own", "", identity.RoleBrandOwner, []string{"c_a", "c_b", "c_c"}},
		{"brand owner naming own holder", "holder_id=" + ownHolder, identity.RoleBrandOwner, []string{"c_a", "c_b", "c_c"}},
		{"brand owner text", "q=wallet", identity.RoleBrandOwner, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.list(t, "/v1/complaints?"+tc.query, tc.role)
			got := ids(resp)
			if strings.Contains(tc.query, "q=") {
				// Relevance order is bleve's business; the set is ours.
				slices.Sort(got)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("?%s: %v, want %v", tc.query, got, tc.want)
			}
			if resp.Total != int64(len(tc.want)) || resp.NextCursor != "" {
				t.Errorf("?%s: total %d, next %q; want %d and none", tc.query, resp.Total, resp.NextCursor, len(tc.want))
			}
		})
	}
	// The returned complaint is the store's, with the decision.
	resp := e.list(t, "/v1/complaints?mark_id=m_acme&status=upheld", identity.RoleReviewer)
	if len(resp.Complaints) != 1 || resp.Complaints[0].Status != store.ComplaintUpheld || resp.Complaints[0].DecidedBy != "u_test" || resp.Complaints[0].Complaint.Score != 0.70 {
		t.Errorf("decided complaint: %+v", resp.Complaints)
	}
}

// TestListComplaintsTenant: a brand owner never sees another holder's
// complaint; naming another holder answers 400 rather than an empty page,
// so a client's mistake is visible, and the message is the same whether
// the holder exists or not.
func TestListComplaintsTenant(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		for _, f := range listFixtures {
			e.ingestFixture(t, f)
		}
		for _, q := range []string{
			"holder_id=" + otherHolder, "holder_id=h_missing", "holder_id=" + ownHolder + "," + otherHolder,
			"holder_id=" + ownHolder + "&holder_id=" + otherHolder,
		} {
			w := e.do("GET", "/v1/complaints?"+q, "", identity.RoleBrandOwner)
			if w.Code != http.StatusBadRequest || !strings.Contains(checkEnvelope(t, w.Body.Bytes()).Error.Message, "holder_id") {
				t.Errorf("?%s as brand owner: %d %s, want 400 naming holder_id", q, w.Code, w.Body)
			}
		}
		for _, q := range []string{"", "seller_id=s_1", "q=wallet", "mark_id=m_other", "source=rights_holder", "limit=1"} {
			for _, c := range e.list(t, "/v1/complaints?"+q, identity.RoleBrandOwner).Complaints {
				if c.Complaint.HolderID != ownHolder {
					t.Errorf("?%s as brand owner: got %s of %s", q, c.ComplaintID, c.Complaint.HolderID)
				}
			}
		}
	})
}

func TestListComplaintsBadRequests(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	e.ingestFixture(t, listFixtures[0])
	e.ingestFixture(t, listFixtures[1])
	first := e.list(t, "/v1/complaints?limit=1", identity.RoleReviewer)
	if first.NextCursor == "" {
		t.Fatal("no next cursor with limit=1 of 2")
	}
	for _, tc := range []struct{ name, query, param string }{
		{"unknown parameter", "sort=score", "sort"},
		{"repeated single", "limit=1&limit=2", "limit"},
		{"bad status", "status=pending", "status"},
		{"bad source", "source=robot", "source"},
		{"empty list value", "mark_id=m_1,,m_2", "mark_id"},
		{"score not a number", "min_score=high", "min_score"},
		{"score NaN", "max_score=NaN", "max_score"},
		{"score above 1", "max_score=2", "max_score"},
		{"inverted scores", "min_score=0.9&max_score=0.1", "min_score"},
		{"bad time", "created_after=yesterday", "created_after"},
		{"inverted times", "created_after=2026-01-02T00:00:00Z&created_before=2026-01-01T00:00:00Z", "created_before"},
		{"bad age", "max_age=-1h", "max_age"},
		{"age and after", "max_age=1h&created_after=2026-01-01T00:00:00Z", "max_age"},
		{"limit zero", "limit=0", "limit"},
		{"limit too big", "limit=501", "limit"},
		{"bad cursor", "cursor=garbage", "cursor"},
		{"cursor of another query", "status=open&limit=1&cursor=" + url.QueryEscape(first.NextCursor), "cursor"},
		{"bad max_age cursor", "max_age=1h&cursor=x.y", "cursor"},
		{"long text", "q=" + strings.Repeat("a", maxListText+1), "q"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do("GET", "/v1/complaints?"+tc.query, "", identity.RoleReviewer)
			if w.Code != http.StatusBadRequest {
				t.Fatalf("?%s: status %d, want 400: %s", tc.query, w.Code, w.Body)
			}
			if msg := checkEnvelope(t, w.Body.Bytes()).Error.Message; !strings.Contains(msg, tc.param) {
				t.Errorf("?%s: message %q does not name %s", tc.query, msg, tc.param)
			}
		})
	}
}

// TestListComplaintsPagination pages through 300 complaints 37 at a time,
// with complaints arriving and being decided between pages, and checks that
// every complaint present from the start comes exactly once, in order.
func TestListComplaintsPagination(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	const n = 300
	for i := range n {
		e.ingestFixture(t, listFixture{
			id: fmt.Sprintf("c_%03d", i), holder: ownHolder, source: domain.SourceAuto, mark: "m_1",
			seller: "s_1", title: "ACME bag", score: float64(i%7) / 10,
		})
	}
	for _, query := range []string{"limit=37", "limit=37&q=acme", "limit=37&max_age=1h", "limit=37&status=open,upheld"} {
		t.Run(query, func(t *testing.T) {
			seen := map[string]bool{}
			var scores []float64
			path := "/v1/complaints?" + query
			for pages := 0; ; pages++ {
				if pages > n/37+1 {
					t.Fatal("more pages than complaints allow")
				}
				resp := e.list(t, path, identity.RoleReviewer)
				// A text search's total is the matches its page read
				// (a lower bound, said so) until the last page.
				if resp.Total < n && !(strings.Contains(query, "q=") && resp.TotalEstimated && resp.Total >= int64(len(resp.Complaints))) {
					t.Fatalf("total %d (estimated %v), want at least %d", resp.Total, resp.TotalEstimated, n)
				}
				for _, c := range resp.Complaints {
					if seen[c.ComplaintID] {
						t.Fatalf("%s on two pages", c.ComplaintID)
					}
					seen[c.ComplaintID] = true
					scores = append(scores, c.Complaint.Score)
				}
				if resp.NextCursor == "" {
					break
				}
				if len(resp.Complaints) != 37 {
					t.Fatalf("page of %d before the last", len(resp.Complaints))
				}
				path = "/v1/complaints?" + query + "&cursor=" + url.QueryEscape(resp.NextCursor)
			}
			for i := range n {
				if id := fmt.Sprintf("c_%03d", i); !seen[id] {
					t.Errorf("%s never listed", id)
				}
			}
			if !strings.Contains(query, "q=") && !slices.IsSortedFunc(scores, func(a, b float64) int { return -cmpFloat(a, b) }) {
				t.Error("scores not in descending order across pages")
			}
		})
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestListComplaintsCatchUp: complaints ingested and decided after the
// index was built are found, with their new status, on the next request.
func TestListComplaintsCatchUp(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	if err := e.api.RebuildSearch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ids(e.list(t, "/v1/complaints", identity.RoleAdmin)); len(got) != 0 {
		t.Fatalf("empty store lists %v", got)
	}
	id := e.ingest(t, ownHolder)
	if got := ids(e.list(t, "/v1/complaints?status=open", identity.RoleAdmin)); !slices.Equal(got, []string{id}) {
		t.Errorf("after ingest: %v, want [%s]", got, id)
	}
	w := e.do("POST", "/v1/complaints/"+id+"/decision", `{"decision":"reject","reason_code":"genuine"}`, identity.RoleReviewer)
	if w.Code != http.StatusOK {
		t.Fatalf("decide: %d %s", w.Code, w.Body)
	}
	if got := ids(e.list(t, "/v1/complaints?status=open", identity.RoleAdmin)); len(got) != 0 {
		t.Errorf("open after rejection: %v", got)
	}
	if got := ids(e.list(t, "/v1/complaints?status=rejected", identity.RoleAdmin)); !slices.Equal(got, []string{id}) {
		t.Errorf("rejected: %v, want [%s]", got, id)
	}
}

func FuzzListQuery(f *testing.F) {
	for _, s := range []string{
		"", "status=open", "status=open,upheld&source=auto", "holder_id=h_other", "holder_id=h_own,h_other",
		"min_score=0.5&max_score=0.4", "min_score=NaN", "created_after=2026-01-01T00:00:00Z",
		"max_age=1h&cursor=1.abc", "max_age=1h&cursor=.", "q=%ff%fe", "limit=-1", "cursor=%00", "q=holder_id:h_other",
		"mark_id=" + strings.Repeat("m,", 60), "unknown=1", "status=open&status=open",
	} {
		f.Add(s)
	}
	owner := &store.User{ID: "u_1", Role: string(identity.RoleBrandOwner), HolderID: ownHolder}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseListQuery(v, owner, now)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != http.StatusBadRequest {
				t.Fatalf("?%s: %v, want a 400", raw, err)
			}
			return
		}
		if !slices.Equal(q.HolderID, []string{ownHolder}) {
			t.Fatalf("?%s: brand owner's query has holders %v", raw, q.HolderID)
		}
		if q.Limit < 0 || q.Limit > 500 || len(q.Text) > maxListText {
			t.Fatalf("?%s: limit %d, text of %d bytes", raw, q.Limit, len(q.Text))
		}
	})
}

// TestListComplaintsGoodFaithFirst: once a holder is good-faith, its open
// complaints come before higher-scored ones of other holders, without text;
// with text, relevance rules.
func TestListComplaintsGoodFaithFirst(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	e.ingestFixture(t, listFixture{"c_other", otherHolder, domain.SourceAuto, "m_o", "s_1", "wallet", 0.99})
	e.ingestFixture(t, listFixture{"c_own", ownHolder, domain.SourceAuto, "m_a", "s_1", "wallet", 0.10})
	if got := ids(e.list(t, "/v1/complaints?status=open", identity.RoleReviewer)); !slices.Equal(got, []string{"c_other", "c_own"}) {
		t.Fatalf("before standing: %v, want score order", got)
	}
	// 50 upheld manual complaints (review.Quality defaults) make ownHolder good-faith.
	for i := range 50 {
		id := fmt.Sprintf("c_m%02d", i)
		e.ingestFixture(t, listFixture{id, ownHolder, domain.SourceRightsHolder, "m_a", "s_2", "fake", 0.5})
		if err := e.review.Decide(context.Background(), id, review.Decision{Verdict: review.VerdictUphold, ReasonCode: "counterfeit", Actor: "u_test"}); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := e.review.HolderStanding(context.Background(), ownHolder); err != nil || st != review.StandingGoodFaith {
		t.Fatalf("standing %v, %v; want good faith", st, err)
	}
	if got := ids(e.list(t, "/v1/complaints?status=open", identity.RoleReviewer)); !slices.Equal(got, []string{"c_own", "c_other"}) {
		t.Errorf("after standing: %v, want the good-faith holder's first", got)
	}
	resp := e.list(t, "/v1/complaints?status=open&q=wallet", identity.RoleReviewer)
	if len(resp.Complaints) != 2 {
		t.Errorf("text search: %v", ids(resp))
	}
}

// BenchmarkListComplaints measures one default queue page (50 of 2000
// complaints) and one full-text page, catch-up included, through the
// handler on SQLite.
func BenchmarkListComplaints(b *testing.B) {
	e := newEnv(b, benchDSN(b), Options{})
	for i := range 2000 {
		e.ingestFixture(b, listFixture{
			id: fmt.Sprintf("c_%04d", i), holder: ownHolder, source: domain.SourceAuto, mark: "m_1",
			seller: fmt.Sprintf("s_%d", i%40), title: fmt.Sprintf("ACME bag model %d", i%13), score: float64(i%100) / 100,
		})
	}
	if err := e.api.RebuildSearch(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, query string }{
		{"queue", "status=open"},
		{"text", "q=acme+model+7"},
		{"seller", "seller_id=s_3&min_score=0.5"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				w := e.do("GET", "/v1/complaints?"+bc.query, "", identity.RoleReviewer)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

// TestTotalWithinTheCountBudget: a total the triggers do not keep is
// counted within the count budget; past it the list still answers, with
// a lower bound (this page's complaints, one more for a next page) marked
// estimated, while a kept total is exact whatever the budget.
func TestTotalWithinTheCountBudget(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{CountBudget: time.Nanosecond})
		for i := range 5 {
			e.ingestFixture(t, listFixture{id: fmt.Sprintf("c_%d", i), holder: ownHolder, source: domain.SourceAuto,
				mark: "m_1", seller: "s_1", title: "Qui11ora bag", score: 0.5 + float64(i)/10})
		}
		for _, tc := range []struct {
			query     string
			total     int64
			estimated bool
			next      bool
		}{
			{"status=open", 5, false, false},
			{"status=open&matcher=text", 5, false, false},
			{"min_score=0.6&limit=2", 3, true, true},
			{"matcher=text&min_score=0.6", 4, true, false},
			{"mark_id=m_1&limit=5", 5, true, false},
		} {
			resp := e.list(t, "/v1/complaints?"+tc.query, identity.RoleReviewer)
			if resp.Total != tc.total || resp.TotalEstimated != tc.estimated || (resp.NextCursor != "") != tc.next {
				t.Errorf("?%s: total %d estimated %v next %q, want %d, %v, next %v",
					tc.query, resp.Total, resp.TotalEstimated, resp.NextCursor, tc.total, tc.estimated, tc.next)
			}
		}
	})
}
