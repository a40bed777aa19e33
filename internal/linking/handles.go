// Package linking finds what links two marketplace sellers: the contact
// handles in their listings' text (phone numbers, e-mail addresses,
// messenger ids, external shop URLs), the same listing photo, and the
// fields a marketplace sends (ship-from, payout account hash). Each is a
// Key; two sellers that share a Key that is not common are linked, and the
// review service keeps the linked sellers as networks (internal/store,
// seller_keys and seller_networks).
//
// The extractor is hand-written: no library in the Go module proxy
// extracts and normalizes contact handles across these formats (libphonenumber
// ports parse one number a caller already found, and need a region). The
// patterns are deliberately narrow — a false handle links strangers — and
// every accepted format has a test case. Listing text is untrusted input:
// the extractor is fuzzed (FuzzExtractHandles) and bounded in the bytes it
// reads and the handles it returns.
//
// It imports only internal/domain and the standard library's neighbours.
package linking

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Key kinds. Handle kinds come from listing text; the others from the
// listing's own fields.
const (
	KindPhone    = "phone"
	KindEmail    = "email"
	KindTelegram = "telegram"
	KindWeChat   = "wechat"
	KindURL      = "url"
	// KindPhoto is a listing photo's perceptual hash (hex).
	KindPhoto = "photo"
	// KindShipFrom is the listing's ship_from, normalized.
	KindShipFrom = "ship_from"
	// KindPayout is the listing's payout_account_hash.
	KindPayout = "payout"
)

// Kinds are every key kind, in the order the API documents them.
var Kinds = []string{KindPhone, KindEmail, KindTelegram, KindWeChat, KindURL, KindPhoto, KindShipFrom, KindPayout}

// Bounds of one extraction: text past MaxTextBytes is not read, and at
// most MaxHandles handles are returned, so one listing costs bounded work
// whatever its size.
const (
	MaxTextBytes = 64 << 10
	MaxHandles   = 32
)

// Key is one linking fact: a kind and a normalized value. Two listings
// with equal Keys share it.
type Key struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

func (k Key) String() string { return k.Kind + ":" + k.Value }

var (
	// emailRe finds an address whose "@" and dots may be spelled out:
	// "name@shop.com", "name [at] shop [dot] com", "name(at)shop(dot)com",
	// "name at shop dot com". The dot words need no brackets but need
	// spaces; a bare "." may not have spaces around it, so that a sentence
	// ending in "at home. Great" is not an address.
	emailRe = regexp.MustCompile(`(?i)([a-z0-9][a-z0-9._%+\-]{0,63})\s*(?:@|[\[({<]\s*at\s*[\])}>]|\sat\s)\s*` +
		`([a-z0-9][a-z0-9\-]{0,62}(?:(?:\.|\s*[\[({<]\s*dot\s*[\])}>]\s*|\sdot\s)[a-z0-9][a-z0-9\-]{0,62}){1,4})`)
	// emailAtRe is emailRe anchored at the start of its input.
	emailAtRe = regexp.MustCompile(`^(?:` + emailRe.String() + `)`)
	dotWordRe = regexp.MustCompile(`(?i)\s*[\[({<]\s*dot\s*[\])}>]\s*|\sdot\s`)
	tldRe     = regexp.MustCompile(`^[a-z]{2,12}$`)

	// urlRe finds http(s) URLs and bare www. hosts; t.me and wa.me links
	// are URLs too, read as messenger handles below.
	urlRe = regexp.MustCompile(`(?i)(?:https?://|www\.|\b(?:t|wa)\.me/)[^\s<>"'()\[\]{}，。、]+`)

	// phoneRe finds a run of digits with the separators people write
	// phone numbers with; phoneCandidate decides whether it is one.
	phoneRe = regexp.MustCompile(`(?:\+|\b00)?\(?\d[\d \-.()]{5,22}\d`)
	dateRe  = regexp.MustCompile(`^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{4}$`)
	// phoneCueRe is a word that says a number is a phone number, in the
	// languages the fixtures use.
	phoneCueRe = regexp.MustCompile(`(?i)(?:tel|phone|call|mobile|mob|cell|whats ?app|wa|viber|signal|contact|sms|电话|手机|微信|联系|téléphone|teléfono|telefon)\W{0,6}$`)

	// messengerRe finds "telegram: @name", "tg @name", "wechat: name",
	// "微信：name", "wx: name", "vx name".
	messengerRe = regexp.MustCompile(`(?i)\b(telegram|tg|wechat|weixin|wx|vx)\b\s*(?:id)?\s*[:：=\-]?\s*@?([a-z][a-z0-9_\-]{4,31})\b|(微信|微信号)\s*[:：]?\s*([a-zA-Z][a-zA-Z0-9_\-]{4,31})\b`)
)

// ExtractHandles returns the contact handles in text, normalized and
// deduplicated, in the order first found: at most MaxHandles, from the
// first MaxTextBytes of text.
func ExtractHandles(text string) []Key {
	if len(text) > MaxTextBytes {
		text = text[:MaxTextBytes]
		for !utf8.ValidString(text) && len(text) > 0 {
			text = text[:len(text)-1]
		}
	}
	// NFKC first: full-width digits, "＠" and "．" become ASCII.
	text = norm.NFKC.String(text)
	var out []Key
	seen := map[Key]bool{}
	add := func(k Key) {
		if k.Value == "" || seen[k] || len(out) >= MaxHandles {
			return
		}
		seen[k] = true
		out = append(out, k)
	}
	// Go's regexp tries every start position: a cheap test on the
	// lowercased text skips a pattern that cannot match.
	lower := strings.ToLower(text)
	has := func(subs ...string) bool {
		for _, sub := range subs {
			if strings.Contains(lower, sub) {
				return true
			}
		}
		return false
	}
	// URLs first, and blanked out, so that their digits and dots are
	// not read again as phone numbers or addresses; then addresses.
	rest := []byte(text)
	if has("http", "www.", ".me/") {
		for _, loc := range urlRe.FindAllStringIndex(text, -1) {
			add(urlKey(text[loc[0]:loc[1]]))
			blank(rest, loc)
		}
		text = string(rest)
	}
	if at := atSigns(text); len(at) > 0 {
		emails(text, at, rest, add)
		text = string(rest)
	}
	if has("telegram", "tg", "wechat", "weixin", "wx", "vx", "微信") {
		messengers(text, add)
	}
	if strings.ContainsAny(text, "0123456789") {
		for _, loc := range phoneRe.FindAllStringIndex(text, -1) {
			if k, ok := phoneCandidate(text[max(0, loc[0]-24):loc[0]], text[loc[0]:loc[1]]); ok {
				add(k)
			}
		}
	}
	return out
}

// atSigns returns where text has an "@" or a spelt-out one (" at ",
// "(at)", "[at]", any case): where an address can be. It reads text's own
// bytes, since lowercasing may change the length of non-ASCII text.
func atSigns(text string) []int {
	var out []int
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '@':
			out = append(out, i)
		case 'a', 'A':
			if i > 0 && i+2 < len(text) && (text[i+1] == 't' || text[i+1] == 'T') &&
				strings.IndexByte(" \t\n([{<", text[i-1]) >= 0 && strings.IndexByte(" \t\n)]}>", text[i+2]) >= 0 {
				out = append(out, i)
			}
		}
	}
	return out
}

// emails adds the address at each at sign in at, and blanks it in rest.
// The regexp is anchored at the address's first character, found by
// walking back from the at sign over the local part, so that it runs once
// per at sign on at most a few hundred bytes instead of from every
// position of the text.
func emails(text string, at []int, rest []byte, add func(Key)) {
	const after = 200 // bytes of domain read after the at sign
	done := 0         // text before done is part of an address found
	for _, i := range at {
		if i < done {
			continue
		}
		j := i
		// Back over " [", " (", spaces, then the local part.
		for j > done && (text[j-1] == ' ' || text[j-1] == '\t' || strings.IndexByte("[({<", text[j-1]) >= 0) && i-j < 8 {
			j--
		}
		k := j
		for k > done && j-k < 64 && isLocalByte(text[k-1]) {
			k--
		}
		for k < j && !isAlnum(text[k]) {
			k++
		}
		if k == j {
			continue
		}
		m := emailAtRe.FindStringSubmatchIndex(text[k:min(len(text), i+after)])
		if m == nil {
			continue
		}
		if key, ok := emailKey(text[k+m[2]:k+m[3]], text[k+m[4]:k+m[5]]); ok {
			add(key)
			blank(rest, []int{k + m[0], k + m[1]})
			done = k + m[1]
		}
	}
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isLocalByte(c byte) bool { return isAlnum(c) || strings.IndexByte("._%+-", c) >= 0 }

// messengers adds the Telegram and WeChat ids named in text.
func messengers(text string, add func(Key)) {
	for _, m := range messengerRe.FindAllStringSubmatch(text, -1) {
		kind, id := m[1], m[2]
		if kind == "" {
			kind, id = "wechat", m[4]
		}
		switch strings.ToLower(kind) {
		case "telegram", "tg":
			add(Key{KindTelegram, strings.ToLower(id)})
		default:
			add(Key{KindWeChat, strings.ToLower(id)})
		}
	}
}

// blank overwrites text[loc[0]:loc[1]] with spaces.
func blank(text []byte, loc []int) {
	for i := loc[0]; i < loc[1]; i++ {
		text[i] = ' '
	}
}

// urlKey normalizes a URL to host+path: lowercased host without "www."
// or "m.", no scheme, port, query, fragment or trailing slash. A wa.me
// link is its phone number; a t.me link its Telegram handle.
func urlKey(raw string) Key {
	raw = strings.TrimRight(raw, ".,;:!?")
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return Key{}
	}
	host := strings.ToLower(u.Hostname())
	host = strings.TrimPrefix(strings.TrimPrefix(host, "www."), "m.")
	path := strings.TrimRight(u.EscapedPath(), "/")
	switch host {
	case "wa.me", "api.whatsapp.com":
		if k, ok := phoneCandidate("whatsapp ", strings.TrimPrefix(path, "/")); ok && host == "wa.me" {
			return k
		}
		if p := u.Query().Get("phone"); p != "" {
			if k, ok := phoneCandidate("whatsapp ", p); ok {
				return k
			}
		}
	case "t.me", "telegram.me":
		if name, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/"); len(name) >= 5 {
			return Key{KindTelegram, strings.ToLower(name)}
		}
	}
	if !strings.Contains(host, ".") {
		return Key{}
	}
	return Key{KindURL, host + path}
}

// emailKey assembles and checks an address from its local part and its
// domain as found, with spelt-out dots replaced.
func emailKey(local, domain string) (Key, bool) {
	domain = strings.ToLower(dotWordRe.ReplaceAllString(domain, "."))
	labels := strings.Split(domain, ".")
	if len(labels) < 2 || !tldRe.MatchString(labels[len(labels)-1]) {
		return Key{}, false
	}
	for _, l := range labels {
		if l == "" || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return Key{}, false
		}
	}
	local = strings.Trim(strings.ToLower(local), ".")
	if local == "" {
		return Key{}, false
	}
	return Key{KindEmail, local + "@" + domain}, true
}

// phoneCandidate decides whether s, found after before, is a phone number,
// and normalizes it. It is one when it has 8 to 15 digits (E.164's most),
// is not a date, and either starts with "+" or "00" (international form),
// or follows a phone cue ("tel", "WhatsApp", "电话"), or is a formatted
// national number of 10 digits or more: three or more groups of at most
// five digits ("138-1234-5678", "020 7946 0958") or an area code in
// parentheses, with no decimal point — not a price, a SKU or an order
// number ("20240115-1234").
//
// The key is the number's last ten digits: without a region, "+86 138
// 1234 5678" and "138 1234 5678" can only be told to be the same number
// by their national significant number, which ends the same. Ten digits
// keep the numbers of one country apart and rarely collide across them.
func phoneCandidate(before, s string) (Key, bool) {
	s = strings.TrimSpace(s)
	if dateRe.MatchString(s) {
		return Key{}, false
	}
	digits := make([]byte, 0, len(s))
	groups, group, longest := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			digits = append(digits, c)
			if group == 0 {
				groups++
			}
			group++
			longest = max(longest, group)
		} else {
			group = 0
		}
	}
	international := strings.HasPrefix(s, "+") || strings.HasPrefix(s, "00")
	if strings.HasPrefix(s, "00") {
		digits = digits[2:]
	}
	if len(digits) < 8 || len(digits) > 15 {
		return Key{}, false
	}
	cued := phoneCueRe.MatchString(before)
	formatted := len(digits) >= 10 && !strings.Contains(s, ".") &&
		(groups >= 3 && longest <= 5 || strings.HasPrefix(s, "(") && groups >= 2)
	if !international && !cued && !formatted {
		return Key{}, false
	}
	if len(digits) > 10 {
		digits = digits[len(digits)-10:]
	}
	return Key{KindPhone, string(digits)}, true
}

// ShipFromKey normalizes a listing's ship_from: case-folded, spaces
// collapsed; empty when the listing has none.
func ShipFromKey(s string) Key {
	s = strings.Join(strings.Fields(strings.ToLower(norm.NFKC.String(s))), " ")
	if s == "" {
		return Key{}
	}
	return Key{KindShipFrom, s}
}

// sortKeys orders keys by kind then value, for stable output.
func sortKeys(keys []Key) {
	slices.SortFunc(keys, func(a, b Key) int {
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
}
