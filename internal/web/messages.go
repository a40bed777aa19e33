package web

import (
	"net/http"
	"net/url"
)

// postMessage posts the brand owner's message to the complaint's thread
// through the API, which checks the tenant and the text.
func (c *Console) postMessage(w http.ResponseWriter, r *request) error {
	cp, err := c.loadComplaint(r)
	if err != nil {
		return err
	}
	id := cp.Body.ComplaintID
	if err := c.call(r, "POST", "/v1/complaints/"+url.PathEscape(id)+"/messages", map[string]string{"body": r.PostFormValue("body")}, nil); err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/complaints/"+url.PathEscape(id)+"?done=sent#thread", http.StatusSeeOther)
	return nil
}

// withdraw withdraws the complaint for its holder through the API, with
// the reason the seller reads in the thread.
func (c *Console) withdraw(w http.ResponseWriter, r *request) error {
	cp, err := c.loadComplaint(r)
	if err != nil {
		return err
	}
	id := cp.Body.ComplaintID
	if err := c.call(r, "POST", "/v1/complaints/"+url.PathEscape(id)+"/withdraw", map[string]string{"reason": r.PostFormValue("reason")}, nil); err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/complaints/"+url.PathEscape(id)+"?done=withdrawn", http.StatusSeeOther)
	return nil
}
