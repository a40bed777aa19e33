package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/markwatch/markwatch/internal/identity"
)

// pageTable is every page the console serves. A page that does what an API
// route does takes that route's roles (sameAs); the others name theirs.
func (c *Console) pageTable() []page {
	const (
		admin      = identity.RoleAdmin
		reviewer   = identity.RoleReviewer
		brandOwner = identity.RoleBrandOwner
	)
	everyone := identity.Roles()
	staff := []identity.Role{admin, reviewer}
	owners := []identity.Role{admin, brandOwner}
	return []page{
		{pattern: "GET /{$}", allow: everyone, handler: c.home},
		{pattern: "GET /login", public: true, handler: c.loginForm},
		{pattern: "POST /login", public: true, handler: c.login},
		{pattern: "POST /logout", allow: everyone, handler: c.logout},
		{pattern: "GET /account", allow: everyone, handler: c.account},
		// The Ctrl-K palette's lookups; each entry is checked against the
		// page it links to (palette.go).
		{pattern: "GET /palette", allow: everyone, handler: c.palette},

		// Reviewers.
		{pattern: "GET /queue", allow: staff, handler: c.queue},
		// The queue page's per-filter counts, fetched by its script.
		{pattern: "GET /queue/counts", allow: staff, handler: c.queueCounts},
		{pattern: "POST /queue/decide", sameAs: "POST /v1/complaints/decisions", handler: c.bulkDecide},
		{pattern: "GET /complaints/{id}", sameAs: "GET /v1/complaints/{id}", handler: c.complaint},
		{pattern: "POST /complaints/{id}/decide", sameAs: "POST /v1/complaints/{id}/decision", handler: c.decide},
		{pattern: "POST /complaints/{id}/escalate", sameAs: "POST /v1/complaints/{id}/escalate", handler: c.escalate},
		{pattern: "POST /complaints/{id}/messages", sameAs: "POST /v1/complaints/{id}/messages", handler: c.postMessage},
		{pattern: "POST /complaints/{id}/withdraw", sameAs: "POST /v1/complaints/{id}/withdraw", handler: c.withdraw},
		{pattern: "POST /complaints/{id}/claim", allow: staff, handler: c.claim},
		{pattern: "POST /complaints/{id}/release", allow: staff, handler: c.release},
		{pattern: "POST /complaints/{id}/negative-bank", sameAs: "POST /v1/complaints/{id}/negative-bank", handler: c.bankEvidence},
		{pattern: "POST /negative-bank/{id}/undo", sameAs: "POST /v1/negative-bank/{id}/undo", handler: c.undoBank},
		{pattern: "GET /counter-notices", allow: staff, handler: c.counterNotices},
		{pattern: "GET /second-look", allow: staff, handler: c.secondLook},
		{pattern: "GET /img/complaints/{id}/{n}", sameAs: "GET /v1/complaints/{id}", handler: c.complaintImage},
		// A mark's reference images are evidence on the complaint page:
		// reviewers see them, unlike the mark's record (GET /v1/marks/{id}).
		{pattern: "GET /img/marks/{id}/{n}", allow: []identity.Role{admin, reviewer, brandOwner}, handler: c.markImage},
		// What is matched of an uploaded reference image: its holder's
		// brand owner sees it on the mark page, reviewers beside the
		// evidence it matched.
		{pattern: "GET /img/marks/{id}/uploads/{sha}", allow: []identity.Role{admin, reviewer, brandOwner}, handler: c.uploadPreview},

		// Brand owners (and admins, who act for any holder).
		{pattern: "GET /marks", sameAs: "GET /v1/marks", handler: c.marks},
		{pattern: "GET /marks/new", sameAs: "POST /v1/marks", handler: c.markForm},
		{pattern: "POST /marks", sameAs: "POST /v1/marks", handler: c.createMark},
		{pattern: "GET /marks/{id}", sameAs: "GET /v1/marks/{id}", handler: c.mark},
		{pattern: "POST /marks/{id}/edit", sameAs: "PATCH /v1/marks/{id}", handler: c.editMark},
		{pattern: "POST /marks/{id}/images", sameAs: "POST /v1/marks/{id}/images", handler: c.uploadImages},
		{pattern: "POST /marks/{id}/quarantine/release", sameAs: "POST /v1/marks/{id}/quarantine/release", handler: c.releaseQuarantine},
		{pattern: "POST /marks/{id}/threshold", sameAs: "POST /v1/marks/{id}/threshold", handler: c.applyThreshold},
		{pattern: "GET /portal/complaints", allow: owners, handler: c.portalComplaints},
		{pattern: "GET /portal/complaints/new", sameAs: "POST /v1/complaints", handler: c.complaintForm},
		{pattern: "POST /portal/complaints", sameAs: "POST /v1/complaints", handler: c.fileComplaint},

		// Admins.
		{pattern: "GET /admin/marks", allow: []identity.Role{admin}, handler: c.adminMarks},
		{pattern: "POST /admin/marks/{id}/{action}", allow: []identity.Role{admin}, handler: c.markAction},
		{pattern: "GET /admin/sellers", sameAs: "GET /v1/sellers/{id}", handler: c.sellers},
		{pattern: "POST /admin/sellers/{id}/lift", sameAs: "POST /v1/sellers/{id}/lift-suspension", handler: c.liftSuspension},
		{pattern: "GET /admin/holders", allow: []identity.Role{admin}, handler: c.holders},
		{pattern: "POST /admin/holders", sameAs: "POST /v1/holders", handler: c.createHolder},
		{pattern: "GET /admin/users", allow: []identity.Role{admin}, handler: c.users},
		{pattern: "POST /admin/users", allow: []identity.Role{admin}, handler: c.createUser},
		{pattern: "POST /admin/users/{id}/{action}", allow: []identity.Role{admin}, handler: c.userAction},
		{pattern: "GET /admin/audit", sameAs: "GET /v1/audit", handler: c.audit},
	}
}

func (c *Console) home(w http.ResponseWriter, r *request) error {
	http.Redirect(w, r.Request, landing(r.user), http.StatusSeeOther)
	return nil
}

func (c *Console) account(w http.ResponseWriter, r *request) error {
	return c.render(w, r, http.StatusOK, "account", "Account", nil)
}

// call makes a change through the API, in process, as the page's user, and
// decodes a success into out (when not nil). An error answer becomes an
// httpError with the API's status and message, shown to the user as is.
func (c *Console) call(r *request, method, target string, in any, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	return c.callRaw(r, method, target, "application/json", body, out)
}

func (c *Console) callRaw(r *request, method, target, contentType string, body io.Reader, out any) error {
	status, resp := c.api.Call(r.Context(), r.user, method, target, contentType, body)
	if status >= 300 {
		var env struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(resp, &env)
		msg := env.Error.Message
		if msg == "" {
			msg = http.StatusText(status)
		}
		return &httpError{status: status, msg: msg}
	}
	if out != nil {
		return json.Unmarshal(resp, out)
	}
	return nil
}
