package linking

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/testenv"
)

func TestExtractHandles(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       string // keys as "kind:value" joined by spaces, in order found
	}{
		{"none", "Genuine leather wallet, 2 years old, price 129.99 USD", ""},
		{"plain email", "write to Shop.Owner@Example.COM today", "email:shop.owner@example.com"},
		{"bracket at dot", "mail: luxdeals [at] gmail [dot] com", "email:luxdeals@gmail.com"},
		{"paren at dot", "luxdeals(at)gmail(dot)com", "email:luxdeals@gmail.com"},
		{"word at dot", "contact luxdeals at gmail dot com for more", "email:luxdeals@gmail.com"},
		{"spaced at", "luxdeals @ mail.example.co.uk", "email:luxdeals@mail.example.co.uk"},
		{"full width", "ｌｕｘ＠ｅｘａｍｐｌｅ．ｃｏｍ", "email:lux@example.com"},
		{"sentence with at is no address", "arrive at home. Great bag", ""},
		{"at word without a domain", "meet at noon dot", ""},
		{"international phone", "call +86 138 1234 5678 now", "phone:3812345678"},
		{"national same number", "电话: 138-1234-5678", "phone:3812345678"},
		{"00 prefix", "0044 20 7946 0958", "phone:2079460958"},
		{"us formatted", "(415) 555-0123 ext", "phone:4155550123"},
		{"cue short", "tel 5550123456", "phone:5550123456"},
		{"price is no phone", "now 1299.00 was 2599.00", ""},
		{"date is no phone", "shipped 2024-01-15 fast", ""},
		{"sku is no phone", "EAN 4006381333931", ""},
		{"order number is no phone", "order 20240115-1234 shipped", ""},
		{"two groups are no phone", "item 12345 67890", ""},
		{"whatsapp link", "https://wa.me/15551234567?text=hi", "phone:5551234567"},
		{"whatsapp api link", "https://api.whatsapp.com/send?phone=8613812345678", "phone:3812345678"},
		{"whatsapp cue", "WhatsApp: +1 555 123 4567", "phone:5551234567"},
		{"telegram link", "join t.me/LuxOutlet/12", "telegram:luxoutlet"},
		{"telegram at", "Telegram: @Lux_Outlet", "telegram:lux_outlet"},
		{"tg", "tg @luxoutlet2", "telegram:luxoutlet2"},
		{"wechat", "WeChat ID: lux-outlet88", "wechat:lux-outlet88"},
		{"wechat chinese", "加微信：luxoutlet88 优惠", "wechat:luxoutlet88"},
		{"url", "our shop: https://WWW.Lux-Outlet.example/Store/?utm=1#top", "url:lux-outlet.example/Store"},
		{"bare www", "see www.luxoutlet.example/bags.", "url:luxoutlet.example/bags"},
		{"mobile host", "http://m.shop.example/", "url:shop.example"},
		{"url digits are not a phone", "https://shop.example/item/4155550123", "url:shop.example/item/4155550123"},
		{"several", "mail a@b.io or +1 415 555 0123, tg @abcdef", "email:a@b.io telegram:abcdef phone:4155550123"},
		{"duplicates once", "+1 415 555 0123 / (415) 555-0123", "phone:4155550123"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, k := range ExtractHandles(tc.text) {
				got = append(got, k.String())
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("ExtractHandles(%q) = %q, want %q", tc.text, s, tc.want)
			}
		})
	}
}

func TestExtractHandlesBounds(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "seller%03d@shop.example ", i)
	}
	if got := ExtractHandles(b.String()); len(got) != MaxHandles {
		t.Errorf("%d handles, want the cap %d", len(got), MaxHandles)
	}
	long := strings.Repeat("x", MaxTextBytes) + " late@shop.example"
	if got := ExtractHandles(long); len(got) != 0 {
		t.Errorf("read past MaxTextBytes: %v", got)
	}
}

func TestListingKeys(t *testing.T) {
	l := &domain.Listing{
		Title: "Bag", Description: "wa.me/8613812345678", ShipFrom: "  Guangzhou,   CN ",
		PayoutAccountHash: "AB12",
	}
	var got []string
	for _, k := range ListingKeys(l, []uint64{0xf0f0, 0, 0xf0f0}) {
		got = append(got, k.String())
	}
	want := "payout:ab12 phone:3812345678 photo:000000000000f0f0 ship_from:guangzhou, cn"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("keys %q, want %q", s, want)
	}
}

// FuzzExtractHandles: listing text is untrusted; the extractor never
// panics, stays within its caps, and returns valid, normalized keys.
func FuzzExtractHandles(f *testing.F) {
	for _, s := range []string{
		"", "a@b.co", "name [at] shop [dot] com", "+86 138 1234 5678", "t.me/abcde", "https://wa.me/123456789",
		"微信：abcdef1", "www.x.y/z", "0000000000000000", "ｌｕｘ＠ｅｘａｍｐｌｅ．ｃｏｍ", "\xff\xfe@x.io", "(((((1111111111",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		keys := ExtractHandles(text)
		if len(keys) > MaxHandles {
			t.Fatalf("%d handles over the cap", len(keys))
		}
		seen := map[Key]bool{}
		for _, k := range keys {
			if k.Value == "" || seen[k] || !utf8.ValidString(k.Value) && utf8.ValidString(text) {
				t.Fatalf("bad key %q in %v", k, keys)
			}
			seen[k] = true
			switch k.Kind {
			case KindPhone:
				if len(k.Value) < 8 || len(k.Value) > 10 || strings.Trim(k.Value, "0123456789") != "" {
					t.Fatalf("phone %q not normalized", k.Value)
				}
			case KindEmail:
				if strings.Count(k.Value, "@") != 1 || strings.ToLower(k.Value) != k.Value {
					t.Fatalf("email %q not normalized", k.Value)
				}
			case KindTelegram, KindWeChat:
				if strings.ToLower(k.Value) != k.Value {
					t.Fatalf("%s %q not lowercased", k.Kind, k.Value)
				}
			case KindURL:
				if strings.Contains(k.Value, "://") || strings.HasSuffix(k.Value, "/") {
					t.Fatalf("url %q not host+path", k.Value)
				}
			default:
				t.Fatalf("unknown kind %q", k.Kind)
			}
		}
	})
}

// BenchmarkExtractHandles measures extraction from a listing description
// of about 400 bytes with two handles, never seen before.
func BenchmarkExtractHandles(b *testing.B) {
	i := 0
	defer testenv.ReportCPUPerOp(b)()
	for b.Loop() {
		i++
		text := fmt.Sprintf("Brand new with tags, 100%% authentic quality. Ships in 2 days from our warehouse in Guangzhou. "+
			"Contact us for wholesale prices: WhatsApp +86 139 %04d 7777 or mail shop%d [at] example [dot] com. "+
			"Payment on delivery possible, size 30x20x10 cm, weight 1.2 kg, order 20240115-%d. Fast shipping worldwide!", i%10000, i, i)
		if len(ExtractHandles(text)) != 2 {
			b.Fatal("want two handles")
		}
	}
}
