package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/segmentio/kafka-go"
)

func TestDeadLetter(t *testing.T) {
	at := time.Date(2031, 5, 6, 7, 8, 9, 10, time.FixedZone("x", 3600))
	in := kafka.Message{Topic: "listings", Partition: 4, Offset: 1234, Key: []byte("listing-9"), Value: []byte("{bad"),
		Headers: []kafka.Header{{Key: "schema_version", Value: []byte("1")}, {Key: HeaderReason, Value: []byte("older")}}}
	tests := []struct {
		name      string
		err       error
		maxBytes  int
		wantDLQ   bool
		wantClass string
		wantValue string
	}{
		{"success passes", nil, 0, false, "", ""},
		{"transient passes", errTransient, 0, false, "", ""},
		{"decode", Permanent(ClassDecode, errors.New("unexpected EOF")), 0, true, ClassDecode, "{bad"},
		{"wrapped sentinel", errors.Join(errors.New("bad"), ErrPermanent), 0, true, ClassPermanent, "{bad"},
		{"over the size cap", Permanent(ClassValidation, errors.New("x")), 10, true, ClassValidation, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hooked string
			d := DeadLetter{Topic: "listings.dlq", MaxBytes: tt.maxBytes, Now: func() time.Time { return at },
				OnDeadLetter: func(_ context.Context, _ kafka.Message, class string, _ error) { hooked = class }}
			h := func(context.Context, kafka.Message) ([]kafka.Message, error) {
				if tt.err != nil {
					return []kafka.Message{{Topic: "complaints"}}, tt.err
				}
				return []kafka.Message{{Topic: "complaints"}}, nil
			}
			outs, err := d.Middleware(h)(context.Background(), in)
			if !tt.wantDLQ {
				if !errors.Is(err, tt.err) || len(outs) != 1 || outs[0].Topic != "complaints" || hooked != "" {
					t.Fatalf("got %v, %v (hook %q); want the handler's result unchanged", outs, err, hooked)
				}
				return
			}
			if err != nil || len(outs) != 1 {
				t.Fatalf("got %v, %v; want one dead letter and no error", outs, err)
			}
			dl := outs[0]
			if dl.Topic != "listings.dlq" || string(dl.Key) != "listing-9" || string(dl.Value) != tt.wantValue {
				t.Errorf("dead letter %s key %q value %q", dl.Topic, dl.Key, dl.Value)
			}
			if hooked != tt.wantClass {
				t.Errorf("OnDeadLetter class %q, want %q", hooked, tt.wantClass)
			}
			want := []kafka.Header{
				{Key: "schema_version", Value: []byte("1")},
				{Key: HeaderReason, Value: []byte("older")},
				{Key: HeaderReason, Value: []byte(tt.err.Error())},
				{Key: HeaderTopic, Value: []byte("listings")},
				{Key: HeaderPartition, Value: []byte("4")},
				{Key: HeaderOffset, Value: []byte("1234")},
				{Key: HeaderErrorClass, Value: []byte(tt.wantClass)},
				{Key: HeaderTime, Value: []byte("2031-05-06T06:08:09.00000001Z")},
			}
			if tt.maxBytes > 0 {
				want = append(want, kafka.Header{Key: HeaderValueOmitted, Value: []byte("4")})
			}
			if len(dl.Headers) != len(want) {
				t.Fatalf("headers %v, want %v", dl.Headers, want)
			}
			for i := range want {
				if dl.Headers[i].Key != want[i].Key || string(dl.Headers[i].Value) != string(want[i].Value) {
					t.Errorf("header %d = %s:%q, want %s:%q", i, dl.Headers[i].Key, dl.Headers[i].Value, want[i].Key, want[i].Value)
				}
			}
		})
	}
}

func TestTruncateUTF8(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "abc", 5, "abc"},
		{"ascii cut", "abcdef", 4, "abcd"},
		{"no split of a 3-byte rune", "ab€", 4, "ab"},
		{"whole rune fits", "ab€", 5, "ab€"},
		{"CJK", "耐克耐克", 7, "耐克"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := truncateUTF8(tt.in, tt.n)
			if got != tt.want || !utf8.ValidString(got) {
				t.Errorf("truncateUTF8(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
	long := Permanent(ClassDecode, errors.New(strings.Repeat("é", 2000)))
	dl := deadLetterMessage("dlq", kafka.Message{}, ClassDecode, long, time.Now())
	if r := headers(dl)[HeaderReason]; len(r) > maxReasonBytes || !utf8.ValidString(r) {
		t.Errorf("reason of %d bytes (valid UTF-8 %v), want at most %d", len(r), utf8.ValidString(r), maxReasonBytes)
	}
}
