package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
)

// reasonCode is one of the closed set of reasons a reviewer picks from.
type reasonCode struct{ Code, Label string }

// reasonCodes are the reasons per verdict.
type reasonCodes map[string][]reasonCode

// reasons is the closed set the console offers.
var reasons = reasonCodes{
	review.VerdictUphold: {
		{"counterfeit", "Counterfeit: the mark with a counterfeit cue"},
		{"obfuscated_mark", "The mark spelled to evade detection"},
		{"official_photo_reuse", "The brand's official photos, unauthorized seller"},
		{"price_below_floor", "The mark at a counterfeit price"},
	},
	review.VerdictReject: {
		{"genuine", "Genuine product, normal price"},
		{"authorized_seller", "Authorized seller"},
		{"nominative_use", "Nominative use (compatible with, for)"},
		{"different_brand", "A different brand with a similar name"},
		{"insufficient_evidence", "Not enough evidence"},
	},
}

func (rc reasonCodes) valid(verdict, code string) bool {
	return slices.ContainsFunc(rc[verdict], func(r reasonCode) bool { return r.Code == code })
}

// segment is a run of text, highlighted or not: templates render marks
// from it without any HTML built by hand.
type segment struct {
	Text string
	Mark bool
}

// spans are the evidence matches found in field of c.
func spans(c *domain.Complaint, field string) []string {
	var out []string
	for _, e := range c.Evidence {
		if e.Match != "" && (e.Field == field || strings.HasPrefix(e.Field, field+"[")) && !slices.Contains(out, e.Match) {
			out = append(out, e.Match)
		}
	}
	return out
}

// highlight cuts text into segments, marking every case-insensitive
// occurrence of any of matches.
func highlight(text string, matches []string) []segment {
	if len(matches) == 0 || text == "" {
		return []segment{{Text: text}}
	}
	lower := strings.ToLower(text)
	marked := make([]bool, len(text))
	for _, m := range matches {
		lm := strings.ToLower(m)
		if lm == "" || len(lm) != len(m) {
			continue // a case fold that changes length would shift offsets
		}
		for i := 0; ; {
			j := strings.Index(lower[i:], lm)
			if j < 0 {
				break
			}
			for k := i + j; k < i+j+len(lm); k++ {
				marked[k] = true
			}
			i += j + len(lm)
		}
	}
	var out []segment
	start := 0
	for i := 1; i <= len(text); i++ {
		if i == len(text) || marked[i] != marked[start] {
			if utf8.ValidString(text[start:i]) || i == len(text) {
				out = append(out, segment{Text: text[start:i], Mark: marked[start]})
				start = i
			}
		}
	}
	return out
}

// complaintPage is the data of the complaint page.
type complaintPage struct {
	C           store.Complaint
	Mark        *store.Mark
	Title       []segment
	Description []segment
	Evidence    []domain.Evidence
	Signals     []signal
	Normalized  []normalization
	Cues        []domain.Evidence
	Price       *domain.Money
	RefPrices   []domain.ReferencePrice
	Seller      review.SellerRecord
	History     []store.Complaint
	// BuyersOfListing and BuyersOfSeller sum the buyer reports of the
	// listing and of the seller (staff only): evidence, not a verdict.
	BuyersOfListing, BuyersOfSeller review.BuyerReports
	// Network is the seller's network (staff only), when it has other
	// sellers: who they are and what links them.
	Network   *store.SellerNetwork
	Images    []int
	RefImages []int
	// Matches are the image evidence, drawn with its regions.
	Matches   []matchFigure
	Claim     *store.Claim
	ClaimedBy string
	CanDecide bool
	// Staff is set when the user may read the seller's record (the API's
	// GET /v1/sellers/{id}): the seller section, its history and buyer
	// reports.
	Staff bool
	// Queue is set when the user may open the queue: j and k, and the
	// pager under the page.
	Queue       bool
	Prev, Next  string
	Reasons     reasonCodes
	Flash       string
	CounterNote *store.CounterNotice
	// Bank is the negative-bank control of a rejected complaint (staff).
	Bank *bankView
	// Messages is the complaint's thread; Owner is set for the holder's
	// brand owner, who may post to it and withdraw the complaint.
	Messages []store.Message
	Owner    bool
}

// signal is one piece of evidence with its share of the score, as the
// width of a bar out of 100.
type signal struct {
	E     domain.Evidence
	Width int
}

// normalization is an obfuscated spelling and what it normalizes to.
type normalization struct{ From, To, Kind string }

func (c *Console) loadComplaint(r *request) (store.Complaint, error) {
	cp, err := c.store.GetComplaint(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return store.Complaint{}, notFound()
	}
	if err != nil {
		return store.Complaint{}, err
	}
	if err := r.authorize(cp.Body.HolderID); err != nil {
		return store.Complaint{}, err
	}
	return cp, nil
}

func (c *Console) complaint(w http.ResponseWriter, r *request) error {
	cp, err := c.loadComplaint(r)
	if err != nil {
		return err
	}
	p := complaintPage{C: cp, Reasons: reasons, Flash: r.URL.Query().Get("done")}
	body := &cp.Body
	// Each staff-only part of the page is shown to whom the API route
	// serving the same data would answer (mayCall), so that a brand owner
	// never sees the seller's record, its network or the negative bank.
	p.Staff = c.mayCall(r, "GET /v1/sellers/{id}", "")
	p.Queue = c.may(r, "GET /queue", "")
	if l := body.Listing; l != nil {
		p.Title = highlight(l.Title, spans(body, "title"))
		p.Description = highlight(l.Description, spans(body, "description"))
		p.Price = l.Price
		if c.images != nil {
			for i := range min(len(l.Images), 6) {
				p.Images = append(p.Images, i)
			}
		}
	}
	p.Evidence = body.Evidence
	total := 0.0
	for _, e := range body.Evidence {
		total += max(e.Score, 0)
	}
	for _, e := range body.Evidence {
		switch e.Kind {
		case "cue":
			p.Cues = append(p.Cues, e)
		case "leet", "fuzzy", "obfuscated", "confusable", "split", "squashed", "transliteration":
			p.Normalized = append(p.Normalized, normalization{From: e.Match, To: e.Detail, Kind: e.Kind})
		}
		w := 0
		if total > 0 {
			w = int(100 * max(e.Score, 0) / total)
		}
		p.Signals = append(p.Signals, signal{E: e, Width: w})
	}
	if m, err := c.store.GetMark(r.Context(), body.MarkID); err == nil && r.authorize(m.Body.HolderID) == nil {
		p.Mark = &m
		p.RefPrices = m.Body.ReferencePrices
		if c.images != nil {
			for i := range min(len(markImageRefs(&m.Body)), 4) {
				p.RefImages = append(p.RefImages, i)
			}
		}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var refs, uploads []string
	if p.Mark != nil && c.images != nil {
		refs = markImageRefs(&p.Mark.Body)
	}
	if p.Mark != nil {
		for _, h := range p.Mark.Body.ImageHashes {
			if strings.HasPrefix(h.URL, "upload:") {
				uploads = append(uploads, h.URL)
			}
		}
	}
	p.Matches = matchFigures(body.Evidence, len(p.Images), body.MarkID, refs, uploads)
	if p.Staff && body.SellerID != "" {
		if p.Seller, err = c.review.Seller(r.Context(), body.SellerID); err != nil {
			return err
		}
		hist, err := c.store.SellerComplaints(r.Context(), body.SellerID, 20)
		if err != nil {
			return err
		}
		p.History = slices.DeleteFunc(hist, func(h store.Complaint) bool { return h.Body.ComplaintID == body.ComplaintID })
		if p.BuyersOfListing, err = c.review.ListingBuyerReports(r.Context(), body.ListingID); err != nil {
			return err
		}
		if p.BuyersOfSeller, err = c.review.SellerBuyerReports(r.Context(), body.SellerID); err != nil {
			return err
		}
	}
	if body.SellerID != "" && c.mayCall(r, "GET /v1/sellers/{id}/network", "") {
		net, err := c.store.SellerNetwork(r.Context(), body.SellerID, 20)
		if err != nil {
			return err
		}
		if len(net.Sellers) > 1 {
			p.Network = &net
		}
	}
	if cn, err := c.store.GetCounterNotice(r.Context(), body.ComplaintID); err == nil {
		p.CounterNote = &cn
	}
	if p.Messages, err = c.review.Messages(r.Context(), body.ComplaintID, 0, 200); err != nil {
		return err
	}
	p.Owner = r.isRole(identity.RoleBrandOwner) && c.mayCall(r, "POST /v1/complaints/{id}/messages", body.HolderID)
	if p.Bank, err = c.bankViewOf(r, &cp, c.mayCall(r, "POST /v1/complaints/{id}/negative-bank", body.HolderID)); err != nil {
		return err
	}
	decidable := cp.Status == store.ComplaintOpen || cp.Status == store.ComplaintContested
	if decidable && c.may(r, "POST /complaints/{id}/claim", body.HolderID) && c.mayCall(r, "POST /v1/complaints/{id}/decision", body.HolderID) {
		// Opening the page claims the complaint; the page renews the
		// lease while it stays open.
		cl, err := c.review.Claim(r.Context(), body.ComplaintID, r.user.ID, c.claimTTL)
		var ce *review.ClaimedError
		switch {
		case errors.As(err, &ce):
			p.ClaimedBy = c.userName(r, ce.Claim.UserID)
			p.Claim = &ce.Claim
		case err != nil:
			return err
		default:
			p.Claim = &cl
			p.CanDecide = true
		}
	}
	if p.Queue {
		p.Prev, p.Next, err = c.neighbours(r, body.ComplaintID)
		if err != nil {
			return err
		}
	}
	return c.render(w, r, http.StatusOK, "complaint", "Complaint "+body.ComplaintID, p)
}

// neighbours are the complaints before and after id in the open queue,
// skipping those others hold: where j and k go.
//
// The queue's order is remembered per reviewer for orderTTL: j and k walk
// the queue as it stood when the reviewer last looked, without a search of
// the whole queue on every complaint page (claims are read fresh).
func (c *Console) neighbours(r *request, id string) (prev, next string, err error) {
	ids, ok := c.order.get(r.user.ID, id, c.now())
	if !ok {
		ids, _, err = c.api.SearchComplaintIDs(r.Context(), r.user, url.Values{"status": {store.ComplaintOpen}, "limit": {"50"}})
		if err != nil {
			return "", "", err
		}
		c.order.put(r.user.ID, ids, c.now())
	}
	ids = slices.Clone(ids)
	claims, err := c.review.Claims(r.Context(), ids)
	if err != nil {
		return "", "", err
	}
	free := slices.DeleteFunc(ids, func(other string) bool {
		cl, ok := claims[other]
		return ok && cl.UserID != r.user.ID && other != id
	})
	i := slices.Index(free, id)
	switch {
	case i < 0 && len(free) > 0:
		return "", free[0], nil
	case i < 0:
		return "", "", nil
	}
	if i > 0 {
		prev = free[i-1]
	}
	if i+1 < len(free) {
		next = free[i+1]
	}
	return prev, next, nil
}

// decide records a verdict through the API and moves on to the next item
// of the queue. A complaint someone else decided first answers with what
// happened (the API's 409), never a silent overwrite.
func (c *Console) decide(w http.ResponseWriter, r *request) error {
	cp, err := c.loadComplaint(r)
	if err != nil {
		return err
	}
	id := cp.Body.ComplaintID
	verdict, reason := r.PostFormValue("decision"), r.PostFormValue("reason_code")
	if !reasons.valid(verdict, reason) {
		return badInput("Choose uphold or reject and a reason from the list.")
	}
	// Another reviewer's running claim stops the decision: they are
	// looking at it right now.
	if _, err := c.review.Claim(r.Context(), id, r.user.ID, c.claimTTL); err != nil {
		return err
	}
	next := r.PostFormValue("next")
	err = c.call(r, "POST", "/v1/complaints/"+url.PathEscape(id)+"/decision",
		map[string]string{"decision": verdict, "reason_code": reason, "note": r.PostFormValue("note")}, nil)
	var he *httpError
	if errors.As(err, &he) && he.status == http.StatusConflict {
		now, gerr := c.store.GetComplaint(r.Context(), id)
		if gerr == nil {
			who := c.userName(r, now.DecidedBy)
			return &httpError{status: http.StatusConflict, msg: fmt.Sprintf("Not decided: %s was already %s by %s at %s.",
				id, now.Status, who, now.DecidedAt.UTC().Format("15:04:05 UTC"))}
		}
	}
	if err != nil {
		return err
	}
	_ = c.review.Release(r.Context(), id, r.user.ID)
	done := url.QueryEscape(id + ": " + verdict + " (" + reason + ")")
	if next != "" && next != id && !strings.ContainsAny(next, "/?#") {
		http.Redirect(w, r.Request, "/complaints/"+url.PathEscape(next)+"?done="+done, http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r.Request, "/queue?done="+done, http.StatusSeeOther)
	return nil
}

// escalate keeps a contested listing down until a reviewer decides: the
// API's escalate route, for admins and the holder.
func (c *Console) escalate(w http.ResponseWriter, r *request) error {
	cp, err := c.loadComplaint(r)
	if err != nil {
		return err
	}
	id := cp.Body.ComplaintID
	if err := c.call(r, "POST", "/v1/complaints/"+url.PathEscape(id)+"/escalate", nil, nil); err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/complaints/"+url.PathEscape(id)+"?done=escalated", http.StatusSeeOther)
	return nil
}

// claim renews the page's lease (the page's script calls it every minute).
func (c *Console) claim(w http.ResponseWriter, r *request) error {
	cp, err := c.loadComplaint(r)
	if err != nil {
		return err
	}
	cl, err := c.review.Claim(r.Context(), cp.Body.ComplaintID, r.user.ID, c.claimTTL)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "claimed until %s\n", cl.ExpiresAt.UTC().Format("15:04:05 UTC"))
	return nil
}

func (c *Console) release(w http.ResponseWriter, r *request) error {
	cp, err := c.loadComplaint(r)
	if err != nil {
		return err
	}
	if err := c.review.Release(r.Context(), cp.Body.ComplaintID, r.user.ID); err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/queue", http.StatusSeeOther)
	return nil
}

// orderTTL is how long a reviewer's remembered queue order serves j and k.
const orderTTL = 30 * time.Second

// queueOrders remembers, per reviewer, the ids of the open queue's first
// page in order.
type queueOrders struct {
	mu sync.Mutex
	m  map[string]queueOrder
}

type queueOrder struct {
	ids []string
	at  time.Time
}

// get returns the reviewer's remembered order when it is fresh and holds
// id (or id is empty).
func (q *queueOrders) get(user, id string, now time.Time) ([]string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	o, ok := q.m[user]
	if !ok || now.Sub(o.at) > orderTTL || (id != "" && !slices.Contains(o.ids, id)) {
		return nil, false
	}
	return o.ids, true
}

func (q *queueOrders) put(user string, ids []string, now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.m == nil || len(q.m) > 10_000 {
		q.m = map[string]queueOrder{}
	}
	q.m[user] = queueOrder{ids: slices.Clone(ids), at: now}
}
