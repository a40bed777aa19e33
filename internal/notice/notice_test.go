package notice

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/markwatch/markwatch/internal/domain"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// sample is the notice of decision the goldens render: every evidence
// field set, so that every line of a template is shown.
func sample(decision, violation string) *domain.SellerNotice {
	n := &domain.SellerNotice{
		SchemaVersion: domain.SchemaVersion, NoticeID: domain.NoticeID("c_1", decision),
		SellerID: "s_1", ListingID: "l_1", ListingVersion: 3, ComplaintID: "c_1", Decision: decision,
		Mark:      domain.NoticeMark{MarkID: "m_acme", Name: "ACME"},
		Holder:    domain.NoticeHolder{HolderID: "h_acme", Name: "Acme Corp."},
		Violation: violation,
		Evidence: domain.NoticeEvidence{
			MatchedWords:    []string{"ACME", "replica"},
			ReferenceImages: []string{"https://acme.example/official/bag.jpg"},
			Price: &domain.PriceComparison{
				Listing: domain.Money{Amount: "19.00", Currency: "USD"}, Reference: domain.Money{Amount: "250.00", Currency: "USD"},
			},
		},
		Policy: "counterfeit", Strikes: 1, NextStrike: "strike",
		CounterNotice: &domain.NoticeCounterNotice{How: CounterNoticeViaMarketplace, Until: t0.Add(30 * 24 * time.Hour)},
		At:            t0,
	}
	switch decision {
	case domain.NoticeWarning:
		// The educated warning: a first compatible-accessory case.
		n.Educated, n.Strikes, n.NextStrike = true, 0, "warned"
		if violation == domain.ViolationCounterfeitCue {
			n.Violation = domain.ViolationCompatibleAccessory
			n.Evidence = domain.NoticeEvidence{MatchedWords: []string{"ACME", "for ACME"}}
		}
	case domain.NoticeSuspension:
		n.Strikes, n.NextStrike = 3, "strike"
	case domain.NoticeTermination:
		n.Strikes, n.NextStrike = 5, "none"
	case domain.NoticeReinstatement:
		n.Policy, n.Strikes, n.CounterNotice, n.Automated, n.StrikeRemoved = "counter_notice", 0, nil, true, true
	case domain.NoticeSuspensionLifted:
		// About the account: no listing, complaint, mark, holder or
		// evidence, as review.LiftSuspension writes it.
		*n = domain.SellerNotice{
			SchemaVersion: domain.SchemaVersion, NoticeID: domain.SuspensionLiftedNoticeID("s_1", t0),
			SellerID: "s_1", Decision: decision, Policy: domain.PolicyLiftedOnReview, Strikes: 3, NextStrike: "suspended", At: t0,
		}
	}
	return n
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/notice -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestGolden renders each template (locale) for each decision, and each
// locale's education for each violation kind.
func TestGolden(t *testing.T) {
	for _, loc := range Locales {
		for _, d := range domain.NoticeDecisions {
			t.Run(loc+"/"+d, func(t *testing.T) {
				n := sample(d, domain.ViolationCounterfeitCue)
				if err := Render(n, loc); err != nil {
					t.Fatal(err)
				}
				if n.Locale != loc || n.TemplateVersion != TemplateVersion {
					t.Errorf("locale %q version %q, want %q %q", n.Locale, n.TemplateVersion, loc, TemplateVersion)
				}
				golden(t, loc+"_"+d, n.Subject+"\n\n"+n.Text)
			})
		}
		t.Run(loc+"/reinstatement-withdrawn", func(t *testing.T) {
			n := sample(domain.NoticeReinstatement, domain.ViolationMarkUse)
			n.Policy, n.Automated = "withdrawn", false
			if err := Render(n, loc); err != nil {
				t.Fatal(err)
			}
			golden(t, loc+"_reinstatement_withdrawn", n.Subject+"\n\n"+n.Text)
		})
		for _, v := range domain.NoticeViolations {
			t.Run(loc+"/"+v, func(t *testing.T) {
				n := sample(domain.NoticeTakedown, v)
				n.Evidence = domain.NoticeEvidence{MatchedWords: []string{"ACME"}}
				if err := Render(n, loc); err != nil {
					t.Fatal(err)
				}
				golden(t, loc+"_violation_"+v, n.Text)
			})
		}
	}
}

// TestRenderRefusesUnknown: a value no template covers is an error, not
// a blank in the seller's text.
func TestRenderRefusesUnknown(t *testing.T) {
	cases := map[string]func(*domain.SellerNotice){
		"decision":  func(n *domain.SellerNotice) { n.Decision = "fine" },
		"violation": func(n *domain.SellerNotice) { n.Violation = "unheard_of" },
		"policy":    func(n *domain.SellerNotice) { n.Policy = "whim" },
		"next":      func(n *domain.SellerNotice) { n.NextStrike = "jail" },
		"how":       func(n *domain.SellerNotice) { n.CounterNotice.How = "pigeon" },
	}
	for name, mutate := range cases {
		for _, loc := range Locales {
			t.Run(name+"/"+loc, func(t *testing.T) {
				n := sample(domain.NoticeTakedown, domain.ViolationMarkUse)
				mutate(n)
				if err := Render(n, loc); err == nil {
					t.Errorf("rendered %q", n.Text)
				}
			})
		}
	}
}

// TestNoticeNeverLeaks: whatever a notice's fields hold, the text shows
// only them: no "<no value>" blanks.
func TestRenderComplete(t *testing.T) {
	for _, loc := range Locales {
		for _, d := range domain.NoticeDecisions {
			n := sample(d, domain.ViolationOfficialPhotos)
			if err := Render(n, loc); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(n.Text, "<no value>") || n.Subject == "" || strings.Contains(n.Subject, "\n") {
				t.Errorf("%s/%s: subject %q text %q", loc, d, n.Subject, n.Text)
			}
		}
	}
}

func TestLocale(t *testing.T) {
	for in, want := range map[string]string{
		"": "en", "en-GB": "en", "zh-CN": "zh", "zh_Hant_TW": "zh", "ES-mx": "es", "ru": "ru", "de-DE": "en", " fr ": "en",
	} {
		if got := Locale(in); got != want {
			t.Errorf("Locale(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestViolation(t *testing.T) {
	ev := func(kinds ...string) []domain.Evidence {
		var out []domain.Evidence
		for _, k := range kinds {
			out = append(out, domain.Evidence{Matcher: "m", Score: 0.5, Kind: k})
		}
		return out
	}
	cases := []struct {
		name     string
		evidence []domain.Evidence
		reason   string
		want     string
	}{
		{"nominative beats cue", ev("exact", "cue", "nominative"), "counterfeit", domain.ViolationCompatibleAccessory},
		{"cue", ev("exact", "cue"), "counterfeit", domain.ViolationCounterfeitCue},
		{"official photo", ev("official_photo"), "counterfeit", domain.ViolationOfficialPhotos},
		{"logo", ev("logo", "exact"), "counterfeit", domain.ViolationOfficialPhotos},
		{"fuzzy", ev("fuzzy"), "counterfeit", domain.ViolationLookAlikeBrand},
		{"leet", ev("leet"), "counterfeit", domain.ViolationObfuscatedMark},
		{"price", ev("exact", "below_floor"), "price_below_floor", domain.ViolationPriceBelowFloor},
		{"manual, by reason", nil, "official_photo_reuse", domain.ViolationOfficialPhotos},
		{"manual, plain", ev("exact"), "counterfeit", domain.ViolationCounterfeitCue},
		{"nothing", nil, "", domain.ViolationMarkUse},
		{"zero-score nominative is no reason", []domain.Evidence{{Matcher: "seller", Kind: "nominative"}}, "", domain.ViolationMarkUse},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Violation(&domain.Complaint{Evidence: c.evidence}, c.reason); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

// TestSellerEvidence: the seller sees its own words, the mark's public
// reference URLs and the price comparison; not the authorized sellers,
// not the explanation, not its listing's image URLs as references.
func TestSellerEvidence(t *testing.T) {
	mark := &domain.Mark{
		Name: "ACME", OfficialImages: []string{"https://acme.example/o.jpg"}, Logos: []string{"https://acme.example/logo.png"},
		AuthorizedSellers: []string{"s_other"},
		ReferencePrices: []domain.ReferencePrice{
			{Amount: "200.00", Currency: "USD"}, {Category: "bags", Amount: "250.00", Currency: "USD"}, {Amount: "180", Currency: "EUR"},
		},
	}
	c := &domain.Complaint{
		Explanation: "holder says: internal note", SellerID: "s_1",
		Evidence: []domain.Evidence{
			{Matcher: "text", Score: 0.9, Field: "title", Match: "ACME", Kind: "exact"},
			{Matcher: "cue", Score: 0.5, Field: "description", Match: "replica", Kind: "cue"},
			{Matcher: "text", Score: 0.9, Field: "title", Match: "ACME", Kind: "exact"},
			{Matcher: "image", Score: 0.8, Field: "images[0]", Match: "https://seller.example/1.jpg", Kind: "official_photo",
				Detail: "matches official photo https://acme.example/o.jpg (distance 3/64)"},
			{Matcher: "seller", Score: 0, Field: "seller", Match: "s_other", Kind: "authorized"},
			{Matcher: "price", Score: 0.6, Field: "price", Match: "19.00 USD", Kind: "below_floor"},
		},
		Listing: &domain.ListingSnapshot{Title: "ACME replica", Category: "bags", Price: &domain.Money{Amount: "19.00", Currency: "USD"}},
	}
	got := SellerEvidence(c, mark)
	if strings.Join(got.MatchedWords, ",") != "ACME,replica" {
		t.Errorf("matched words %v", got.MatchedWords)
	}
	if strings.Join(got.ReferenceImages, ",") != "https://acme.example/o.jpg" {
		t.Errorf("reference images %v", got.ReferenceImages)
	}
	// A logo found on the goods in the seller's own photo, whole or in
	// part, names the logo; a reference the mark does not publish is not
	// copied.
	for _, kind := range []string{"logo_in_photo", "logo_partial"} {
		lc := *c
		lc.Evidence = []domain.Evidence{
			{Matcher: "logo", Score: 0.7, Field: "images[1]", Match: "https://seller.example/2.jpg", Kind: kind, Reference: "https://acme.example/logo.png",
				Detail: "logo https://acme.example/logo.png found in the photo at 10,20 80×40 (30 matching keypoints, scale 0.40, rotated 5°)"},
			{Matcher: "logo", Score: 0.7, Field: "images[2]", Kind: kind, Reference: "https://other.example/logo.png"},
		}
		if got := SellerEvidence(&lc, mark); strings.Join(got.ReferenceImages, ",") != "https://acme.example/logo.png" || len(got.MatchedWords) != 0 {
			t.Errorf("%s: reference images %v, words %v", kind, got.ReferenceImages, got.MatchedWords)
		}
	}
	if got.Price == nil || got.Price.Reference.Amount != "250.00" || got.Price.Listing.Amount != "19.00" {
		t.Errorf("price %+v", got.Price)
	}
}

// validate checks n, as JSON, against sch.
func validate(t *testing.T, sch *jsonschema.Schema, n *domain.SellerNotice) error {
	t.Helper()
	data, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(doc)
}

// TestNoticesMatchSchema: every rendered notice, in every locale, is
// valid under configs/schemas/seller-notice.schema.json.
func TestNoticesMatchSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(filepath.Join("..", "..", "configs", "schemas", "seller-notice.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range Locales {
		for _, d := range domain.NoticeDecisions {
			n := sample(d, domain.ViolationPriceBelowFloor)
			if err := Render(n, loc); err != nil {
				t.Fatal(err)
			}
			if err := validate(t, sch, n); err != nil {
				t.Errorf("%s/%s: %v", loc, d, err)
			}
			if *update && loc == "en" && d == domain.NoticeTakedown {
				pretty, _ := json.MarshalIndent(n, "", "  ")
				if err := os.WriteFile(filepath.Join("..", "domain", "testdata", "seller-notice.good.json"), append(pretty, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// TestSchemaTiesAccountFields: only a suspension_lifted notice may lack a
// listing, complaint and violation, and only it may carry the policy
// lifted_on_review.
func TestSchemaTiesAccountFields(t *testing.T) {
	sch, err := jsonschema.NewCompiler().Compile(filepath.Join("..", "..", "configs", "schemas", "seller-notice.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(*domain.SellerNotice){
		"takedown without complaint": func(n *domain.SellerNotice) { n.ComplaintID = "" },
		"takedown without listing":   func(n *domain.SellerNotice) { n.ListingID = "" },
		"takedown without violation": func(n *domain.SellerNotice) { n.Violation = "" },
		"takedown lifted_on_review":  func(n *domain.SellerNotice) { n.Policy = domain.PolicyLiftedOnReview },
		"lift with complaint": func(n *domain.SellerNotice) {
			*n = *sample(domain.NoticeSuspensionLifted, "")
			n.ComplaintID = "c_1"
		},
		"lift with violation": func(n *domain.SellerNotice) {
			*n = *sample(domain.NoticeSuspensionLifted, "")
			n.Violation = domain.ViolationMarkUse
		},
		"lift for counterfeit": func(n *domain.SellerNotice) {
			*n = *sample(domain.NoticeSuspensionLifted, "")
			n.Policy = "counterfeit"
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			n := sample(domain.NoticeTakedown, domain.ViolationMarkUse)
			mutate(n)
			n.TemplateVersion, n.Locale, n.Subject, n.Text = TemplateVersion, "en", "s", "t"
			if err := validate(t, sch, n); err == nil {
				t.Errorf("schema accepts %+v", n)
			}
		})
	}
}
