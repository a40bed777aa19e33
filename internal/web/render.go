package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/markwatch/markwatch/internal/api"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
)

// layoutData is what the layout template reads around every page.
type layoutData struct {
	Title string
	User  *store.User
	CSRF  string
	// Nav is the menu for the user's role.
	Nav  []navItem
	Path string
	Page any
}

type navItem struct {
	Href, Label string
	Current     bool
}

// parseTemplates parses each page with the layout, so that every page
// defines its own "content".
func parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"ago":     ago,
		"when":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"percent": func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
		"score":   func(f float64) string { return fmt.Sprintf("%.2f", f) },
		"join":    strings.Join,
		"until": func(t, now time.Time) string {
			d := t.Sub(now).Round(time.Minute)
			if d <= 0 {
				return "due now"
			}
			return "in " + human(d)
		},
		"add": func(a, b int) int { return a + b },
		"fieldOf": func(f *markEditForm, name, id, label, rows string) formField {
			return formField{Name: name, ID: id, Label: label, Rows: rows, Value: f.Values[name], Error: f.Errors[name]}
		},
		"split": strings.Fields,
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, err
		}
		pages[base] = t
	}
	return pages, nil
}

// render writes the page name with the layout. The page is rendered into a
// buffer first, so that a template error is a clean 500, not half a page.
func (c *Console) render(w http.ResponseWriter, r *request, status int, name, title string, data any) error {
	t, ok := c.pages[name]
	if !ok {
		return fmt.Errorf("web: no template %s", name)
	}
	ld := layoutData{Title: title, User: r.user, Page: data, Path: r.URL.Path}
	if r.sess != nil {
		ld.CSRF = r.sess.CSRF
		ld.Nav = nav(r.user, r.URL.Path)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", ld); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

func nav(u *store.User, current string) []navItem {
	var items []navItem
	add := func(href, label string) {
		items = append(items, navItem{Href: href, Label: label, Current: current == href || strings.HasPrefix(current, href+"/")})
	}
	switch identity.Role(u.Role) {
	case identity.RoleReviewer:
		add("/queue", "Queue")
		add("/counter-notices", "Counter-notices")
		add("/second-look", "Second look")
	case identity.RoleAdmin:
		add("/queue", "Queue")
		add("/counter-notices", "Counter-notices")
		add("/second-look", "Second look")
		add("/admin/marks", "Marks")
		add("/admin/sellers", "Sellers")
		add("/admin/holders", "Holders")
		add("/admin/users", "Users")
		add("/admin/audit", "Audit log")
	case identity.RoleBrandOwner:
		add("/marks", "Marks")
		add("/portal/complaints", "Complaints")
		add("/portal/complaints/new", "File a complaint")
	}
	return items
}

// errorPage is the data of the error template.
type errorPage struct {
	Status  int
	Message string
}

// httpError is an error with the status and message to show.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func notFound() error { return &httpError{status: http.StatusNotFound, msg: "Not found."} }

func badInput(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// renderError shows err as a page (or, to a fetch, as plain text).
func (c *Console) renderError(w http.ResponseWriter, r *request, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong; it has been logged."
	var he *httpError
	var ce *review.ClaimedError
	switch {
	case errors.As(err, &he):
		status, msg = he.status, he.msg
	case errors.Is(err, identity.ErrHidden), errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, "Not found."
	case errors.Is(err, identity.ErrForbidden):
		status, msg = http.StatusForbidden, "Your role may not do this."
	case errors.Is(err, errUnauthenticated), errors.Is(err, identity.ErrUnauthenticated):
		status, msg = http.StatusUnauthorized, "Log in first."
	case errors.Is(err, errCSRF):
		status, msg = http.StatusForbidden, err.Error()
	case errors.As(err, &ce):
		status, msg = http.StatusConflict, err.Error()
	default:
		if m, ok := api.ClientError(err); ok {
			status, msg = http.StatusBadRequest, m
		}
	}
	if status >= 500 {
		c.log.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "error", err)
	}
	if r.Header.Get("X-CSRF-Token") != "" || r.Header.Get("Accept") == "text/plain" {
		http.Error(w, msg, status)
		return
	}
	if rerr := c.render(w, r, status, "error", http.StatusText(status), errorPage{Status: status, Message: msg}); rerr != nil {
		c.log.ErrorContext(r.Context(), "render error page", "error", rerr)
		http.Error(w, msg, status)
	}
}

// ago says how long ago t was, coarsely.
func ago(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if d := time.Since(t); d < time.Minute {
		return "just now"
	}
	return human(time.Since(t)) + " ago"
}

func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(math.Round(d.Hours()/24)))
}

// formField is one labelled textarea of a form, with the error of its
// last submission beside it (see the "editField" template).
type formField struct {
	Name, ID, Label, Rows, Value, Error string
}
