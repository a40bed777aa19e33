package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
)

func (c *Console) adminMarks(w http.ResponseWriter, r *request) error {
	ms, err := c.store.ListMarks(r.Context(), store.MarkQuery{Limit: 1000})
	if err != nil {
		return err
	}
	var pending, others []store.Mark
	for _, m := range ms {
		if m.Body.Status == "pending" {
			pending = append(pending, m)
		} else {
			others = append(others, m)
		}
	}
	p := struct {
		Pending, Others []store.Mark
		Flash, Error    string
	}{pending, others, r.URL.Query().Get("done"), r.URL.Query().Get("error")}
	return c.render(w, r, http.StatusOK, "admin_marks", "Marks", p)
}

// markAction verifies, suspends or removes a mark through the API.
func (c *Console) markAction(w http.ResponseWriter, r *request) error {
	action := r.PathValue("action")
	switch action {
	case "verify", "suspend", "remove":
	default:
		return notFound()
	}
	m, err := c.loadMark(r)
	if err != nil {
		return err
	}
	err = c.call(r, "POST", "/v1/marks/"+url.PathEscape(m.Body.MarkID)+"/"+action, nil, nil)
	var he *httpError
	if errors.As(err, &he) && he.status < 500 {
		http.Redirect(w, r.Request, "/admin/marks?error="+url.QueryEscape(m.Body.MarkID+": "+he.msg), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/admin/marks?done="+url.QueryEscape(m.Body.MarkID+": "+action+" done"), http.StatusSeeOther)
	return nil
}

type sellerRow struct {
	S       store.Seller
	Record  review.SellerRecord
	CanLift bool
}

func (c *Console) sellers(w http.ResponseWriter, r *request) error {
	var rows []sellerRow
	add := func(id string) error {
		rec, err := c.review.Seller(r.Context(), id)
		if err != nil {
			return err
		}
		rows = append(rows, sellerRow{S: store.Seller{ID: rec.ID, Status: rec.Status, UpdatedAt: rec.UpdatedAt}, Record: rec,
			CanLift: rec.Status == store.SellerSuspended && r.isRole(identity.RoleAdmin)})
		return nil
	}
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	if id != "" {
		if err := add(id); err != nil {
			return err
		}
	} else {
		list, err := c.store.Sellers(r.Context(), []string{store.SellerWarned, store.SellerSuspended, store.SellerTerminated}, 200)
		if err != nil {
			return err
		}
		for _, s := range list {
			if err := add(s.ID); err != nil {
				return err
			}
		}
	}
	p := struct {
		Rows         []sellerRow
		ID           string
		Flash, Error string
	}{rows, id, r.URL.Query().Get("done"), r.URL.Query().Get("error")}
	return c.render(w, r, http.StatusOK, "sellers", "Sellers", p)
}

// liftSuspension lifts a seller's suspension through the API, audited.
func (c *Console) liftSuspension(w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" {
		http.Redirect(w, r.Request, "/admin/sellers?error="+url.QueryEscape(id+": give a reason"), http.StatusSeeOther)
		return nil
	}
	err := c.call(r, "POST", "/v1/sellers/"+url.PathEscape(id)+"/lift-suspension", map[string]string{"reason": reason}, nil)
	var he *httpError
	if errors.As(err, &he) && he.status < 500 {
		http.Redirect(w, r.Request, "/admin/sellers?error="+url.QueryEscape(id+": "+he.msg), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/admin/sellers?done="+url.QueryEscape(id+": suspension lifted"), http.StatusSeeOther)
	return nil
}

func (c *Console) holders(w http.ResponseWriter, r *request) error {
	hs, err := c.store.Holders(r.Context())
	if err != nil {
		return err
	}
	type row struct {
		H        store.Holder
		Standing string
	}
	standings, err := c.review.Standings(r.Context())
	if err != nil {
		return err
	}
	rows := make([]row, 0, len(hs))
	for _, h := range hs {
		st := string(standings[h.ID])
		if st == "" {
			st = "new"
		}
		rows = append(rows, row{H: h, Standing: st})
	}
	p := struct {
		Rows         []row
		Flash, Error string
	}{rows, r.URL.Query().Get("done"), r.URL.Query().Get("error")}
	return c.render(w, r, http.StatusOK, "holders", "Holders", p)
}

func (c *Console) createHolder(w http.ResponseWriter, r *request) error {
	req := map[string]string{"id": strings.TrimSpace(r.PostFormValue("id")), "name": strings.TrimSpace(r.PostFormValue("name"))}
	err := c.call(r, "POST", "/v1/holders", req, nil)
	var he *httpError
	if errors.As(err, &he) && he.status < 500 {
		http.Redirect(w, r.Request, "/admin/holders?error="+url.QueryEscape(he.msg), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/admin/holders?done="+url.QueryEscape("created "+req["name"]), http.StatusSeeOther)
	return nil
}

func (c *Console) users(w http.ResponseWriter, r *request) error {
	return c.usersAnswer(w, r, "", "")
}

// createUser makes a user with a token and, when given, a username and
// password. The token is shown once, on the answer page.
func (c *Console) createUser(w http.ResponseWriter, r *request) error {
	u := store.User{
		Name: strings.TrimSpace(r.PostFormValue("name")), Role: r.PostFormValue("role"),
		HolderID: strings.TrimSpace(r.PostFormValue("holder_id")), Username: strings.ToLower(strings.TrimSpace(r.PostFormValue("username"))),
	}
	if u.Role != string(identity.RoleBrandOwner) {
		u.HolderID = ""
	}
	var hash string
	if pw := r.PostFormValue("password"); pw != "" {
		h, err := identity.HashPassword(pw)
		if err != nil {
			return c.usersAnswer(w, r, "", err.Error())
		}
		hash = h
	}
	token, tokenHash, err := identity.NewToken()
	if err != nil {
		return err
	}
	err = c.store.WithTx(r.Context(), func(tx *store.Tx) error {
		created, err := tx.CreateUser(r.Context(), u, tokenHash)
		if err != nil {
			return err
		}
		if hash != "" {
			if err := tx.SetPassword(r.Context(), created.ID, "", hash); err != nil {
				return err
			}
		}
		u = created
		return appendAudit(r, tx, r.user.ID, "user.create", "user", created.ID, map[string]any{"role": u.Role, "holder_id": u.HolderID, "username": u.Username})
	})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return c.usersAnswer(w, r, "", "That username is taken.")
		}
		if !errors.Is(err, store.ErrNotFound) && !strings.Contains(err.Error(), "store: create user") {
			return err
		}
		return c.usersAnswer(w, r, "", strings.TrimPrefix(err.Error(), "store: create user: "))
	}
	return c.usersAnswer(w, r, "Created "+u.Name+" ("+u.ID+"). API token, shown once: "+token, "")
}

func (c *Console) usersAnswer(w http.ResponseWriter, r *request, done, errMsg string) error {
	us, err := c.store.Users(r.Context())
	if err != nil {
		return err
	}
	hs, err := c.store.Holders(r.Context())
	if err != nil {
		return err
	}
	status := http.StatusOK
	if errMsg != "" {
		status = http.StatusBadRequest
	}
	p := struct {
		Users        []store.User
		Holders      []store.Holder
		Roles        []identity.Role
		Flash, Error string
		Secret       string
	}{us, hs, identity.Roles(), "", errMsg, done}
	return c.render(w, r, status, "users", "Users", p)
}

// userAction disables, enables, resets the password of or rotates the
// token of a user, audited.
func (c *Console) userAction(w http.ResponseWriter, r *request) error {
	id, action := r.PathValue("id"), r.PathValue("action")
	target, err := c.store.GetUser(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound()
	}
	if err != nil {
		return err
	}
	if target.ID == r.user.ID && action == "disable" {
		return c.usersAnswer(w, r, "", "You cannot disable yourself.")
	}
	var secret, hash string
	switch action {
	case "disable", "enable":
	case "reset-password":
		pw := r.PostFormValue("password")
		if hash, err = identity.HashPassword(pw); err != nil {
			return c.usersAnswer(w, r, "", err.Error())
		}
	case "rotate-token":
		if secret, hash, err = identity.NewToken(); err != nil {
			return err
		}
	default:
		return notFound()
	}
	err = c.store.WithTx(r.Context(), func(tx *store.Tx) error {
		var err error
		switch action {
		case "disable", "enable":
			err = tx.SetUserDisabled(r.Context(), id, action == "disable")
		case "reset-password":
			err = tx.SetPassword(r.Context(), id, "", hash)
		case "rotate-token":
			err = tx.SetTokenHash(r.Context(), id, hash)
		}
		if err != nil {
			return err
		}
		return appendAudit(r, tx, r.user.ID, "user."+action, "user", id, map[string]any{})
	})
	if err != nil {
		return err
	}
	msg := target.Name + ": " + action + " done"
	if secret != "" {
		msg += ". New API token, shown once: " + secret
	}
	return c.usersAnswer(w, r, msg, "")
}

type auditPage struct {
	Entries []store.AuditEntry
	Filters map[string]string
	Next    string
}

// audit shows the audit log with the API's filters (object type and id,
// actor) and the action, a page at a time.
func (c *Console) audit(w http.ResponseWriter, r *request) error {
	v := r.URL.Query()
	q := store.AuditQuery{ObjectType: v.Get("object_type"), ObjectID: v.Get("object_id"), Actor: v.Get("actor"), Limit: 100}
	if s := v.Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return badInput("after: a non-negative integer")
		}
		q.AfterID = n
	}
	action := v.Get("action")
	var entries []store.AuditEntry
	// The action filter is applied here, over pages of the store's
	// filtered log, until a page is full.
	for len(entries) < q.Limit {
		page, err := c.store.AuditLog(r.Context(), q)
		if err != nil {
			return err
		}
		for _, e := range page {
			if action == "" || strings.HasPrefix(e.Action, action) {
				entries = append(entries, e)
			}
		}
		if len(page) < q.Limit {
			q.AfterID = -1
			break
		}
		q.AfterID = page[len(page)-1].ID
	}
	p := auditPage{Entries: entries, Filters: map[string]string{
		"object_type": q.ObjectType, "object_id": q.ObjectID, "actor": q.Actor, "action": action,
	}}
	if q.AfterID > 0 {
		nv := url.Values{}
		for k, s := range p.Filters {
			if s != "" {
				nv.Set(k, s)
			}
		}
		nv.Set("after", strconv.FormatInt(q.AfterID, 10))
		p.Next = "/admin/audit?" + nv.Encode()
	}
	return c.render(w, r, http.StatusOK, "audit", "Audit log", p)
}
