package store

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func testSellerNetworks(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	const commonAt = 3
	link := func(seller, listing string, keys ...string) LinkResult {
		t.Helper()
		var ks []SellerKey
		for _, k := range keys {
			kind, value, _ := strings.Cut(k, ":")
			ks = append(ks, SellerKey{kind, value})
		}
		res, err := s.LinkSeller(ctx, seller, listing, ks, commonAt)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	members := func(seller string) string {
		t.Helper()
		net, err := s.SellerNetwork(ctx, seller, 100)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range net.Sellers {
			ids = append(ids, m.SellerID)
		}
		return strings.Join(ids, " ")
	}
	// queueFirst is the queue key's priority character of a complaint.
	queueFirst := func(id string) string {
		t.Helper()
		var key string
		if err := s.reader.QueryRowContext(ctx, s.dialect.rebind(`SELECT queue_key FROM complaints WHERE id = ?`), id).Scan(&key); err != nil {
			t.Fatal(err)
		}
		return key[:1]
	}

	if got := members("s_a"); got != "s_a" {
		t.Errorf("unknown seller's network %q, want itself alone", got)
	}
	if r := link("s_a", "l_a1", "phone:5550001111", "photo:00000000000000aa"); r.NewKeys != 2 || r.Unions != 0 || r.Size != 1 || r.NetworkID != "" {
		t.Errorf("first seller: %+v", r)
	}
	if r := link("s_a", "l_a2", "phone:5550001111"); r.NewKeys != 0 {
		t.Errorf("a key seen again: %+v", r)
	}
	// s_b shares the phone, s_c the photo: one network of three.
	if r := link("s_b", "l_b1", "phone:5550001111", "email:x@shop.example"); r.Unions != 1 || r.Size != 2 {
		t.Errorf("s_b: %+v", r)
	}
	if r := link("s_c", "l_c1", "photo:00000000000000aa"); r.Unions != 1 || r.Size != 3 || r.NetworkID == "" {
		t.Errorf("s_c: %+v", r)
	}
	// s_d stands apart; then joins through the e-mail.
	link("s_d", "l_d1", "url:other.example")
	if got := members("s_d"); got != "s_d" {
		t.Errorf("s_d alone: %q", got)
	}
	link("s_d", "l_d2", "email:x@shop.example")
	if got := members("s_c"); got != "s_a s_b s_c s_d" {
		t.Errorf("network %q, want s_a..s_d", got)
	}

	net, err := s.SellerNetwork(ctx, "s_b", 100)
	if err != nil {
		t.Fatal(err)
	}
	var links []string
	for _, l := range net.Links {
		links = append(links, fmt.Sprintf("%s:%s=%s/%s", l.Kind, l.Value, strings.Join(l.Sellers, ","), strings.Join(l.Listings, ",")))
	}
	if got, want := strings.Join(links, " "), "email:x@shop.example=s_b,s_d/l_b1,l_d2 phone:5550001111=s_a,s_b/l_a1,l_b1 photo:00000000000000aa=s_a,s_c/l_a1,l_c1"; got != want {
		t.Errorf("links\n %s\nwant\n %s", got, want)
	}
	if small, err := s.SellerNetwork(ctx, "s_d", 2); err != nil || !small.Truncated || len(small.Sellers) != 2 || (small.Sellers[0].SellerID != "s_d" && small.Sellers[1].SellerID != "s_d") {
		t.Errorf("limited network keeps the seller asked for: %+v, %v", small, err)
	}

	// A strike of one seller puts the network's complaints first, and
	// only while the strike stands.
	for _, c := range []struct{ id, seller string }{{"c_a", "s_a"}, {"c_d", "s_d"}, {"c_x", "s_x"}} {
		cp := testComplaint(c.id)
		cp.SellerID = c.seller
		if _, err := insertComplaint(ctx, s, cp); err != nil {
			t.Fatal(err)
		}
	}
	if queueFirst("c_d") != "1" {
		t.Fatal("priority before any strike")
	}
	if err := s.WithTx(ctx, func(tx *Tx) error {
		_, _, err := tx.AddStrike(ctx, Strike{SellerID: "s_a", ComplaintID: "c_a", CreatedAt: testNow, ExpiresAt: testNow.Add(time.Hour)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if queueFirst("c_d") != "0" || queueFirst("c_a") != "0" || queueFirst("c_x") != "1" {
		t.Errorf("after a strike in the network: c_d %s c_a %s c_x %s, want 0 0 1", queueFirst("c_d"), queueFirst("c_a"), queueFirst("c_x"))
	}
	// A new complaint on a network seller is stored first.
	cp := testComplaint("c_d2")
	cp.SellerID = "s_d"
	if _, err := insertComplaint(ctx, s, cp); err != nil {
		t.Fatal(err)
	}
	if queueFirst("c_d2") != "0" {
		t.Error("new complaint on a network with a strike not first")
	}
	// A priority holder losing its priority does not demote them.
	if err := s.SetPriorityHolders(ctx, []string{"h_1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPriorityHolders(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if queueFirst("c_d") != "0" || queueFirst("c_x") != "1" {
		t.Errorf("after the holder's priority came and went: c_d %s c_x %s, want 0 1", queueFirst("c_d"), queueFirst("c_x"))
	}
	// The matcher filter's copies of the keys follow every re-keying.
	matcherKeysInSync(t, s)
	if p, err := s.ListQueue(ctx, QueueFilter{Matcher: []string{"text"}}, "", 1); err != nil || len(p.Complaints) != 1 ||
		!strings.HasPrefix(p.Complaints[0].Body.SellerID, "s_") || queueFirst(p.Complaints[0].Body.ComplaintID) != "0" {
		t.Errorf("first text complaint is not a priority one: %+v, %v", p.Complaints, err)
	}
	net, _ = s.SellerNetwork(ctx, "s_a", 100)
	if net.Sellers[0].SellerID != "s_a" || net.Sellers[0].Strikes != 1 || net.Sellers[0].ActiveStrikes != 1 || !net.Sellers[1].Priority {
		t.Errorf("network record %+v", net.Sellers)
	}
	// The phone becomes common (more than commonAt sellers): it links
	// nobody, and the network splits where it was the only link.
	link("s_e", "l_e1", "phone:5550001111")
	link("s_f", "l_f1", "phone:5550001111")
	if got := members("s_e"); got != "s_e" {
		t.Errorf("s_e joined through a common phone: %q", got)
	}
	if got := members("s_b"); got != "s_b s_d" {
		t.Errorf("s_b after the phone went common: %q, want s_b s_d", got)
	}
	if got := members("s_a"); got != "s_a s_c" {
		t.Errorf("s_a after the phone went common: %q, want s_a s_c", got)
	}
	if r := link("s_g", "l_g1", "phone:5550001111"); r.Common != 1 || r.NewKeys != 0 {
		t.Errorf("a common key: %+v", r)
	}
	// s_b s_d lost the network with the strike: their priority goes.
	if queueFirst("c_d") != "1" || queueFirst("c_a") != "0" {
		t.Errorf("after the split: c_d %s c_a %s, want 1 0", queueFirst("c_d"), queueFirst("c_a"))
	}
	// Removing the strike takes the last priority away.
	if err := s.WithTx(ctx, func(tx *Tx) error {
		_, err := tx.RemoveStrike(ctx, "c_a")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if queueFirst("c_a") != "1" {
		t.Error("priority kept after the strike was removed")
	}
}

// testConcurrentLinks links sellers from many goroutines at once, as
// several serve replicas and consumer workers do: every union lands, and
// every seller names the same network (no merge on a stale find).
func testConcurrentLinks(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	const n = 12
	errs := make(chan error, n)
	for i := range n {
		go func() {
			// s_i shares k_i with s_(i+1): a chain, linked in any order.
			keys := []SellerKey{{"email", fmt.Sprintf("k%d@x.example", i)}, {"email", fmt.Sprintf("k%d@x.example", (i+n-1)%n)}}
			_, err := s.LinkSeller(ctx, fmt.Sprintf("s_%02d", i), fmt.Sprintf("l_%d", i), keys, 10)
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	net, err := s.SellerNetwork(ctx, "s_00", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(net.Sellers) != n || len(net.Links) != n {
		t.Errorf("network of %d sellers and %d links, want %d and %d", len(net.Sellers), len(net.Links), n, n)
	}
	var ids int
	if err := s.reader.QueryRowContext(ctx, `SELECT COUNT(DISTINCT network_id) FROM seller_networks`).Scan(&ids); err != nil || ids != 1 {
		t.Errorf("%d network ids (%v), want 1", ids, err)
	}
}

// matcherKeysInSync fails t when a complaint_matchers row's queue key is not
// its complaint's.
func matcherKeysInSync(t *testing.T, s *Store) {
	t.Helper()
	var stale int
	if err := s.read().queryRow(t.Context(), `SELECT COUNT(*) FROM complaint_matchers m JOIN complaints c ON c.id = m.complaint_id
		WHERE m.queue_key <> c.queue_key`).Scan(&stale); err != nil || stale != 0 {
		t.Errorf("%d matcher rows with another queue key than their complaint's (%v)", stale, err)
	}
	statusInSync(t, s)
}
