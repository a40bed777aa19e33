// Package notice writes the statements of reasons sellers receive: it
// classifies the mistake a complaint shows (the violation kind, so that the
// education fits it), gathers the evidence a seller may see, and renders
// the notice's subject and text from versioned text/template files in the
// seller's language.
//
// The templates are embedded into the binary (templates/v1/*.tmpl), one
// file per language; a new wording is a new version directory, so that a
// notice's template_version says which text the seller read. It imports
// only internal/domain.
package notice

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// TemplateVersion is the version of the templates Render uses.
const TemplateVersion = "v1"

// DefaultLocale is the language of a listing whose locale has no template.
const DefaultLocale = "en"

// CounterNoticeViaMarketplace is SellerNotice.CounterNotice.How: the seller
// contests through the marketplace's counter-notice form, quoting the
// complaint id; the marketplace forwards it to markwatch.
const CounterNoticeViaMarketplace = "marketplace"

//go:embed templates/v1/*.tmpl
var templateFS embed.FS

// Locales are the languages with templates, DefaultLocale first.
var Locales = []string{"en", "zh", "es", "ru"}

// templates holds one parsed template set per locale; parsed once, since
// the files are part of the binary and a parse error is a build defect
// that the package's tests catch.
var templates = mustParse()

func mustParse() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, loc := range Locales {
		t, err := template.New(loc).Funcs(funcs).ParseFS(templateFS, "templates/"+TemplateVersion+"/"+loc+".tmpl")
		if err != nil {
			panic(fmt.Sprintf("notice: parse %s templates: %v", loc, err))
		}
		out[loc] = t
	}
	return out
}

// funcs are the helpers the templates use. unknown makes a value that no
// branch of a template covers an error instead of a silent blank.
var funcs = template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"unknown": func(what string, v any) (string, error) {
		return "", fmt.Errorf("no text for %s %q", what, v)
	},
}

// Locale picks the template language for a listing's locale (BCP 47, as
// "zh-CN", "es_MX", "RU"): its primary language when there are templates
// for it, DefaultLocale otherwise.
func Locale(listingLocale string) string {
	lang, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(listingLocale)), "-")
	lang, _, _ = strings.Cut(lang, "_")
	for _, l := range Locales {
		if l == lang {
			return l
		}
	}
	return DefaultLocale
}

// Render sets n's TemplateVersion, Locale (from listingLocale), Subject and
// Text. An error means a template has no text for one of n's values.
func Render(n *domain.SellerNotice, listingLocale string) error {
	n.TemplateVersion = TemplateVersion
	n.Locale = Locale(listingLocale)
	t := templates[n.Locale]
	var subject, text bytes.Buffer
	if err := t.ExecuteTemplate(&subject, "subject", n); err != nil {
		return fmt.Errorf("notice: render %s subject of %s: %w", n.Locale, n.Decision, err)
	}
	if err := t.ExecuteTemplate(&text, "text", n); err != nil {
		return fmt.Errorf("notice: render %s text of %s: %w", n.Locale, n.Decision, err)
	}
	n.Subject = strings.TrimSpace(subject.String())
	n.Text = strings.TrimSpace(text.String()) + "\n"
	return nil
}
