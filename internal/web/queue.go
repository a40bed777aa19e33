package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/markwatch/markwatch/internal/api"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
)

// queueFilters are the queue's filters, the API's list parameters.
var queueFilters = []string{"q", "status", "source", "matcher", "mark_id", "holder_id", "seller_id", "min_score", "max_score", "max_age", "cursor", "offset"}

// queueLimit is the rows per queue page.
const queueLimit = 50

// queueRow is one complaint in a queue.
type queueRow struct {
	C       store.Complaint
	Title   []segment
	Age     string
	Claimed string // who else holds it, if anyone
	Mine    bool
	Image   bool
}

type queuePage struct {
	Filters map[string]string
	Rows    []queueRow
	Total   int
	// TotalText is Total as shown ("1,000+" when a lower bound).
	TotalText string
	Next      string
	// Counts are the counts shown beside each filter option, by filter
	// then option ("1,000+" when capped); none with full text.
	Counts map[string]map[string]string
	// CountsURL, when set, is where the page's script fetches the counts
	// the page was rendered without (queueCounts).
	CountsURL string
	Statuses  []string
	Sources   []string
	Matchers  []string
	Ages      []string
	Reasons   reasonCodes
	Error     string
	Flash     []string
	Heading   string
	Action    string
}

// queueQuery is the API query of the queue's filters in v: the open
// complaints unless a status is chosen.
func queueQuery(v url.Values) (url.Values, map[string]string) {
	q := url.Values{}
	shown := map[string]string{}
	for _, k := range queueFilters {
		if s := strings.TrimSpace(v.Get(k)); s != "" {
			q.Set(k, s)
			shown[k] = s
		}
	}
	if q.Get("status") == "" {
		q.Set("status", store.ComplaintOpen)
		shown["status"] = store.ComplaintOpen
	}
	return q, shown
}

func (c *Console) queue(w http.ResponseWriter, r *request) error {
	q, shown := queueQuery(r.URL.Query())
	p := queuePage{
		Filters: shown, Heading: "Review queue", Action: "/queue",
		Statuses: []string{store.ComplaintOpen, store.ComplaintContested, store.ComplaintUpheld, store.ComplaintRejected, store.ComplaintReinstated},
		Sources:  domain.ComplaintSources,
		Matchers: api.FacetMatchers,
		Ages:     api.FacetMaxAges,
		Reasons:  reasons,
		Flash:    r.URL.Query()["done"],
	}
	if q.Get("q") == "" {
		q.Set("counts", "true")
	}
	// The page shows the counts known at once (kept by triggers, or a few
	// seconds from an earlier view); those that would walk the queue
	// within the count budget are fetched by the page's script after it
	// has loaded, so that a filter seen for the first time does not wait
	// for them.
	rows, page, next, err := c.queueRowsWith(r, q, api.SearchOptions{KnownCountsOnly: true})
	if msg, ok := api.ClientError(err); ok {
		p.Error = msg
	} else if err != nil {
		return err
	}
	p.Rows, p.Total = rows, page.Total
	p.TotalText = countText(int64(page.Total), page.TotalEstimated)
	p.Counts = facetTexts(page.Counts)
	delete(shown, "cursor")
	delete(shown, "offset")
	if page.TotalDeferred || page.Counts != nil && page.Counts.Deferred {
		cq := url.Values{}
		for k, v := range shown {
			cq.Set(k, v)
		}
		p.CountsURL = "/queue/counts?" + cq.Encode()
	}
	if len(r.URL.Query()) == 0 {
		// The plain open queue: remember its order for j and k.
		ids := make([]string, 0, len(rows))
		for _, row := range rows {
			ids = append(ids, row.C.Body.ComplaintID)
		}
		c.order.put(r.user.ID, ids, c.now())
	}
	if next != nil {
		nq := url.Values{}
		for k, v := range shown {
			nq.Set(k, v)
		}
		for k, v := range next {
			nq[k] = v
		}
		p.Next = "/queue?" + nq.Encode()
	}
	return c.render(w, r, http.StatusOK, "queue", "Review queue", p)
}

// queueRows lists the queue page q asks for as the page's user, and marks
// who holds each row. next holds the parameters of the following page, nil
// on the last.
//
// The page is the API's own answer (api.SearchComplaints): without full
// text a keyset page read from the store on the queue's indexes, with it
// the search index; the filters are parsed and confined to the brand
// owner's holder there, so the console lists exactly what the API would.
func (c *Console) queueRows(r *request, q url.Values) (rows []queueRow, page api.ComplaintPage, next url.Values, err error) {
	return c.queueRowsWith(r, q, api.SearchOptions{})
}

// queueRowsWith is queueRows with the API's search options.
func (c *Console) queueRowsWith(r *request, q url.Values, o api.SearchOptions) (rows []queueRow, page api.ComplaintPage, next url.Values, err error) {
	if q.Get("limit") == "" {
		q.Set("limit", strconv.Itoa(queueLimit))
	}
	page, err = c.api.SearchComplaintsWith(r.Context(), r.user, q, o)
	if err != nil {
		return nil, page, nil, err
	}
	cs := page.Complaints
	if page.Next != "" {
		next = url.Values{"cursor": {page.Next}}
	}
	ids := make([]string, 0, len(cs))
	for _, cp := range cs {
		ids = append(ids, cp.Body.ComplaintID)
	}
	claims, err := c.review.Claims(r.Context(), ids)
	if err != nil {
		return nil, page, nil, err
	}
	rows = make([]queueRow, 0, len(cs))
	for _, cp := range cs {
		row := queueRow{C: cp, Age: ago(cp.CreatedAt)}
		if l := cp.Body.Listing; l != nil {
			row.Title = highlight(l.Title, spans(&cp.Body, "title"))
			row.Image = len(l.Images) > 0 && c.images != nil
		}
		if cl, ok := claims[cp.Body.ComplaintID]; ok {
			if cl.UserID == r.user.ID {
				row.Mine = true
			} else {
				row.Claimed = c.userName(r, cl.UserID)
			}
		}
		rows = append(rows, row)
	}
	return rows, page, next, nil
}

// queueCounts answers the queue page's script with the per-filter counts
// and the total of the queue's filters, as the page shows them: the API's
// own list with counts=true (one row long: only its counts are used), as
// the page's user, so that they are what GET /v1/complaints?counts=true
// would answer.
// The page's roles and session check guard it like the page itself.
func (c *Console) queueCounts(w http.ResponseWriter, r *request) error {
	q, _ := queueQuery(r.URL.Query())
	q.Del("cursor")
	q.Del("offset")
	var out struct {
		Counts map[string]map[string]string `json:"counts"`
		Total  string                       `json:"total,omitempty"`
	}
	if q.Get("q") == "" {
		q.Set("counts", "true")
		q.Set("limit", "1")
		page, err := c.api.SearchComplaints(r.Context(), r.user, q)
		if msg, ok := api.ClientError(err); ok {
			return badInput("%s", msg)
		} else if err != nil {
			return err
		}
		out.Counts = facetTexts(page.Counts)
		out.Total = countText(int64(page.Total), page.TotalEstimated)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(out)
}

// countText shows a count, with thousands separators and a "+" when it is
// a lower bound.
func countText(n int64, capped bool) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if capped {
		s += "+"
	}
	return s
}

// facetTexts are the page's counts by filter and option, as shown.
func facetTexts(f *api.Facets) map[string]map[string]string {
	if f == nil {
		return nil
	}
	out := map[string]map[string]string{}
	for name, counts := range map[string][]api.FacetCount{
		"status": f.Status, "source": f.Source, "matcher": f.Matcher, "max_age": f.MaxAge, "mark_id": f.MarkID, "holder_id": f.HolderID,
	} {
		out[name] = map[string]string{}
		for _, fc := range counts {
			if !fc.Unknown {
				out[name][fc.Value] = countText(fc.Count, fc.Capped)
			}
		}
	}
	return out
}

// userName is a user's name for display, or its id.
func (c *Console) userName(r *request, id string) string {
	u, err := c.store.GetUser(r.Context(), id)
	if err != nil {
		return id
	}
	return u.Name
}

// bulkDecide decides the selected complaints through the API's bulk route
// and comes back to the queue with each outcome.
func (c *Console) bulkDecide(w http.ResponseWriter, r *request) error {
	if err := r.ParseForm(); err != nil {
		return badInput("form: %v", err)
	}
	ids := r.PostForm["id"]
	verdict, reason := r.PostFormValue("decision"), r.PostFormValue("reason_code")
	if len(ids) == 0 {
		return badInput("Select at least one complaint.")
	}
	if !reasons.valid(verdict, reason) {
		return badInput("Choose a decision and a reason from the list.")
	}
	type item struct {
		ComplaintID string `json:"complaint_id"`
		Decision    string `json:"decision"`
		ReasonCode  string `json:"reason_code"`
		Note        string `json:"note,omitempty"`
	}
	var req struct {
		Decisions []item `json:"decisions"`
	}
	for _, id := range ids {
		req.Decisions = append(req.Decisions, item{ComplaintID: id, Decision: verdict, ReasonCode: reason, Note: r.PostFormValue("note")})
	}
	var resp struct {
		Results []struct {
			ComplaintID string `json:"complaint_id"`
			Status      string `json:"status"`
			Error       *struct {
				Message string `json:"message"`
			} `json:"error"`
		} `json:"results"`
	}
	if err := c.call(r, "POST", "/v1/complaints/decisions", req, &resp); err != nil {
		return err
	}
	back := url.Values{}
	for _, res := range resp.Results {
		if res.Error != nil {
			back.Add("done", res.ComplaintID+": not decided: "+res.Error.Message)
		} else {
			back.Add("done", res.ComplaintID+": "+res.Status)
		}
		_ = c.review.Release(r.Context(), res.ComplaintID, r.user.ID)
	}
	http.Redirect(w, r.Request, "/queue?"+back.Encode(), http.StatusSeeOther)
	return nil
}

// counterNoticeRow is one contested complaint with its timer.
type counterNoticeRow struct {
	CN        store.CounterNotice
	C         store.Complaint
	Remaining string
}

func (c *Console) counterNotices(w http.ResponseWriter, r *request) error {
	cns, err := c.store.CounterNotices(r.Context(), []string{store.CounterNoticeWaiting, store.CounterNoticeEscalated}, 200)
	if err != nil {
		return err
	}
	now := c.now()
	rows := make([]counterNoticeRow, 0, len(cns))
	for _, cn := range cns {
		cp, err := c.store.GetComplaint(r.Context(), cn.ComplaintID)
		if err != nil {
			return err
		}
		if r.authorize(cp.Body.HolderID) != nil {
			continue
		}
		rem := "held by the holder's escalation"
		if cn.State == store.CounterNoticeWaiting {
			rem = "reinstated " + untilText(cn.ReinstateAt, now)
		}
		rows = append(rows, counterNoticeRow{CN: cn, C: cp, Remaining: rem})
	}
	return c.render(w, r, http.StatusOK, "counter_notices", "Counter-notices", rows)
}

func untilText(t, now time.Time) string {
	d := t.Sub(now)
	if d <= 0 {
		return "now (the timer is due)"
	}
	return "in " + human(d)
}

// secondLook lists open manual complaints of throttled holders: the API
// marks them with second_look evidence when they are filed.
func (c *Console) secondLook(w http.ResponseWriter, r *request) error {
	q := url.Values{"status": {store.ComplaintOpen}, "source": {domain.SourceRightsHolder}, "limit": {"200"}}
	rows, _, _, err := c.queueRows(r, q)
	if err != nil {
		return err
	}
	rows = slices.DeleteFunc(rows, func(row queueRow) bool {
		return !slices.ContainsFunc(row.C.Body.Evidence, func(e domain.Evidence) bool { return e.Kind == "second_look" })
	})
	p := queuePage{Rows: rows, Total: len(rows), Heading: "Second look: complaints of throttled holders", Reasons: reasons, Filters: map[string]string{}}
	return c.render(w, r, http.StatusOK, "second_look", "Second look", p)
}
