package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
)

// The console's part of learning from decisions: marking a rejected
// complaint's evidence as not distinctive (the negative bank) with its
// undo, on the complaint page, and releasing a flood quarantine or
// applying the calibration's recommended threshold on the mark page. Every
// change goes through the API routes of the same name.

// bankView is the negative-bank control of a rejected complaint's page:
// the evidence that can be banked, and the entries banked from it.
type bankView struct {
	// Bankable are the indexes, in the complaint's evidence, of its image
	// and text matches.
	Bankable []bankable
	// Entries are the entries made from this complaint, undone included.
	Entries []bankEntryView
	// Done is the page's confirmation of the last change.
	Done string
}

type bankable struct {
	Index int
	E     domain.Evidence
}

type bankEntryView struct {
	Entry     domain.BankEntry `json:"entry"`
	Live      bool             `json:"live"`
	RemovedBy string           `json:"removed_by"`
}

// bankViewOf returns the control for staff on a rejected complaint, nil
// otherwise. The entries are read through the API's list of the mark's
// bank.
func (c *Console) bankViewOf(r *request, cp *store.Complaint, staff bool) (*bankView, error) {
	if !staff || cp.Status != store.ComplaintRejected {
		return nil, nil
	}
	v := &bankView{Done: r.URL.Query().Get("banked")}
	for i, e := range cp.Body.Evidence {
		if e.Matcher == "text" && e.Match != "" || e.Matcher == "image" && e.Reference != "" {
			v.Bankable = append(v.Bankable, bankable{Index: i, E: e})
		}
	}
	var list struct {
		Entries []bankEntryView `json:"entries"`
	}
	if err := c.call(r, "GET", "/v1/negative-bank?removed=true&mark_id="+url.QueryEscape(cp.Body.MarkID), nil, &list); err != nil {
		return nil, err
	}
	for _, e := range list.Entries {
		if e.Entry.ComplaintID == cp.Body.ComplaintID {
			v.Entries = append(v.Entries, e)
		}
	}
	return v, nil
}

// bankEvidence banks one piece of a rejected complaint's evidence.
func (c *Console) bankEvidence(w http.ResponseWriter, r *request) error {
	cp, err := c.loadComplaint(r)
	if err != nil {
		return err
	}
	i, err := strconv.Atoi(r.PostFormValue("evidence"))
	if err != nil {
		return badInput("Choose the evidence to mark as not distinctive.")
	}
	id := cp.Body.ComplaintID
	var resp struct {
		Entry domain.BankEntry `json:"entry"`
	}
	err = c.call(r, "POST", "/v1/complaints/"+url.PathEscape(id)+"/negative-bank", map[string]any{
		"evidence": i, "scope": r.PostFormValue("scope"), "reason": r.PostFormValue("reason"),
	}, &resp)
	if err != nil {
		return err
	}
	done := "Banked " + resp.Entry.Kind + " " + resp.Entry.EntryID + ": such matches no longer count."
	http.Redirect(w, r.Request, "/complaints/"+url.PathEscape(id)+"?banked="+url.QueryEscape(done)+"#negative-bank", http.StatusSeeOther)
	return nil
}

// undoBank undoes an entry and goes back to the complaint it came from.
func (c *Console) undoBank(w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	var resp bankEntryView
	if err := c.call(r, "POST", "/v1/negative-bank/"+url.PathEscape(id)+"/undo", nil, &resp); err != nil {
		return err
	}
	done := url.QueryEscape("Undone " + id + ": such matches count again.")
	if cid := resp.Entry.ComplaintID; cid != "" {
		http.Redirect(w, r.Request, "/complaints/"+url.PathEscape(cid)+"?banked="+done+"#negative-bank", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r.Request, "/queue?done="+done, http.StatusSeeOther)
	return nil
}

// releaseQuarantine releases one of the mark's quarantines (admins).
func (c *Console) releaseQuarantine(w http.ResponseWriter, r *request) error {
	m, err := c.loadMark(r)
	if err != nil {
		return err
	}
	id := url.PathEscape(m.Body.MarkID)
	err = c.call(r, "POST", "/v1/marks/"+id+"/quarantine/release", map[string]string{
		"kind": r.PostFormValue("kind"), "ref": r.PostFormValue("ref"), "reason": r.PostFormValue("reason"),
	}, nil)
	var he *httpError
	if errors.As(err, &he) && he.status < 500 {
		http.Redirect(w, r.Request, "/marks/"+id+"?error="+url.QueryEscape("Not released: "+he.msg), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/marks/"+id+"?done="+url.QueryEscape("Quarantine released; detectors file its matches again."), http.StatusSeeOther)
	return nil
}

// applyThreshold sets the mark's threshold (admins), as the calibration on
// its page recommends: the API audits it beside the recommendation of the
// time and publishes the mark, so the detectors follow.
func (c *Console) applyThreshold(w http.ResponseWriter, r *request) error {
	m, err := c.loadMark(r)
	if err != nil {
		return err
	}
	id := url.PathEscape(m.Body.MarkID)
	fail := func(msg string) error {
		http.Redirect(w, r.Request, "/marks/"+id+"?error="+url.QueryEscape("Threshold not applied: "+msg), http.StatusSeeOther)
		return nil
	}
	t, err := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("threshold")), 64)
	if err != nil {
		return fail("the threshold is not a number.")
	}
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil {
		return fail("the form has no mark version; reload the page.")
	}
	err = c.call(r, "POST", "/v1/marks/"+id+"/threshold", map[string]any{
		"threshold": t, "reason": r.PostFormValue("reason"), "version": version,
	}, nil)
	var he *httpError
	if errors.As(err, &he) && he.status < 500 {
		return fail(he.msg)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/marks/"+id+"?done="+url.QueryEscape("Threshold "+strconv.FormatFloat(t, 'f', -1, 64)+" applied; the detectors follow within seconds."), http.StatusSeeOther)
	return nil
}
