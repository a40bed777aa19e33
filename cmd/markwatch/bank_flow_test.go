package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// apiPost calls the review API with a bearer token and a JSON body.
func apiPost(t *testing.T, base, token, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// metricValue reads one sample of the process's /metrics, 0 when absent.
func metricValue(t *testing.T, base, series string) float64 {
	t.Helper()
	r, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// devMark is a mark devWithMark registered.
type devMark struct {
	MarkID string `json:"mark_id"`
}

// devWithMark starts markwatch dev with the extra flags, registers a bag
// mark named name (registration number) as the brand owner and verifies
// it as an admin. It returns the running dev, the API tokens by role and
// the mark; the caller stops the dev.
func devWithMark(t *testing.T, name, number string, extra ...string) (*devRunning, map[string]string, devMark) {
	t.Helper()
	data := filepath.Join(t.TempDir(), "dev")
	d := startDev(t, data, extra...)
	base := "http://" + d.http
	tokens, err := readTokens(filepath.Join(data, devTokensFile))
	if err != nil {
		d.stop(t)
		t.Fatal(err)
	}
	tok := map[string]string{}
	for _, x := range tokens {
		tok[x.Role] = x.Token
	}
	var mark devMark
	code, body := apiPost(t, base, tok["brand_owner"], "/v1/marks",
		`{"name":"`+name+`","registration":{"office":"EUIPO","number":"`+number+`","classes":[18]},"categories":["bags"],"reference_prices":[{"amount":"900.00","currency":"EUR"}]}`)
	if code == http.StatusCreated {
		_ = json.Unmarshal([]byte(body), &mark)
		code, body = apiPost(t, base, tok["admin"], "/v1/marks/"+mark.MarkID+"/verify", "")
	}
	if code != http.StatusCreated && code != http.StatusOK {
		d.stop(t)
		t.Fatalf("register and verify %s: %d %s", name, code, body)
	}
	return d, tok, mark
}

// TestFlowNegativeBank is the negative bank end to end in markwatch dev: a
// new mark whose name is an ordinary word files a complaint on a listing
// that only uses the word; a reviewer rejects it and banks the phrase for
// the mark; the entry goes through the outbox and the negative-banks topic
// to the detector, which then does not file the listing's next version
// and counts the suppression; the undo makes it file again.
func TestFlowNegativeBank(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a broker, the detector and the review service")
	}
	d, tok, mark := devWithMark(t, "Zorvexa", "019999998", "-rate", "1")
	defer d.stop(t)
	base := "http://" + d.http
	waitFor(t, time.Minute, "the detector to watch the mark", func() bool {
		r, err := http.Get(base + "/detector/marks/" + mark.MarkID)
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == http.StatusOK
	})
	w := &kafka.Writer{Addr: kafka.TCP(d.broker), Topic: "listings", Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond}
	defer w.Close()
	produce := func(version int) {
		t.Helper()
		v := `{"schema_version":1,"listing_id":"l-bank","version":` + strconv.Itoa(version) +
			`,"seller_id":"s-bank","title":"Zorvexa replica bag 1:1","category":"bags","price":{"amount":"79.00","currency":"EUR"}}`
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("l-bank"), Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	complaints := func() []string {
		_, body := apiGet(t, base, tok["reviewer"], "/v1/complaints?mark_id="+mark.MarkID)
		var page struct {
			Complaints []struct {
				ComplaintID string `json:"complaint_id"`
			} `json:"complaints"`
		}
		_ = json.Unmarshal([]byte(body), &page)
		var ids []string
		for _, c := range page.Complaints {
			ids = append(ids, c.ComplaintID)
		}
		return ids
	}
	produce(1)
	var first string
	waitFor(t, time.Minute, "the first complaint", func() bool {
		ids := complaints()
		if len(ids) == 1 {
			first = ids[0]
		}
		return first != ""
	})
	if code, body := apiPost(t, base, tok["reviewer"], "/v1/complaints/"+first+"/decision", `{"decision":"reject","reason_code":"genuine"}`); code != http.StatusOK {
		t.Fatalf("reject: %d %s", code, body)
	}
	_, cbody := apiGet(t, base, tok["reviewer"], "/v1/complaints/"+first)
	var c struct {
		Complaint struct {
			Evidence []struct {
				Matcher string `json:"matcher"`
			} `json:"evidence"`
		} `json:"complaint"`
	}
	_ = json.Unmarshal([]byte(cbody), &c)
	text := -1
	for i, e := range c.Complaint.Evidence {
		if e.Matcher == "text" && text < 0 {
			text = i
		}
	}
	if text < 0 {
		t.Fatalf("no text evidence on the complaint: %s", cbody)
	}
	code, body := apiPost(t, base, tok["reviewer"], "/v1/complaints/"+first+"/negative-bank",
		`{"evidence":`+strconv.Itoa(text)+`,"scope":"mark","reason":"an ordinary word here"}`)
	if code != http.StatusCreated {
		t.Fatalf("bank: %d %s", code, body)
	}
	var entry struct {
		Entry struct {
			EntryID string `json:"entry_id"`
		} `json:"entry"`
	}
	_ = json.Unmarshal([]byte(body), &entry)
	waitFor(t, time.Minute, "the detector's bank to hold the entry", func() bool {
		return metricValue(t, base, "markwatch_negative_bank_entries") == 1
	})
	produce(2)
	waitFor(t, time.Minute, "the suppression to be counted", func() bool {
		return metricValue(t, base, `markwatch_negative_bank_suppressed_total{kind="phrase"}`) >= 1
	})
	if ids := complaints(); len(ids) != 1 {
		t.Fatalf("complaints after the bank: %v, want only the first", ids)
	}
	if code, body := apiPost(t, base, tok["reviewer"], "/v1/negative-bank/"+entry.Entry.EntryID+"/undo", ""); code != http.StatusOK {
		t.Fatalf("undo: %d %s", code, body)
	}
	waitFor(t, time.Minute, "the tombstone to reach the detector", func() bool {
		return metricValue(t, base, "markwatch_negative_bank_entries") == 0
	})
	produce(3)
	waitFor(t, time.Minute, "a complaint on version 3", func() bool { return len(complaints()) == 2 })
}
