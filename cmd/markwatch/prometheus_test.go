package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/markwatch/markwatch/internal/testenv"
)

// TestPrometheusScrapesDev is the proof against a real Prometheus: Debian's
// prometheus binary scrapes a running `markwatch dev` every second with
// the shipped rules loaded; decisions are made through the API; then every
// dashboard query and every rule expression is evaluated through
// Prometheus's HTTP API. Each must return series where the data exists
// (alerts: nothing, the system is healthy, while the quantity each alert
// watches has series), and the precision shown must equal the decisions
// made. The table of results is logged (go test -v).
func TestPrometheusScrapesDev(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts markwatch dev and Prometheus")
	}
	promBin := testenv.Binary(t, "prometheus", "apt-get install prometheus")
	data := t.TempDir()
	d := startDev(t, data)
	toks, err := readTokens(filepath.Join(data, "demo-tokens.txt"))
	if err != nil {
		t.Fatal(err)
	}
	token := map[string]string{}
	for _, tk := range toks {
		token[tk.Role] = tk.Token
	}
	prom := startPrometheus(t, promBin, d.http)

	// Decisions only once Prometheus has seen the counters at zero, as a
	// long-running service's would be: then increase() counts them all.
	waitFor(t, time.Minute, "three scrapes of dev", func() bool {
		v, _ := prom.query(t, `count_over_time(up{job="markwatch-dev"}[1m])`)
		return len(v) == 1 && v[0].value >= 3
	})
	api := devAPI{t: t, base: "http://" + d.http}

	// A rights holder's manual complaint, for the per-holder view: it goes
	// through the outbox and the complaints topic into the queue.
	var submitted struct {
		ComplaintID string `json:"complaint_id"`
	}
	api.call("POST", "/v1/complaints", token["brand_owner"], map[string]any{
		"listing_id": "l-obs-manual", "mark_id": "mk-veltaro", "explanation": "our bag, sold as a replica",
	}, http.StatusAccepted, &submitted)

	// Six automatic complaints: four upheld, two rejected.
	var open []complaintView
	waitFor(t, time.Minute, "six open automatic complaints", func() bool {
		var page struct {
			Complaints []complaintView `json:"complaints"`
		}
		api.call("GET", "/v1/complaints?status=open&source=auto&limit=50", token["reviewer"], nil, http.StatusOK, &page)
		open = page.Complaints
		return len(open) >= 6
	})
	upheld := map[string]float64{}
	decided := map[string]float64{}
	for i, c := range open[:6] {
		verdict, reason := "uphold", "counterfeit"
		if i >= 4 {
			verdict, reason = "reject", "genuine"
		}
		api.call("POST", "/v1/complaints/"+c.ComplaintID+"/decision", token["reviewer"],
			map[string]any{"decision": verdict, "reason_code": reason}, http.StatusOK, nil)
		seen := map[string]bool{}
		for _, e := range c.Complaint.Evidence {
			if e.Score > 0 && !seen[e.Matcher] {
				seen[e.Matcher] = true
				decided[e.Matcher]++
				if verdict == "uphold" {
					upheld[e.Matcher]++
				}
			}
		}
	}
	waitFor(t, time.Minute, "the manual complaint in the queue", func() bool {
		resp := api.do("GET", "/v1/complaints/"+submitted.ComplaintID, token["reviewer"], nil)
		return resp == http.StatusOK
	})
	api.call("POST", "/v1/complaints/"+submitted.ComplaintID+"/decision", token["reviewer"],
		map[string]any{"decision": "uphold", "reason_code": "counterfeit"}, http.StatusOK, nil)
	api.do("GET", "/v1/complaints/c-no-such-complaint", token["reviewer"], nil) // a 404, for the 4xx ratio
	// Steady API traffic from now on, as a console in use makes: the API
	// panels' rates have something to divide by.
	stopTraffic := api.traffic(token["reviewer"], 100*time.Millisecond)
	defer stopTraffic()

	// Every decision scraped (the raw counters, which increase() would
	// extrapolate), then every rule group evaluated once more after that.
	waitFor(t, time.Minute, "the decisions in Prometheus", func() bool {
		v, _ := prom.query(t, `sum by (source) (markwatch_review_decisions_total)`)
		got := map[string]float64{}
		for _, s := range v {
			got[s.metric["source"]] = s.value
		}
		return got["auto"] == 6 && got["rights_holder"] == 1
	})
	scraped := time.Now()
	waitFor(t, 30*time.Second, "the rules evaluated on the decisions", func() bool {
		return prom.rulesEvaluatedAfter(t, scraped.Add(time.Second))
	})
	waitFor(t, 30*time.Second, "the holder view", func() bool {
		v, _ := prom.query(t, `markwatch_holder_decided_complaints`)
		return len(v) > 0
	})

	// From here on, queries are evaluated at one instant: that of a
	// successful scrape. A scrape slower than the 1 s
	// timeout (a loaded machine) marks every series of the target stale
	// until the next one, which would empty whichever query came then.
	waitFor(t, 30*time.Second, "a successful scrape", func() bool {
		v, _ := prom.query(t, `timestamp(up{job="markwatch-dev"} == 1)`)
		if len(v) != 1 {
			return false
		}
		prom.at = strconv.FormatFloat(v[0].value, 'f', 3, 64)
		return true
	})
	if v, err := prom.query(t, `count_over_time(up{job="markwatch-dev"}[10m]) - sum_over_time(up{job="markwatch-dev"}[10m])`); err == nil && len(v) == 1 {
		t.Logf("failed scrapes of dev so far: %v", v[0].value)
	}
	// The precision shown equals the decisions made.
	wantAuto := 4.0 / 6
	checkPrecision := func(name, expr string, by string, want map[string]float64) {
		t.Helper()
		v, err := prom.query(t, expr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := map[string]float64{}
		for _, s := range v {
			got[s.metric[by]] = s.value
		}
		for k, w := range want {
			if g, ok := got[k]; !ok || math.Abs(g-w) > 1e-9 {
				t.Errorf("%s{%s=%q} = %v (present %v), want %v", name, by, k, g, ok, w)
			}
		}
	}
	checkPrecision("recorded auto precision", `markwatch:complaint_precision:ratio1d`, "source",
		map[string]float64{"auto": wantAuto, "rights_holder": 1})
	checkPrecision("dashboard precision by source", dashboardExpr(t, "Precision by source (last 24h)", d.http), "source",
		map[string]float64{"auto": wantAuto, "rights_holder": 1})
	wantMatcher := map[string]float64{}
	for m, n := range decided {
		wantMatcher[m] = upheld[m] / n
	}
	if len(wantMatcher) == 0 {
		t.Fatal("the decided complaints carry no matcher evidence")
	}
	checkPrecision("recorded matcher precision", `markwatch:matcher_precision:ratio1d`, "matcher", wantMatcher)
	checkPrecision("dashboard precision by matcher", dashboardExpr(t, "Precision by matcher (last 24h)", d.http), "matcher", wantMatcher)

	// Every dashboard query and every rule expression, evaluated.
	var rows []string
	report := func(kind, name, expr string, v []sample, qerr error) {
		expr = strings.Join(strings.Fields(expr), " ") // one table line
		rows = append(rows, fmt.Sprintf("| %s | %s | `%s` | %s |", kind, name, strings.ReplaceAll(expr, "|", `\|`), summarize(v, qerr)))
	}
	for _, p := range dashboardPanels(t) {
		for i, expr := range p.exprs {
			expr = substitute(expr, d.http)
			v, qerr := prom.query(t, expr)
			report("panel", fmt.Sprintf("%s [%c]", p.title, 'A'+i), expr, v, qerr)
			if qerr != nil {
				t.Errorf("panel %q: %s: %v", p.title, expr, qerr)
			} else if len(v) == 0 {
				t.Errorf("panel %q: %s returned no series", p.title, expr)
			}
		}
	}
	rules := ruleFile(t)
	quantities := alertQuantities()
	for _, r := range rules {
		v, qerr := prom.query(t, r.Expr)
		if qerr != nil {
			t.Errorf("rule %s: %v", r.name(), qerr)
			continue
		}
		if r.Record != "" {
			report("record", r.Record, r.Expr, v, nil)
			if len(v) == 0 {
				t.Errorf("recording rule %s returned no series", r.Record)
			}
			continue
		}
		report("alert", r.Alert, r.Expr, v, nil)
		if len(v) != 0 {
			t.Errorf("alert %s fires on a healthy dev: %v", r.Alert, v)
		}
		q, ok := quantities[r.Alert]
		if !ok {
			t.Errorf("alert %s: no entry in alertQuantities saying what it watches", r.Alert)
			continue
		}
		qv, qerr := prom.query(t, q)
		report("watches", r.Alert, q, qv, qerr)
		if qerr != nil || len(qv) == 0 {
			t.Errorf("alert %s watches %s, which returned no series (%v)", r.Alert, q, qerr)
		}
	}
	// Prometheus evaluated every rule without an error.
	for name, health := range prom.ruleHealth(t) {
		if health != "ok" {
			t.Errorf("Prometheus reports rule %s as %s", name, health)
		}
	}
	t.Logf("every expression against Prometheus scraping markwatch dev:\n| kind | name | expression | result |\n|---|---|---|---|\n%s",
		strings.Join(rows, "\n"))
	if path := os.Getenv("MARKWATCH_PROMETHEUS_TABLE"); path != "" {
		_ = os.WriteFile(path, []byte(strings.Join(rows, "\n")+"\n"), 0o644)
	}
}

// alertQuantities names, for each alert, the quantity its expression
// compares with a threshold: on a healthy dev the alert is silent, but the
// quantity must have series, or the alert could never fire.
func alertQuantities() map[string]string {
	return map[string]string{
		"MarkwatchConsumerLagGrowing": `sum by (topic) (max by (consumer, topic, partition) (markwatch_consumer_lag))`,
		"MarkwatchConsumerLagStale":   `max by (instance, consumer) (markwatch_consumer_lag_refresh_age_seconds)`,
		"MarkwatchMarksNotReady":      `markwatch_marks_ready`,
		"MarkwatchDetectorsAbsent":    `markwatch_marks_ready`,
		"MarkwatchInstanceDown":       `up{job=~"markwatch-.*"}`,
		"MarkwatchDeadLetters":        `sum by (consumer) (rate(markwatch_consumer_dead_letters_total[10m]))`,
		"MarkwatchDeadLetterPanic":    `sum by (instance, consumer) (increase(markwatch_consumer_dead_letters_total{error_class="panic"}[15m]))`,
		"MarkwatchImageFetchFailing":  `markwatch:image_fetch_failures:ratio15m`,
		"MarkwatchAutoPrecisionLow":   `markwatch:complaint_precision:ratio1d{source="auto"}`,
		"MarkwatchReviewQueueStale":   `max(markwatch_review_queue_oldest_seconds)`,
		"MarkwatchOutboxBacklog":      `max(markwatch_outbox_backlog)`,
		"MarkwatchOutboxRelayFailing": `sum by (instance) (increase(markwatch_outbox_relay_failures_total[10m]))`,
		"MarkwatchAPIErrors":          `markwatch:api_5xx:ratio5m`,
		"MarkwatchComplaintsRefused":  `sum by (rule, source) (increase(markwatch_complaints_refused_total[15m]))`,
		"MarkwatchQuarantineActive":   `max by (kind) (markwatch_quarantines_active)`,
		// Issue 13: seller networks, buyer reports, retention.
		"MarkwatchNetworksStalled":     `sum(increase(markwatch_consumer_messages_handled_total{consumer="networks",outcome=~"ok|dead_lettered"}[15m]))`,
		"MarkwatchNetworksLagGrowing":  `sum by (topic) (max by (consumer, topic, partition) (markwatch_consumer_lag{consumer="networks"}))`,
		"MarkwatchBuyerReportsFailing": `sum by (instance) (increase(markwatch_consumer_messages_handled_total{consumer="buyer_reports",outcome="retried"}[10m]))`,
		"MarkwatchBuyerReportsInvalid": `sum(increase(markwatch_consumer_messages_handled_total{consumer="buyer_reports",outcome="dead_lettered"}[1h]))`,
		"MarkwatchRetentionFailing":    `sum by (instance) (increase(markwatch_retention_runs_total{outcome="error"}[6h]))`,
	}
}

// complaintView is the part of a complaint the test reads from the API.
type complaintView struct {
	ComplaintID string `json:"complaint_id"`
	Complaint   struct {
		Evidence []struct {
			Matcher string  `json:"matcher"`
			Score   float64 `json:"score"`
		} `json:"evidence"`
	} `json:"complaint"`
}

// devAPI calls the review API of a running dev.
type devAPI struct {
	t    *testing.T
	base string
}

func (a devAPI) request(method, path, token string, body any) *http.Response {
	a.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, r)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// traffic lists one complaint every period until the returned stop is
// called; errors are ignored (the test's own calls check the API).
func (a devAPI) traffic(token string, period time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			req, err := http.NewRequest("GET", a.base+"/v1/complaints?limit=1", nil)
			if err != nil {
				return
			}
			req.Header.Set("Authorization", "Bearer "+token)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	}()
	return func() { close(done); <-finished }
}

// do makes a request and returns its status.
func (a devAPI) do(method, path, token string, body any) int {
	a.t.Helper()
	resp := a.request(method, path, token, body)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// call makes a request, requires status want and decodes the body into out.
func (a devAPI) call(method, path, token string, body any, want int, out any) {
	a.t.Helper()
	resp := a.request(method, path, token, body)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		a.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// promServer is a Prometheus started by a test.
type promServer struct {
	base string
	// at, when set, is the evaluation time of queries (Unix seconds);
	// empty means now.
	at string
}

// startPrometheus runs Debian's prometheus on a free loopback port, its
// data in a temporary folder, scraping target (host:port of dev) every
// second as job markwatch-dev and evaluating the shipped rules every
// second. It is killed when the test ends.
func startPrometheus(t *testing.T, bin, target string) *promServer {
	t.Helper()
	dir := t.TempDir()
	rules, err := filepath.Abs(filepath.Join("..", "..", "configs", "prometheus", "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: markwatch-dev
    static_configs: [{targets: [%q]}]
`, rules, target)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	var logs syncBuffer
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	p := &promServer{base: "http://" + addr}
	waitFor(t, 30*time.Second, "Prometheus ready", func() bool {
		select {
		case err := <-exited:
			t.Fatalf("prometheus exited: %v\n%s", err, logs.String())
		default:
		}
		resp, err := http.Get(p.base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// sample is one series of an instant vector.
type sample struct {
	metric map[string]string
	value  float64
}

// query evaluates expr at the current time; an error is Prometheus's.
func (p *promServer) query(t *testing.T, expr string) ([]sample, error) {
	t.Helper()
	q := url.Values{"query": {expr}}
	if p.at != "" {
		q.Set("time", p.at)
	}
	resp, err := http.Get(p.base + "/api/v1/query?" + q.Encode())
	if err != nil {
		t.Fatalf("query %s: %v", expr, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("query %s: %v", expr, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("%s", body.Error)
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("result type %s, want vector", body.Data.ResultType)
	}
	out := make([]sample, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("value %q: %w", s, err)
		}
		out = append(out, sample{metric: r.Metric, value: v})
	}
	return out, nil
}

// rulesEvaluatedAfter reports whether every rule group's last evaluation
// started after at.
func (p *promServer) rulesEvaluatedAfter(t *testing.T, at time.Time) bool {
	t.Helper()
	resp, err := http.Get(p.base + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Groups []struct {
				LastEvaluation time.Time `json:"lastEvaluation"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	for _, g := range body.Data.Groups {
		if !g.LastEvaluation.After(at) {
			return false
		}
	}
	return len(body.Data.Groups) > 0
}

// ruleHealth returns the health Prometheus reports for each loaded rule.
func (p *promServer) ruleHealth(t *testing.T) map[string]string {
	t.Helper()
	resp, err := http.Get(p.base + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, g := range body.Data.Groups {
		for _, r := range g.Rules {
			out[r.Name] = r.Health + r.LastError
		}
	}
	if len(out) < len(ruleFile(t)) {
		t.Errorf("Prometheus loaded %d rules, rules.yml has %d", len(out), len(ruleFile(t)))
	}
	return out
}

// summarize describes a query result for the table: the number of series
// and up to four of them with their values.
func summarize(v []sample, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	if len(v) == 0 {
		return "no series"
	}
	parts := make([]string, 0, 4)
	for i, s := range v {
		if i == 4 {
			parts = append(parts, "…")
			break
		}
		var ls []string
		for k, val := range s.metric {
			if k != "__name__" && k != "job" && k != "instance" {
				ls = append(ls, k+"="+val)
			}
		}
		sort.Strings(ls)
		parts = append(parts, fmt.Sprintf("{%s} %.4g", strings.Join(ls, ","), s.value))
	}
	return fmt.Sprintf("%d series: %s", len(v), strings.Join(parts, "; "))
}

// panelQueries is one dashboard panel's title and queries.
type panelQueries struct {
	title string
	exprs []string
}

func dashboardPanels(t *testing.T) []panelQueries {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "configs", "grafana", "markwatch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var out []panelQueries
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		pq := panelQueries{title: p.Title}
		for _, tg := range p.Targets {
			pq.exprs = append(pq.exprs, tg.Expr)
		}
		out = append(out, pq)
	}
	return out
}

// dashboardExpr returns the first query of the panel titled title, with
// the dashboard variables substituted.
func dashboardExpr(t *testing.T, title, instance string) string {
	t.Helper()
	for _, p := range dashboardPanels(t) {
		if p.title == title {
			return substitute(p.exprs[0], instance)
		}
	}
	t.Fatalf("no dashboard panel %q", title)
	return ""
}

// substitute replaces Grafana's variables as Grafana would for one
// instance and a 1 s scrape interval ($__rate_interval is at least four
// scrape intervals).
func substitute(expr, instance string) string {
	return strings.NewReplacer("$__rate_interval", "5s", "$instance", instance).Replace(expr)
}

// rule is one rule of rules.yml.
type rule struct {
	Record string `yaml:"record"`
	Alert  string `yaml:"alert"`
	Expr   string `yaml:"expr"`
}

func (r rule) name() string { return r.Record + r.Alert }

func ruleFile(t *testing.T) []rule {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "configs", "prometheus", "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}
