package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
)

// paletteItem is one entry of the Ctrl-K command palette: where it goes.
type paletteItem struct {
	Label string `json:"label"`
	// Kind groups the entries: page, complaint, listing, seller, mark.
	Kind string `json:"kind"`
	Href string `json:"href"`
}

// palettePages are the pages the palette offers, each with the pattern of
// the page table whose roles decide whether the user may open it.
var palettePages = []struct{ pattern, href, label string }{
	{"GET /queue", "/queue", "Review queue"},
	{"GET /counter-notices", "/counter-notices", "Counter-notices"},
	{"GET /second-look", "/second-look", "Second look"},
	{"GET /marks", "/marks", "Marks"},
	{"GET /marks/new", "/marks/new", "Register a mark"},
	{"GET /portal/complaints", "/portal/complaints", "Complaints"},
	{"GET /portal/complaints/new", "/portal/complaints/new", "File a complaint"},
	{"GET /admin/marks", "/admin/marks", "Marks awaiting verification"},
	{"GET /admin/sellers", "/admin/sellers", "Sellers"},
	{"GET /admin/holders", "/admin/holders", "Holders"},
	{"GET /admin/users", "/admin/users", "Users"},
	{"GET /admin/audit", "/admin/audit", "Audit log"},
	{"GET /account", "/account", "Account"},
}

// Bounds of one palette answer.
const (
	paletteMaxItems = 20
	// paletteMarkScan is how many marks a search by name reads at most.
	paletteMarkScan = 5000
	// paletteMaxQuery bounds the text looked up.
	paletteMaxQuery = 200
)

// may tells whether the user may open the page pattern of the page table
// on an object of holderID (empty: none), by identity.Authorize with the
// page's roles: the palette never offers what the page would refuse.
func (c *Console) may(r *request, pattern, holderID string) bool {
	roles, ok := c.pageRoles[pattern]
	if !ok || r.user == nil {
		return false
	}
	obj := identity.Unowned()
	if holderID != "" {
		obj = identity.OwnedBy(holderID)
	}
	return identity.Authorize(r.user, roles, obj) == nil
}

// palette answers the command palette's lookups as JSON: the pages the user
// may open whose name holds q, and, when q names one, the complaint, the
// complaints of a listing, the seller and the marks (by id or by name) the
// user may see. Every entry passes identity.Authorize with the roles of
// the page it links to and, for a holder's object, its holder.
func (c *Console) palette(w http.ResponseWriter, r *request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > paletteMaxQuery {
		q = q[:paletteMaxQuery]
	}
	lq := strings.ToLower(q)
	items := []paletteItem{}
	add := func(it paletteItem) {
		if len(items) < paletteMaxItems {
			items = append(items, it)
		}
	}
	ctx := r.Context()
	if q != "" {
		// A complaint by id.
		if cp, err := c.store.GetComplaint(ctx, q); err == nil {
			if c.may(r, "GET /complaints/{id}", cp.Body.HolderID) {
				add(paletteItem{Label: "Complaint " + cp.Body.ComplaintID + complaintTitle(cp), Kind: "complaint", Href: "/complaints/" + url.PathEscape(cp.Body.ComplaintID)})
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// The complaints of a listing, the user's own holder's only for a
		// brand owner (the listing filter confines it like the queue).
		f := store.QueueFilter{ListingID: []string{q}}
		if r.isRole(identity.RoleBrandOwner) {
			f.HolderID = []string{r.user.HolderID}
		}
		page, err := c.store.ListQueue(ctx, f, "", 5)
		if err != nil {
			return err
		}
		for _, cp := range page.Complaints {
			if c.may(r, "GET /complaints/{id}", cp.Body.HolderID) {
				add(paletteItem{Label: "Listing " + q + ": complaint " + cp.Body.ComplaintID + " (" + cp.Status + ")", Kind: "listing", Href: "/complaints/" + url.PathEscape(cp.Body.ComplaintID)})
			}
		}
		// A seller, on the sellers page: one with a record (a strike or a
		// status) or with complaints.
		if c.may(r, "GET /admin/sellers", "") {
			status := ""
			if s, err := c.store.GetSeller(ctx, q); err == nil {
				status = s.Status
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			} else if sp, err := c.store.ListQueue(ctx, store.QueueFilter{SellerID: []string{q}}, "", 1); err != nil {
				return err
			} else if len(sp.Complaints) > 0 {
				status = store.SellerActive
			}
			if status != "" {
				add(paletteItem{Label: "Seller " + q + " (" + status + ")", Kind: "seller", Href: "/admin/sellers?id=" + url.QueryEscape(q)})
			}
		}
		if err := c.paletteMarks(r, q, lq, add); err != nil {
			return err
		}
		if c.may(r, "GET /queue", "") {
			add(paletteItem{Label: "Search the queue for “" + q + "”", Kind: "search", Href: "/queue?q=" + url.QueryEscape(q)})
		}
	}
	for _, p := range palettePages {
		if (lq == "" || strings.Contains(strings.ToLower(p.label), lq)) && c.may(r, p.pattern, "") {
			add(paletteItem{Label: p.label, Kind: "page", Href: p.href})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(struct {
		Items []paletteItem `json:"items"`
	}{items})
}

// paletteMarks adds the marks whose id is q or whose name holds lq: the
// mark's page for who may open it, else its complaints in the queue.
func (c *Console) paletteMarks(r *request, q, lq string, add func(paletteItem)) error {
	ctx := r.Context()
	offer := func(m store.Mark) {
		switch {
		case c.may(r, "GET /marks/{id}", m.Body.HolderID):
			add(paletteItem{Label: "Mark " + m.Body.Name + " (" + m.Body.MarkID + ")", Kind: "mark", Href: "/marks/" + url.PathEscape(m.Body.MarkID)})
		case c.may(r, "GET /queue", ""):
			add(paletteItem{Label: "Queue of mark " + m.Body.Name + " (" + m.Body.MarkID + ")", Kind: "mark", Href: "/queue?mark_id=" + url.QueryEscape(m.Body.MarkID)})
		}
	}
	mq := store.MarkQuery{Limit: 1000}
	if r.isRole(identity.RoleBrandOwner) {
		mq.HolderID = r.user.HolderID
	}
	found := 0
	for read := 0; read < paletteMarkScan && found < 5; {
		marks, err := c.store.ListMarks(ctx, mq)
		if err != nil {
			return err
		}
		for _, m := range marks {
			if m.Body.MarkID == q || strings.Contains(strings.ToLower(m.Body.Name), lq) {
				offer(m)
				found++
			}
		}
		read += len(marks)
		if len(marks) < mq.Limit {
			break
		}
		mq.AfterID = marks[len(marks)-1].Body.MarkID
	}
	return nil
}

// complaintTitle is " — " and the listing's title, or nothing.
func complaintTitle(cp store.Complaint) string {
	if l := cp.Body.Listing; l != nil && l.Title != "" {
		t := l.Title
		if len(t) > 60 {
			t = strings.ToValidUTF8(t[:60], "") + "…"
		}
		return " — " + t
	}
	return ""
}
