package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/pipeline"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
)

var tailTime = time.Date(2026, 11, 27, 9, 8, 7, 0, time.UTC)

func testComplaint(listingID, markID string) domain.Complaint {
	return domain.Complaint{
		SchemaVersion: 1, ComplaintID: domain.ComplaintID(listingID, 3, markID, "r1"), Source: domain.SourceAuto,
		ListingID: listingID, ListingVersion: 3, MarkID: markID, Score: 0.8734,
		Explanation: "title contains 'Veltaro' + cue 'replica' (en)", RuleVersion: "r1", CreatedAt: tailTime,
		Listing: &domain.ListingSnapshot{Title: "Veltaro replica tote"},
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFormatComplaint(t *testing.T) {
	c := testComplaint("l-demo-1", "mk-veltaro")
	noTime := c
	noTime.CreatedAt = time.Time{}
	evil := c
	evil.Explanation = "ok\x1b[2Jcleared\nsecond line"
	tests := []struct {
		name  string
		value []byte
		want  string
	}{
		{"complaint", mustJSON(t, c),
			`09:08:07 complaint l-demo-1 v3 "Veltaro replica tote" → mk-veltaro score 0.87: title contains 'Veltaro' + cue 'replica' (en)`},
		{"message time when created_at is missing", mustJSON(t, noTime),
			`09:08:07 complaint l-demo-1 v3 "Veltaro replica tote" → mk-veltaro score 0.87: title contains 'Veltaro' + cue 'replica' (en)`},
		{"terminal escapes in the explanation", mustJSON(t, evil),
			`09:08:07 complaint l-demo-1 v3 "Veltaro replica tote" → mk-veltaro score 0.87: ok\u001b[2Jcleared\u000asecond line`},
		{"not a complaint", []byte(`{"x":1}`), `09:08:07 not a complaint (`},
		{"not JSON", []byte("\xff\x00"), `09:08:07 not a complaint (`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := formatComplaint(kafka.Message{Value: tt.value, Time: tailTime})
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if strings.ContainsAny(got, "\n\x1b\x00") {
				t.Errorf("line carries a control character: %q", got)
			}
		})
	}
}

func TestFormatListing(t *testing.T) {
	l := domain.Listing{SchemaVersion: 1, ListingID: "l-demo-1", Version: 2, SellerID: "s-demo", Title: "Veltaro tote",
		Price: &domain.Money{Amount: "89.00", Currency: "EUR"}, Images: []string{"http://img.example/a.jpg"}}
	noPrice := l
	noPrice.Price, noPrice.Images = nil, nil
	tests := []struct {
		name  string
		value []byte
		want  string
	}{
		{"listing", mustJSON(t, l), `09:08:07 listing l-demo-1 v2 "Veltaro tote" 89.00 EUR seller s-demo (1 images)`},
		{"no price, no images", mustJSON(t, noPrice), `09:08:07 listing l-demo-1 v2 "Veltaro tote" no price seller s-demo`},
		{"invalid", []byte(`{"schema_version":1}`), `09:08:07 not a listing (`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := formatListing(kafka.Message{Value: tt.value, Time: tailTime})
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestFormatDeadLetter(t *testing.T) {
	h := func(kv ...string) []kafka.Header {
		var out []kafka.Header
		for i := 0; i < len(kv); i += 2 {
			out = append(out, kafka.Header{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return out
	}
	tests := []struct {
		name string
		msg  kafka.Message
		want string
	}{
		{"all headers", kafka.Message{Key: []byte("l-1"), Value: []byte(`{"bad`), Time: tailTime, Headers: h(
			pipeline.HeaderReason, "listing: unexpected EOF", pipeline.HeaderTopic, "listings",
			pipeline.HeaderPartition, "4", pipeline.HeaderOffset, "1234", pipeline.HeaderErrorClass, "decode")},
			"09:08:07 dead letter from listings/4@1234 [decode] key \"l-1\": listing: unexpected EOF\n    value: \"{\\\"bad\""},
		{"origin header of the input kept before ours", kafka.Message{Value: []byte("x"), Time: tailTime, Headers: h(
			pipeline.HeaderTopic, "forged", pipeline.HeaderTopic, "listings")},
			"09:08:07 dead letter from listings/?@? [?] key \"\": ?\n    value: \"x\""},
		{"value omitted", kafka.Message{Time: tailTime, Headers: h(pipeline.HeaderValueOmitted, "5000000")},
			"09:08:07 dead letter from ?/?@? [?] key \"\": ?\n    value: (omitted, 5000000 bytes)"},
		{"long binary value truncated", kafka.Message{Value: bytes.Repeat([]byte{0xff}, 1000), Time: tailTime},
			"09:08:07 dead letter from ?/?@? [?] key \"\": ?\n    value: \"" + strings.Repeat(`\xff`, tailMaxValue) + "\"… (1000 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatDeadLetter(tt.msg); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestFormatJSON(t *testing.T) {
	tests := []struct {
		name  string
		value []byte
		want  string
	}{
		{"object", []byte(`{"a":1,"b":["x"]}`), "09:08:07 marks/1@5 key \"k\"\n  {\n    \"a\": 1,\n    \"b\": [\n      \"x\"\n    ]\n  }"},
		{"tombstone", nil, "09:08:07 marks/1@5 key \"k\" tombstone"},
		{"not JSON", []byte("plain\x1b"), "09:08:07 marks/1@5 key \"k\"\n  \"plain\\x1b\""},
		{"bidi override inside JSON", []byte("{\"a\":\"x\u202ey\"}"), "09:08:07 marks/1@5 key \"k\"\n  {\n    \"a\": \"x\\u202ey\"\n  }"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := formatJSON(kafka.Message{Topic: "marks", Partition: 1, Offset: 5, Key: []byte("k"), Value: tt.value, Time: tailTime})
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"plain", "Veltaro tote", 50, "Veltaro tote"},
		{"non-ASCII kept", "维尔塔罗 Вельтаро", 50, "维尔塔罗 Вельтаро"},
		{"escape sequence", "a\x1b[31mb", 50, `a\u001b[31mb`},
		{"newline", "a\nb", 50, `a\u000ab`},
		{"tab becomes space", "a\tb", 50, "a b"},
		{"invalid UTF-8", "a\xffb", 50, `a\xffb`},
		{"real replacement character kept", "a\uFFFDb", 50, "a\uFFFDb"},
		{"bidi override", "abc\u202Edef", 50, `abc\u202edef`},
		{"cut by runes", "维尔塔罗", 2, "维尔…"},
		{"exactly max", "abc", 3, "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := printable(tt.in, tt.max); got != tt.want {
				t.Errorf("printable(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

func TestTailFormatter(t *testing.T) {
	tests := []struct {
		name, format, topic string
		want                func(kafka.Message) string
		wantErr             bool
	}{
		{"complaints by name", "auto", "complaints", formatComplaint, false},
		{"listings by name", "auto", "listings", formatListing, false},
		{"dlq by name", "auto", "listings.dlq", formatDeadLetter, false},
		{"anything else as JSON", "auto", "marks", formatJSON, false},
		{"forced", "listing", "my-listings", formatListing, false},
		{"unknown format", "xml", "marks", nil, true},
	}
	msg := kafka.Message{Value: mustJSON(t, testComplaint("l-1", "mk-1")), Time: tailTime}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tailFormatter(tt.format, tt.topic)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.want != nil && got(msg) != tt.want(msg) {
				t.Errorf("picked the wrong formatter: %q", got(msg))
			}
		})
	}
}

func TestTailUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no topic", []string{"tail"}, 2},
		{"two topics", []string{"tail", "a", "b"}, 2},
		{"bad format", []string{"tail", "-format", "xml", "a"}, 2},
		{"negative n", []string{"tail", "-n", "-1", "a"}, 2},
		{"help", []string{"tail", "-h"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if got := run(context.Background(), tt.args, &out, &errb); got != tt.want {
				t.Errorf("exit %d, want %d; stderr %s", got, tt.want, errb.String())
			}
		})
	}
}

// TestTailEmbedded tails a 3-partition topic on kfake with -n: every
// message of every partition is printed once, and tail stops by itself.
func TestTailEmbedded(t *testing.T) {
	brokers := kafkatest.StartEmbedded(t)
	topic := kafkatest.TopicName("complaints")
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: topic, NumPartitions: 3})
	w := pipeline.NewWriter(brokers, pipeline.WriterOptions{})
	var msgs []kafka.Message
	ids := []string{"l-a", "l-b", "l-c", "l-d", "l-e", "l-f"}
	for _, id := range ids {
		msgs = append(msgs, kafka.Message{Topic: topic, Key: []byte(id), Value: mustJSON(t, testComplaint(id, "mk-veltaro"))})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	if err := pipeline.CloseWriter(w); err != nil {
		t.Fatal(err)
	}
	if n, err := topicPartitions(ctx, brokers, topic); err != nil || len(n) != 3 {
		t.Fatalf("partitions %v, %v", n, err)
	}

	var out, errb bytes.Buffer
	// Flags after the topic work too.
	code := run(ctx, []string{"tail", "-format", "complaint", topic, "-brokers", strings.Join(brokers, ","),
		"-from-beginning", "-n", "6"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(ids) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(ids), out.String())
	}
	for _, id := range ids {
		if !strings.Contains(out.String(), " complaint "+id+" v3 ") {
			t.Errorf("no line for %s:\n%s", id, out.String())
		}
	}

	// A topic that does not exist is an error, not a wait.
	errb.Reset()
	if code := run(ctx, []string{"tail", "-brokers", brokers[0], "no-such-topic"}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "no-such-topic") {
		t.Errorf("missing topic: exit %d, stderr %s", code, errb.String())
	}
}

// FuzzFormat feeds arbitrary values and header bytes to every formatter:
// none may panic, and what they print is valid UTF-8 without control
// characters other than their own newlines.
func FuzzFormat(f *testing.F) {
	f.Add(mustJSON(f, testComplaint("l-1", "mk-1")), []byte("listings"))
	f.Add([]byte(`{"schema_version":1,"listing_id":"x","version":1,"seller_id":"s","title":"t\u001b"}`), []byte("\xff"))
	f.Add([]byte("\x1b[2J\u202e"), []byte("\n"))
	f.Fuzz(func(t *testing.T, value, header []byte) {
		msg := kafka.Message{Topic: "t", Key: header, Value: value, Time: tailTime, Headers: []kafka.Header{
			{Key: pipeline.HeaderReason, Value: header}, {Key: pipeline.HeaderTopic, Value: header},
		}}
		for _, fn := range []func(kafka.Message) string{formatComplaint, formatListing, formatDeadLetter, formatJSON} {
			out := fn(msg)
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8: %q", out)
			}
			for _, r := range out {
				if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)) {
					t.Fatalf("control character %U in %q", r, out)
				}
			}
		}
	})
}

// TestTailFromEndStopsAfterN: without -from-beginning tail says on stderr
// that it starts at the end, shows only new messages, with -key only that
// key's, and with -n stops by itself after N of them.
func TestTailFromEndStopsAfterN(t *testing.T) {
	brokers := kafkatest.StartEmbedded(t)
	topic := kafkatest.TopicName("complaints")
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: topic, NumPartitions: 3})
	w := pipeline.NewWriter(brokers, pipeline.WriterOptions{})
	defer pipeline.CloseWriter(w)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	complaint := func(id string, version int64) kafka.Message {
		c := testComplaint(id, "mk-veltaro")
		c.ListingVersion = version
		c.ComplaintID = domain.ComplaintID(id, version, "mk-veltaro", "r1")
		return kafka.Message{Topic: topic, Key: []byte(id), Value: mustJSON(t, c)}
	}
	// Old messages, before tail starts: never shown.
	if err := w.WriteMessages(ctx, complaint("l-b", 1), complaint("l-a", 1)); err != nil {
		t.Fatal(err)
	}
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"tail", "-brokers", strings.Join(brokers, ","), "-format", "complaint",
			"-n", "2", "-key", "l-b", topic}, &out, &errb)
	}()
	// tail resolves the end when its readers start: keep publishing new
	// versions until it has seen two and stopped.
	var code int
	for version := int64(2); ; version++ {
		select {
		case code = <-done:
		case <-time.After(200 * time.Millisecond):
			if err := w.WriteMessages(ctx, complaint("l-a", version), complaint("l-b", version)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		break
	}
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2 (-n 2):\n%s", len(lines), out.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, " complaint l-b v") || strings.Contains(l, " v1 ") {
			t.Errorf("line %q: want only new messages of key l-b", l)
		}
	}
	if !strings.Contains(errb.String(), "from its end") || !strings.Contains(errb.String(), "-from-beginning") {
		t.Errorf("stderr %q does not say where tail starts", errb.String())
	}
}
