package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
)

// tenantRule says how a route confines a brand owner to its own rights
// holder. Other roles are not tenants: they see every holder's objects.
type tenantRule int

const (
	// tenantNone: the route touches no holder's object, or is closed to
	// brand owners.
	tenantNone tenantRule = iota + 1
	// tenantHolderPath: {id} is a holder id and must be the brand owner's.
	tenantHolderPath
	// tenantComplaintPath: {id} is a complaint id whose holder must be the
	// brand owner's. The complaint is loaded once, here, for the handler.
	tenantComplaintPath
	// tenantCredentials: the handler acts for the caller's own holder,
	// taken from its credentials (a brand owner's manual complaint).
	tenantCredentials
	// tenantMarkPath: {id} is a mark id whose holder must be the brand
	// owner's. The mark is loaded once, here, for the handler.
	tenantMarkPath
)

func (t tenantRule) String() string {
	switch t {
	case tenantNone:
		return "none"
	case tenantHolderPath:
		return "holder-path"
	case tenantComplaintPath:
		return "complaint-path"
	case tenantCredentials:
		return "credentials"
	case tenantMarkPath:
		return "mark-path"
	}
	return fmt.Sprintf("tenantRule(%d)", int(t))
}

// route is one entry of the route table.
type route struct {
	method  string
	pattern string
	// public routes skip authentication; every other route names the
	// roles it allows.
	public  bool
	allow   []identity.Role
	tenant  tenantRule
	handler func(w http.ResponseWriter, r *request) error
	// maxBody, when set, replaces the API's body cap (for uploads).
	maxBody int64
	// files, when set, are the fields of a multipart/form-data body of
	// uploaded files, documented instead of a JSON body.
	files []string

	// The rest documents the route in the OpenAPI document: a summary,
	// the success status, the query parameters, and zero values of the
	// request and response body types (nil for none).
	summary string
	status  int
	query   []string
	in, out any
}

// request is an incoming request with what the wrapper learnt about it.
type request struct {
	*http.Request
	// user is the authenticated caller; nil on public routes.
	user *store.User
	// complaint is the complaint named by {id} on tenantComplaintPath
	// routes, already checked against the caller's tenant.
	complaint *store.Complaint
	// mark is the mark named by {id} on tenantMarkPath routes, already
	// checked against the caller's tenant.
	mark *store.Mark
}

// routeTable is every route the API serves. The wrapper enforces each
// route's allow list and tenant rule before its handler runs.
func (a *API) routeTable() []route {
	const (
		admin       = identity.RoleAdmin
		reviewer    = identity.RoleReviewer
		brandOwner  = identity.RoleBrandOwner
		marketplace = identity.RoleMarketplace
	)
	roles := func(r ...identity.Role) []identity.Role { return r }
	return []route{
		{method: "GET", pattern: "/healthz", public: true, tenant: tenantNone, handler: a.healthz,
			summary: "Liveness.", status: 200, out: map[string]string{}},
		{method: "GET", pattern: "/v1/openapi.json", public: true, tenant: tenantNone, handler: a.openAPI,
			summary: "This API's OpenAPI 3.1 document.", status: 200, out: map[string]any{}},
		{method: "POST", pattern: "/v1/holders", allow: roles(admin), tenant: tenantNone, handler: a.createHolder,
			summary: "Create a rights holder.", status: 201, in: holderRequest{}, out: holderResponse{}},
		{method: "GET", pattern: "/v1/holders/{id}", allow: roles(admin, brandOwner), tenant: tenantHolderPath, handler: a.getHolder,
			summary: "A rights holder with its standing as a notifier.", status: 200, out: holderResponse{}},
		{method: "POST", pattern: "/v1/complaints", allow: roles(brandOwner, admin), tenant: tenantCredentials, handler: a.submitComplaint,
			summary: "File a manual complaint through an active mark: a brand owner through its own holder's, an admin on behalf of the mark's holder; it reaches the queue through the complaints topic. 422 mark_unknown for a missing mark or another holder's, 422 mark_not_active for a pending, suspended or removed one.",
			status:  202, in: complaintRequest{}, out: submittedResponse{}},
		{method: "GET", pattern: "/v1/complaints/{id}", allow: roles(admin, reviewer, brandOwner), tenant: tenantComplaintPath, handler: a.getComplaint,
			summary: "A complaint with its evidence and review state.", status: 200, out: complaintResponse{}},
		{method: "POST", pattern: "/v1/complaints/{id}/decision", allow: roles(admin, reviewer), tenant: tenantComplaintPath, handler: a.decide,
			summary: "Uphold or reject an open or contested complaint; 409 when another decision got there first.",
			status:  200, in: decisionRequest{}, out: complaintResponse{}},
		{method: "POST", pattern: "/v1/complaints/decisions", allow: roles(admin, reviewer), tenant: tenantNone, handler: a.decideBulk,
			summary: "Decide up to 100 complaints at once; each item succeeds or fails on its own.", status: 200, in: bulkDecisionRequest{}, out: bulkDecisionResponse{}},
		{method: "POST", pattern: "/v1/complaints/{id}/counter-notice", allow: roles(marketplace), tenant: tenantComplaintPath, handler: a.counterNotice,
			summary: "File a seller's counter-notice against an upheld complaint; 409 when the complaint is not upheld or its counter-notice window (review.counter_notice_window after the uphold, as the seller's notices state) has closed.", status: 200, in: counterNoticeRequest{}, out: counterNoticeResponse{}},
		{method: "POST", pattern: "/v1/complaints/{id}/escalate", allow: roles(admin, brandOwner), tenant: tenantComplaintPath, handler: a.escalate,
			summary: "Maintain a contested complaint: the listing stays down until a reviewer decides.", status: 200, out: complaintResponse{}},
		{method: "GET", pattern: "/v1/complaints/{id}/messages", allow: roles(admin, reviewer, brandOwner, marketplace), tenant: tenantComplaintPath, handler: a.listMessages,
			summary: "The complaint's thread between its rights holder and the listing's seller, oldest first, a page at a time; a brand owner reads only its own holder's complaints.",
			status:  200, query: messageParams, out: messageListResponse{}},
		{method: "POST", pattern: "/v1/complaints/{id}/messages", allow: roles(brandOwner, marketplace), tenant: tenantComplaintPath, handler: a.postMessage,
			summary: "Post a plain-text message (at most 4000 bytes) to the complaint's thread: a brand owner speaks for its own holder, the marketplace forwards the seller's. Audited.",
			status:  201, in: messageRequest{}, out: messageResponse{}},
		{method: "POST", pattern: "/v1/complaints/{id}/withdraw", allow: roles(brandOwner, admin), tenant: tenantComplaintPath, handler: a.withdraw,
			summary: "Withdraw a complaint for its holder, with a reason posted to the thread: an open complaint closes as rejected, an upheld or contested one is reinstated (strike removed, seller told). 409 for a complaint already closed. Audited.",
			status:  200, in: withdrawRequest{}, out: complaintResponse{}},
		{method: "GET", pattern: "/v1/sellers/{id}", allow: roles(admin, reviewer, marketplace), tenant: tenantNone, handler: a.getSeller,
			summary: "A seller's status and strikes.", status: 200, out: sellerResponse{}},
		// Not brand owners: a network names other sellers and their
		// contact handles, evidence about sellers beyond one holder's
		// complaints; not the marketplace: links are markwatch's
		// inference for review, not a seller action.
		{method: "GET", pattern: "/v1/sellers/{id}/network", allow: roles(admin, reviewer), tenant: tenantNone, handler: a.getSellerNetwork,
			summary: "The seller's network: the sellers linked to it by a shared contact handle, listing photo, ship-from or payout account (each a link's evidence, with the listing it was seen in), and their strikes. A key shared by more sellers than review.networks.common_at links nobody. A seller never linked is a network of itself.",
			status:  200, out: networkResponse{}},
		{method: "POST", pattern: "/v1/sellers/{id}/network/decisions", allow: roles(admin, reviewer), tenant: tenantNone, handler: a.decideNetwork,
			summary: "Propose one decision for the seller's network and apply it to the open complaints of each seller named in seller_ids (at most 100, each a seller of the network, decided on its own): every complaint is decided in its own transaction, as by POST /v1/complaints/{id}/decision, and the results say per seller what was decided and what failed. The proposal and each seller's outcome are audited.",
			status:  200, in: networkActionRequest{}, out: networkActionResponse{}},
		{method: "POST", pattern: "/v1/sellers/{id}/lift-suspension", allow: roles(admin), tenant: tenantNone, handler: a.liftSuspension,
			summary: "Return a suspended seller to active (audited, with a seller-action event); 409 when the seller is not suspended.",
			status:  200, in: liftRequest{}, out: sellerResponse{}},
		{method: "GET", pattern: "/v1/audit", allow: roles(admin), tenant: tenantNone, handler: a.auditLog,
			summary: "The audit log, oldest first, a page at a time.", status: 200, query: auditParams, out: auditResponse{}},
		{method: "GET", pattern: "/v1/complaints", allow: roles(admin, reviewer, brandOwner), tenant: tenantCredentials, handler: a.listComplaints,
			summary: "The complaint queue, good-faith holders first, then by score and age (with q too): filters (matcher among them), full-text search (q), counts per filter option (counts=true) and cursor pagination; a brand owner sees only its own holder's complaints.",
			status:  200, query: listParams, out: complaintListResponse{}},
		{method: "POST", pattern: "/v1/marks", allow: roles(admin, brandOwner), tenant: tenantCredentials, handler: a.createMark,
			summary: "Register a mark with the proof of its rights; it starts pending until an admin verifies it. A brand owner registers for its own holder.",
			status:  201, in: markRequest{}, out: markResponse{}},
		{method: "GET", pattern: "/v1/marks", allow: roles(admin, brandOwner), tenant: tenantCredentials, handler: a.listMarks,
			summary: "Marks in id order, a page at a time; a brand owner sees only its own holder's.", status: 200, query: markListParams, out: markListResponse{}},
		{method: "GET", pattern: "/v1/marks/{id}", allow: roles(admin, brandOwner), tenant: tenantMarkPath, handler: a.getMark,
			summary: "A mark with its status and image hashes.", status: 200, out: markResponse{}},
		{method: "PATCH", pattern: "/v1/marks/{id}", allow: roles(admin, brandOwner), tenant: tenantMarkPath, handler: a.editMark,
			summary: "Edit what a holder keeps current on its mark: variants (and transliterations), authorized sellers, reference prices. A list given replaces the mark's whole, one left out stays; version is the mark's version the edit starts from (409 when the mark changed since, so no edit silently undoes another). Validated like a registration, audited (mark.edit), at the next version; an active mark is published to the marks topic, and new variants are swept again. 409 for a removed mark.",
			status:  200, in: markEditRequest{}, out: markResponse{}},
		{method: "POST", pattern: "/v1/marks/{id}/images", allow: roles(admin, brandOwner), tenant: tenantMarkPath, handler: a.addMarkImages,
			summary: "Upload reference images as multipart/form-data, files in fields logo or official (JPEG, PNG, GIF or WebP); their perceptual hashes join the mark's image_hashes as upload:<sha256>.",
			status:  200, files: uploadFields, out: markImagesResponse{}, maxBody: a.marks.maxUpload},
		{method: "POST", pattern: "/v1/marks/{id}/verify", allow: roles(admin), tenant: tenantMarkPath, handler: a.verifyMark,
			summary: "Verify a pending or suspended mark: it becomes active and is published to the marks topic.", status: 200, out: markResponse{}},
		{method: "POST", pattern: "/v1/marks/{id}/suspend", allow: roles(admin), tenant: tenantMarkPath, handler: a.suspendMark,
			summary: "Suspend a mark: detectors stop watching it (a tombstone on the marks topic).", status: 200, out: markResponse{}},
		{method: "POST", pattern: "/v1/marks/{id}/remove", allow: roles(admin), tenant: tenantMarkPath, handler: a.removeMark,
			summary: "Remove a mark for good (a tombstone on the marks topic); a removed mark is kept for the audit trail but cannot be verified again.", status: 200, out: markResponse{}},
		{method: "GET", pattern: "/v1/marks/{id}/calibration", allow: roles(admin, reviewer, brandOwner), tenant: tenantMarkPath, handler: a.markCalibration,
			summary: "How the mark's automatic complaints fared in review over the last days (default 90): precision per mark and per matcher, score distributions of upheld and rejected complaints, the recommended threshold (lowest keeping the precision target over enough decisions) and a what-if per threshold. Advice only: an admin applies it.",
			status:  200, query: calibrationParams, out: calibrationResponse{}},
		{method: "POST", pattern: "/v1/marks/{id}/threshold", allow: roles(admin), tenant: tenantMarkPath, handler: a.setMarkThreshold,
			summary: "Set the mark's complaint threshold (audited with the recommendation of the time); an active mark reaches the detectors through the marks topic. 409 when version is given and the mark changed since.",
			status:  200, in: thresholdRequest{}, out: markResponse{}},
		{method: "POST", pattern: "/v1/marks/{id}/quarantine/release", allow: roles(admin), tenant: tenantMarkPath, handler: a.releaseQuarantine,
			summary: "Release a quarantine of the mark (kind and ref as in mark.quarantines), with a reason; audited, and an active mark reaches the detectors through the marks topic. The review service does not quarantine it again within its baseline window. 409 not_quarantined when no such quarantine holds.",
			status:  200, in: releaseRequest{}, out: markResponse{}},
		{method: "POST", pattern: "/v1/complaints/{id}/negative-bank", allow: roles(admin, reviewer), tenant: tenantComplaintPath, handler: a.addToBank,
			summary: "Mark a piece of a rejected complaint's evidence as not distinctive: an image match banks the reference image's hashes, a text match its phrase, for the complaint's mark (scope mark) or every mark (global). Audited; detectors suppress such matches from then on through the negative-banks topic. 409 not_rejected unless the complaint is rejected.",
			status:  201, in: bankRequest{}, out: bankEntryResponse{}},
		{method: "GET", pattern: "/v1/negative-bank", allow: roles(admin, reviewer), tenant: tenantNone, handler: a.listBank,
			summary: "The negative bank, newest first: with mark_id that mark's entries and the global ones, without it every entry; removed=true includes undone entries.",
			status:  200, query: bankListParams, out: bankListResponse{}},
		{method: "POST", pattern: "/v1/negative-bank/{id}/undo", allow: roles(admin, reviewer), tenant: tenantNone, handler: a.undoBank,
			summary: "Undo a negative-bank entry: audited, and a tombstone on the negative-banks topic makes detectors file such matches again. 404 when the entry does not exist or was undone already.",
			status:  200, out: bankEntryResponse{}},
	}
}

// check refuses a route whose authorization rule is missing or
// inconsistent, so that New fails rather than serve it.
func (rt route) check() error {
	name := rt.method + " " + rt.pattern
	switch {
	case rt.handler == nil:
		return fmt.Errorf("route %s: no handler", name)
	case rt.summary == "" || rt.status == 0:
		return fmt.Errorf("route %s: undocumented (no summary or status)", name)
	case rt.public && len(rt.allow) > 0:
		return fmt.Errorf("route %s: public and role-restricted at once", name)
	case !rt.public && len(rt.allow) == 0:
		return fmt.Errorf("route %s: no roles allowed and not public", name)
	case rt.tenant < tenantNone || rt.tenant > tenantMarkPath:
		return fmt.Errorf("route %s: no tenant rule", name)
	case rt.public && rt.tenant != tenantNone:
		return fmt.Errorf("route %s: public with tenant rule %s", name, rt.tenant)
	}
	for _, role := range rt.allow {
		if !slices.Contains(identity.Roles(), role) {
			return fmt.Errorf("route %s: unknown role %q", name, role)
		}
	}
	return nil
}

// allows tells whether u's role is on the route's allow list (the tests'
// expectation; requests go through identity.Authorize).
func (rt route) allows(u *store.User) bool {
	return slices.Contains(rt.allow, identity.Role(u.Role))
}

// Allowed returns the roles that may call the route method pattern (as
// written in the route table, e.g. "POST /v1/complaints/{id}/decision"),
// and whether there is such a route. The console takes its pages' roles
// from here wherever a page does what a route does, so that the two cannot
// drift apart.
func (a *API) Allowed(method, pattern string) ([]identity.Role, bool) {
	for _, rt := range a.routes {
		if rt.method == method && rt.pattern == pattern {
			return slices.Clone(rt.allow), true
		}
	}
	return nil, false
}

func (a *API) authenticate(r *http.Request) (*store.User, error) {
	if u, ok := r.Context().Value(callerKey{}).(*store.User); ok && u != nil {
		return u, nil // an in-process Call, authenticated by its caller
	}
	u, err := identity.Authenticate(r.Context(), a.store, r.Header.Get("Authorization"))
	if errors.Is(err, identity.ErrUnauthenticated) {
		return nil, errUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// checkTenant loads the object the route's tenant rule names and asks
// identity.Authorize whether the caller may act on it. A brand owner asking
// for another holder's object gets the same 404 as for a missing one.
func (a *API) checkTenant(rt route, r *request) error {
	scope, what := identity.Unowned(), ""
	switch rt.tenant {
	case tenantHolderPath:
		scope, what = identity.OwnedBy(r.PathValue("id")), "holder"
	case tenantComplaintPath:
		c, err := a.store.GetComplaint(r.Context(), r.PathValue("id"))
		if errors.Is(err, store.ErrNotFound) {
			return notFound("complaint")
		}
		if err != nil {
			return err
		}
		scope, what = identity.OwnedBy(c.Body.HolderID), "complaint"
		r.complaint = &c
	case tenantMarkPath:
		m, err := a.store.GetMark(r.Context(), r.PathValue("id"))
		if errors.Is(err, store.ErrNotFound) {
			return notFound("mark")
		}
		if err != nil {
			return err
		}
		scope, what = identity.OwnedBy(m.Body.HolderID), "mark"
		r.mark = &m
	}
	return authzError(identity.Authorize(r.user, rt.allow, scope), what)
}

// authzError maps identity.Authorize's answer onto the envelope's errors;
// what names the object a hidden one is reported missing as.
func authzError(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, identity.ErrHidden):
		return notFound(what)
	case errors.Is(err, identity.ErrForbidden):
		return errForbidden
	case errors.Is(err, identity.ErrUnauthenticated):
		return errUnauthenticated
	}
	return err
}
