package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/markwatch/markwatch/internal/calibration"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
)

// chartDays is how far back the brand owner's charts go.
const chartDays = 30

// markRow is one mark in the list, with its figures.
type markRow struct {
	M       store.Mark
	Auto    int
	Decided int
	Upheld  int
	Share   string
	Repeat  int
	Chart   chart
}

type marksPage struct {
	Marks []markRow
	Admin bool
}

func (c *Console) marks(w http.ResponseWriter, r *request) error {
	q := store.MarkQuery{Limit: 1000}
	if r.isRole(identity.RoleBrandOwner) {
		q.HolderID = r.user.HolderID // the tenant, from the session
	}
	ms, err := c.store.ListMarks(r.Context(), q)
	if err != nil {
		return err
	}
	p := marksPage{Admin: r.isRole(identity.RoleAdmin)}
	figures := map[string][]store.MarkDay{}
	repeat := map[string]int{}
	if r.isRole(identity.RoleBrandOwner) {
		days, err := c.store.MarkFigures(r.Context(), r.user.HolderID, c.now().AddDate(0, 0, -chartDays))
		if err != nil {
			return err
		}
		for _, d := range days {
			figures[d.MarkID] = append(figures[d.MarkID], d)
		}
		if repeat, err = c.store.RepeatSellers(r.Context(), r.user.HolderID); err != nil {
			return err
		}
	}
	for _, m := range ms {
		if r.authorize(m.Body.HolderID) != nil {
			continue
		}
		row := markRow{M: m, Repeat: repeat[m.Body.MarkID]}
		for _, d := range figures[m.Body.MarkID] {
			row.Auto += d.Auto
			row.Decided += d.Decided
			row.Upheld += d.Upheld
		}
		row.Share = "—"
		if row.Decided > 0 {
			row.Share = strconv.Itoa(100*row.Upheld/row.Decided) + "%"
		}
		row.Chart = dailyChart(figures[m.Body.MarkID], c.now(), chartDays)
		p.Marks = append(p.Marks, row)
	}
	return c.render(w, r, http.StatusOK, "marks", "Marks", p)
}

// markForm is the data of the registration form, refilled after an error.
type markForm struct {
	Admin  bool
	Error  string
	Values map[string]string
}

func (c *Console) markForm(w http.ResponseWriter, r *request) error {
	return c.render(w, r, http.StatusOK, "mark_new", "Register a mark", markForm{Admin: r.isRole(identity.RoleAdmin), Values: map[string]string{}})
}

// errPriceLine is the help a badly written reference price line gets.
var errPriceLine = errors.New("one per line, as AMOUNT CURRENCY [CATEGORY], e.g. 1200.00 EUR handbags")

// parsePrices reads reference prices written one a line as AMOUNT
// CURRENCY [CATEGORY]; the API validates the amounts and currencies.
func parsePrices(s string) ([]domain.ReferencePrice, error) {
	prices := []domain.ReferencePrice{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 || len(f) > 3 {
			return nil, errPriceLine
		}
		p := domain.ReferencePrice{Amount: f[0], Currency: f[1]}
		if len(f) == 3 {
			p.Category = f[2]
		}
		prices = append(prices, p)
	}
	return prices, nil
}

// formatPrices writes prices as parsePrices reads them.
func formatPrices(ps []domain.ReferencePrice) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = strings.TrimSpace(p.Amount + " " + p.Currency + " " + p.Category)
	}
	return strings.Join(out, "\n")
}

// lines splits a textarea or comma list into trimmed non-empty entries.
func lines(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// createMark registers a mark through the API (POST /v1/marks), with every
// field of the API's request.
func (c *Console) createMark(w http.ResponseWriter, r *request) error {
	if err := r.ParseForm(); err != nil {
		return badInput("form: %v", err)
	}
	v := map[string]string{}
	for k := range r.PostForm {
		if k != "csrf" {
			v[k] = r.PostFormValue(k)
		}
	}
	fail := func(msg string) error {
		return c.render(w, r, http.StatusBadRequest, "mark_new", "Register a mark", markForm{Admin: r.isRole(identity.RoleAdmin), Error: msg, Values: v})
	}
	req := map[string]any{
		"name":               strings.TrimSpace(v["name"]),
		"variants":           lines(v["variants"]),
		"distinct_from":      lines(v["distinct_from"]),
		"logos":              lines(v["logos"]),
		"official_images":    lines(v["official_images"]),
		"categories":         lines(v["categories"]),
		"authorized_sellers": lines(v["authorized_sellers"]),
	}
	reg := map[string]any{"office": strings.TrimSpace(v["office"]), "number": strings.TrimSpace(v["number"]), "jurisdictions": lines(v["jurisdictions"])}
	var classes []int
	for _, s := range lines(v["classes"]) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return fail("Classes: whole numbers (Nice classes 1 to 45), separated by commas.")
		}
		classes = append(classes, n)
	}
	reg["classes"] = classes
	req["registration"] = reg
	prices, err := parsePrices(v["reference_prices"])
	if err != nil {
		return fail("Reference prices: " + err.Error())
	}
	req["reference_prices"] = prices
	if s := strings.TrimSpace(v["threshold"]); s != "" {
		t, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fail("Threshold: a number from 0 to 1.")
		}
		req["threshold"] = t
	}
	if r.isRole(identity.RoleAdmin) {
		req["holder_id"] = strings.TrimSpace(v["holder_id"])
	}
	var resp struct {
		MarkID string `json:"mark_id"`
	}
	err = c.call(r, "POST", "/v1/marks", req, &resp)
	var he *httpError
	if errors.As(err, &he) && he.status < 500 {
		return fail(he.msg)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/marks/"+url.PathEscape(resp.MarkID)+"?done=registered", http.StatusSeeOther)
	return nil
}

func (c *Console) loadMark(r *request) (store.Mark, error) {
	m, err := c.store.GetMark(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return store.Mark{}, notFound()
	}
	if err != nil {
		return store.Mark{}, err
	}
	if err := r.authorize(m.Body.HolderID); err != nil {
		return store.Mark{}, err
	}
	return m, nil
}

type markPage struct {
	M           store.Mark
	Calibration *markCalibration
	RefImages   []string
	Flash       string
	Error       string
	Uploaded    []domain.ImageHash
	// Previews are what the matcher made of each upload.
	Previews []uploadFigure
	// Figures are the mark's charts over time.
	Figures []barChart
	// Edit is the edit form, nil for a removed mark or a user the API
	// would not let edit it.
	Edit *markEditForm
	// CanRelease, CanUpload and CanApply show the quarantine release
	// form, the upload form and the form applying a recommended threshold
	// to whom the API routes they call would answer.
	CanRelease, CanUpload, CanApply bool
}

// markEditForm is the form editing a mark's variants, authorized sellers
// and reference prices: its values (the mark's, or what was sent), and the
// API's refusal beside the field it names (Errors by form field; "" for
// the form as a whole).
type markEditForm struct {
	Version int64
	Values  map[string]string
	Errors  map[string]string
}

// editFields are the edit form's fields, named as the API's.
var editFields = []string{"variants", "authorized_sellers", "reference_prices"}

func newMarkEditForm(m *store.Mark) *markEditForm {
	if m.Body.Status == domain.MarkRemoved {
		return nil
	}
	return &markEditForm{Version: m.Version, Errors: map[string]string{}, Values: map[string]string{
		"variants":           strings.Join(m.Body.Variants, "\n"),
		"authorized_sellers": strings.Join(m.Body.AuthorizedSellers, "\n"),
		"reference_prices":   formatPrices(m.Body.ReferencePrices),
	}}
}

func (c *Console) mark(w http.ResponseWriter, r *request) error {
	m, err := c.loadMark(r)
	if err != nil {
		return err
	}
	return c.renderMark(w, r, http.StatusOK, m, newMarkEditForm(&m))
}

// editMark edits the mark through the API (PATCH /v1/marks/{id}) with the
// version the form was read at, so that an edit made meanwhile by someone
// else is refused rather than overwritten. A refusal shows the form again
// with the message beside the field it names.
func (c *Console) editMark(w http.ResponseWriter, r *request) error {
	m, err := c.loadMark(r)
	if err != nil {
		return err
	}
	form := &markEditForm{Values: map[string]string{}, Errors: map[string]string{}, Version: m.Version}
	for _, k := range editFields {
		form.Values[k] = r.PostFormValue(k)
	}
	if v, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64); err == nil {
		form.Version = v
	}
	prices, err := parsePrices(form.Values["reference_prices"])
	if err != nil {
		form.Errors["reference_prices"] = err.Error()
		return c.renderMark(w, r, http.StatusBadRequest, m, form)
	}
	req := map[string]any{
		"version":            form.Version,
		"variants":           orEmpty(lines(form.Values["variants"])),
		"authorized_sellers": orEmpty(lines(form.Values["authorized_sellers"])),
		"reference_prices":   prices,
	}
	id := url.PathEscape(m.Body.MarkID)
	err = c.call(r, "PATCH", "/v1/marks/"+id, req, nil)
	var he *httpError
	if errors.As(err, &he) && he.status < 500 {
		// The API names the refused field first, as "field variants: …"
		// or as a path, "reference_prices[0].currency: …".
		field, rest := "", strings.TrimPrefix(he.msg, "field ")
		if name := rest[:strings.IndexAny(rest+".[:", ".[:")]; slices.Contains(editFields, name) {
			field = name
		}
		if he.status == http.StatusConflict {
			he.msg += " Reload the page to see the mark as it is now."
		}
		form.Errors[field] = he.msg
		return c.renderMark(w, r, he.status, m, form)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/marks/"+id+"?done="+url.QueryEscape("mark updated"), http.StatusSeeOther)
	return nil
}

// orEmpty is s, or an empty list for none: the API replaces a list given
// empty and keeps one left out.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (c *Console) renderMark(w http.ResponseWriter, r *request, status int, m store.Mark, edit *markEditForm) error {
	p := markPage{M: m, Flash: r.URL.Query().Get("done"), Error: r.URL.Query().Get("error"), Edit: edit}
	// Each form of the page is there for whom the API route it calls
	// would answer, by the same identity.Authorize.
	holder := m.Body.HolderID
	if !c.mayCall(r, "PATCH /v1/marks/{id}", holder) {
		p.Edit = nil
	}
	p.CanRelease = c.mayCall(r, "POST /v1/marks/{id}/quarantine/release", holder)
	p.CanUpload = c.mayCall(r, "POST /v1/marks/{id}/images", holder)
	p.CanApply = c.mayCall(r, "POST /v1/marks/{id}/threshold", holder)
	var err error
	if c.images != nil {
		p.RefImages = markImageRefs(&m.Body)
	}
	for _, h := range m.Body.ImageHashes {
		if strings.HasPrefix(h.URL, "upload:") {
			p.Uploaded = append(p.Uploaded, h)
		}
	}
	days, err := c.store.MarkFigures(r.Context(), m.Body.HolderID, c.now().AddDate(0, 0, -chartDays))
	if err != nil {
		return err
	}
	repeat, err := c.store.RepeatSellerTimes(r.Context(), m.Body.MarkID)
	if err != nil {
		return err
	}
	p.Figures = markFigures(m.Body.MarkID, days, repeat, c.now(), chartDays)
	previews, err := c.store.MarkPreviews(r.Context(), m.Body.MarkID)
	if err != nil {
		return err
	}
	for _, pv := range previews {
		p.Previews = append(p.Previews, newUploadFigure(pv))
	}
	if p.Calibration, err = c.markCalibration(r, m.Body.MarkID); err != nil {
		return err
	}
	return c.render(w, r, status, "mark", "Mark "+m.Body.Name, p)
}

// uploadImages passes the multipart upload to the API as it came, so that
// its size caps, format checks and hashing are the API's.
func (c *Console) uploadImages(w http.ResponseWriter, r *request) error {
	m, err := c.loadMark(r)
	if err != nil {
		return err
	}
	id := url.PathEscape(m.Body.MarkID)
	var resp struct {
		Added int `json:"added"`
	}
	err = c.callRaw(r, "POST", "/v1/marks/"+id+"/images", r.Header.Get("Content-Type"), r.Body, &resp)
	var he *httpError
	if errors.As(err, &he) && he.status < 500 {
		http.Redirect(w, r.Request, "/marks/"+id+"?error="+url.QueryEscape("Refused: "+he.msg), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	done := strconv.Itoa(resp.Added) + " image(s) added"
	if resp.Added == 0 {
		done = "no new image: those were already registered"
	}
	http.Redirect(w, r.Request, "/marks/"+id+"?done="+url.QueryEscape(done), http.StatusSeeOther)
	return nil
}

// portalComplaints lists the brand owner's complaints with their outcomes,
// through the API's search, which confines it to its holder.
func (c *Console) portalComplaints(w http.ResponseWriter, r *request) error {
	q := url.Values{"limit": {"100"}}
	status := r.URL.Query().Get("status")
	if status != "" {
		q.Set("status", status)
	}
	if s := r.URL.Query().Get("q"); s != "" {
		q.Set("q", s)
	}
	page, err := c.api.SearchComplaints(r.Context(), r.user, q)
	if err != nil {
		return err
	}
	p := struct {
		Rows     []store.Complaint
		Total    int
		Status   string
		Statuses []string
		Q        string
		Flash    string
	}{page.Complaints, page.Total, status,
		[]string{store.ComplaintOpen, store.ComplaintUpheld, store.ComplaintRejected, store.ComplaintContested, store.ComplaintReinstated},
		q.Get("q"), r.URL.Query().Get("done")}
	return c.render(w, r, http.StatusOK, "portal_complaints", "Complaints", p)
}

type complaintForm struct {
	Marks  []store.Mark
	Error  string
	Values map[string]string
}

func (c *Console) ownMarks(r *request) ([]store.Mark, error) {
	q := store.MarkQuery{Limit: 1000}
	if r.isRole(identity.RoleBrandOwner) {
		q.HolderID = r.user.HolderID
	}
	ms, err := c.store.ListMarks(r.Context(), q)
	return slices.DeleteFunc(ms, func(m store.Mark) bool { return r.authorize(m.Body.HolderID) != nil }), err
}

func (c *Console) complaintForm(w http.ResponseWriter, r *request) error {
	ms, err := c.ownMarks(r)
	if err != nil {
		return err
	}
	return c.render(w, r, http.StatusOK, "complaint_new", "File a complaint", complaintForm{Marks: ms, Values: map[string]string{}})
}

// fileComplaint files a manual complaint through the API (POST
// /v1/complaints), as the brand owner's own holder.
func (c *Console) fileComplaint(w http.ResponseWriter, r *request) error {
	v := map[string]string{}
	for _, k := range []string{"listing_id", "listing_url", "mark_id", "seller_id", "title", "explanation"} {
		v[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	explanation := v["explanation"]
	if v["listing_url"] != "" {
		u, err := url.Parse(v["listing_url"])
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c.renderComplaintForm(w, r, v, "Listing URL: an http(s) address.")
		}
		explanation = strings.TrimSpace(explanation + "\nListing: " + u.String())
	}
	req := map[string]any{"listing_id": v["listing_id"], "mark_id": v["mark_id"], "seller_id": v["seller_id"], "explanation": explanation}
	if v["title"] != "" {
		req["listing"] = map[string]any{"title": v["title"]}
	}
	var resp struct {
		ComplaintID string `json:"complaint_id"`
	}
	err := c.call(r, "POST", "/v1/complaints", req, &resp)
	var he *httpError
	if errors.As(err, &he) && he.status < 500 {
		return c.renderComplaintForm(w, r, v, he.msg)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/portal/complaints?done="+url.QueryEscape("filed "+resp.ComplaintID+"; it reaches the queue in a few seconds"), http.StatusSeeOther)
	return nil
}

func (c *Console) renderComplaintForm(w http.ResponseWriter, r *request, v map[string]string, msg string) error {
	ms, err := c.ownMarks(r)
	if err != nil {
		return err
	}
	return c.render(w, r, http.StatusBadRequest, "complaint_new", "File a complaint", complaintForm{Marks: ms, Error: msg, Values: v})
}

// chart is a server-rendered SVG bar chart: complaints per day, the upheld
// part darker.
type chart struct {
	Width, Height int
	Bars          []bar
	Max           int
	Label         string
}

type bar struct {
	X, W             int
	TotalY, TotalH   int
	UpheldY, UpheldH int
	Title            string
}

func dailyChart(days []store.MarkDay, now time.Time, n int) chart {
	const w, h, bw = 300, 60, 10
	ch := chart{Width: w, Height: h}
	byDay := map[string]store.MarkDay{}
	for _, d := range days {
		byDay[d.Day.Format("2006-01-02")] = d
		ch.Max = max(ch.Max, d.Auto+0)
		ch.Max = max(ch.Max, d.Decided)
	}
	if ch.Max == 0 {
		ch.Max = 1
	}
	start := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(n - 1))
	for i := range n {
		day := start.AddDate(0, 0, i)
		d := byDay[day.Format("2006-01-02")]
		total := max(d.Auto, d.Decided)
		th := total * (h - 2) / ch.Max
		uh := d.Upheld * (h - 2) / ch.Max
		ch.Bars = append(ch.Bars, bar{
			X: i * bw, W: bw - 2, TotalY: h - th, TotalH: th, UpheldY: h - uh, UpheldH: uh,
			Title: day.Format("Jan 2") + ": " + strconv.Itoa(d.Auto) + " auto, " + strconv.Itoa(d.Upheld) + " upheld",
		})
	}
	ch.Label = "Complaints per day over the last " + strconv.Itoa(n) + " days, upheld darker; busiest day " + strconv.Itoa(ch.Max)
	return ch
}

// markCalibration is the mark's calibration from decisions as the mark
// page shows it, numbers already formatted.
type markCalibration struct {
	WindowDays  int
	Decided     int
	Upheld      int
	Precision   string
	Target      string
	Threshold   string
	Recommended string
	Reason      string
	// Version is the mark's version the calibration was read at: an
	// admin's apply form sends it, so a mark changed since is refused.
	Version int64
	// Matchers has a row per matcher that gave evidence for a decided
	// complaint: its precision apart from the others'.
	Matchers []markMatcher
	// Scores is the score distribution of the upheld and rejected
	// complaints, the bands with any.
	Scores []markScoreBand
	// WhatIf has the rows of thresholds that would have filed anything.
	WhatIf []markWhatIf
}

type markWhatIf struct {
	Threshold, Precision   string
	Filed, Decided, Upheld int
}

type markMatcher struct {
	Matcher, Precision string
	Decided, Upheld    int
}

type markScoreBand struct {
	Band             string
	Upheld, Rejected int
}

// markCalibration reads the mark's calibration through the API (GET
// /v1/marks/{id}/calibration), which the mark page's viewers may read.
func (c *Console) markCalibration(r *request, markID string) (*markCalibration, error) {
	var resp struct {
		Threshold  *float64           `json:"threshold"`
		Version    int64              `json:"version"`
		Target     float64            `json:"target"`
		WindowDays int                `json:"window_days"`
		Report     calibration.Report `json:"calibration"`
	}
	if err := c.call(r, "GET", "/v1/marks/"+url.PathEscape(markID)+"/calibration", nil, &resp); err != nil {
		return nil, fmt.Errorf("calibration of mark %s: %w", markID, err)
	}
	ratio := func(p *float64) string {
		if p == nil {
			return "—"
		}
		return strconv.FormatFloat(*p, 'f', 3, 64)
	}
	rep := resp.Report
	mc := &markCalibration{
		WindowDays: resp.WindowDays, Decided: rep.Overall.Decided, Upheld: rep.Overall.Upheld,
		Precision: ratio(rep.Overall.Precision), Target: strconv.FormatFloat(resp.Target, 'f', 2, 64),
		Threshold: "default", Recommended: "none", Reason: rep.Reason, Version: resp.Version,
	}
	for _, m := range rep.Matchers {
		mc.Matchers = append(mc.Matchers, markMatcher{Matcher: m.Matcher, Precision: ratio(m.Precision), Decided: m.Decided, Upheld: m.Upheld})
	}
	for _, b := range rep.Overall.Scores {
		if b.Upheld+b.Rejected > 0 {
			mc.Scores = append(mc.Scores, markScoreBand{
				Band:   strconv.FormatFloat(b.From, 'f', 1, 64) + "–" + strconv.FormatFloat(b.To, 'f', 1, 64),
				Upheld: b.Upheld, Rejected: b.Rejected,
			})
		}
	}
	if resp.Threshold != nil {
		mc.Threshold = strconv.FormatFloat(*resp.Threshold, 'f', -1, 64)
	}
	if rep.Recommended != nil {
		mc.Recommended = strconv.FormatFloat(*rep.Recommended, 'f', 2, 64)
	}
	for _, w := range rep.WhatIf {
		if w.Filed > 0 {
			mc.WhatIf = append(mc.WhatIf, markWhatIf{
				Threshold: strconv.FormatFloat(w.Threshold, 'f', 2, 64), Precision: ratio(w.Precision),
				Filed: w.Filed, Decided: w.Decided, Upheld: w.Upheld,
			})
		}
	}
	return mc, nil
}

// uploadFigure is an uploaded reference image on the mark page: the
// picture of what is matched, and in words its size, the box and the
// warnings.
type uploadFigure struct {
	Src, Alt, Caption string
	Width, Height     int
	Warnings          []string
}

func newUploadFigure(pv store.MarkPreview) uploadFigure {
	rep := pv.Report
	c := rep.Content
	sha := strings.TrimPrefix(pv.URL, "upload:")
	f := uploadFigure{Src: "/img/marks/" + url.PathEscape(pv.MarkID) + "/uploads/" + url.PathEscape(sha), Warnings: rep.Warnings}
	// Drawn at most 200 pixels a side, in the box's aspect.
	scale := min(1, 200/float64(max(c.W, c.H, 1)))
	f.Width, f.Height = max(1, int(float64(c.W)*scale+0.5)), max(1, int(float64(c.H)*scale+0.5))
	what := "the whole image"
	if c.W != rep.Width || c.H != rep.Height {
		what = fmt.Sprintf("the %d×%d box at x %d, y %d inside its borders", c.W, c.H, c.X, c.Y)
	}
	f.Alt = fmt.Sprintf("What is matched of %s: %s, in grey as the matcher sees it", pv.FileName, what)
	f.Caption = fmt.Sprintf("%s (%s), %d×%d pixels: %s is matched, %d fingerprints", pv.FileName, pv.Kind, rep.Width, rep.Height, what, rep.Hashes)
	if rep.ContentOnly {
		f.Caption += "; the canvas around it is ignored"
	}
	if rep.Transparent > 0 {
		f.Caption += fmt.Sprintf("; %.0f%% transparent, seen on %s grounds", 100*rep.Transparent, strings.Join(rep.Grounds, " and "))
	}
	return f
}
