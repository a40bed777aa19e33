package detect

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

const (
	officialHash = 0x9f3c_51a0_77e2_0c4d // the mark's official photo
	ownHash      = 0x1234_5678_9abc_def0 // a seller's own photo, far from it
)

// fixedImages hashes a listing's images as their URLs say: "official",
// "own", anything else fails.
type fixedImages struct{}

func (fixedImages) Listing(_ context.Context, l *domain.Listing) ([]matchers.ListingImage, error) {
	out := make([]matchers.ListingImage, len(l.Images))
	for i, u := range l.Images {
		out[i] = matchers.ListingImage{Index: i, URL: u}
		switch u {
		case "http://img.example/official.jpg":
			out[i].Hashes = []uint64{officialHash}
		case "http://img.example/own.jpg":
			out[i].Hashes = []uint64{ownHash, ownHash ^ 0xff}
		default:
			out[i].Err, out[i].Cause = "fetch "+u+": not found", detection.CauseNotFound
		}
	}
	return out, nil
}

// TestPhotosMessage checks the listing-photos message the stage publishes
// for the seller-network linker: the hash of each image as published, in
// the listing's order, "" for one that could not be had and for one that
// matched a mark's official photo (shared by every seller of the brand,
// it says nothing about who runs a shop); none for a listing without
// images, and none without the topic.
func TestPhotosMessage(t *testing.T) {
	mk := &domain.Mark{
		SchemaVersion: 1, MarkID: "m-veltaro", HolderID: "h-1", Name: "Veltaro", Status: domain.MarkActive,
		Categories: []string{"bags"},
		ImageHashes: []domain.ImageHash{{Kind: "official", URL: "https://veltaro.example/bag.jpg",
			Hashes: []string{domain.PhotoHex(officialHash)}}},
	}
	pm, err := matchers.NewMark(mk)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := detection.Build([]*matchers.Mark{pm}, detection.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	now := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	stage := func(topic string) *Stage[*detection.Engine] {
		s, err := New[*detection.Engine](source{eng}, Options{
			ComplaintsTopic: "complaints", PhotosTopic: topic, Images: fixedImages{}, Now: func() time.Time { return now },
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	listing := func(id string, images ...string) kafka.Message {
		b, _ := json.Marshal(domain.Listing{
			SchemaVersion: 1, ListingID: id, Version: 4, SellerID: "s-7", Title: "leather tote bag", Category: "bags",
			Images: images,
		})
		return kafka.Message{Key: []byte(id), Value: b}
	}
	photos := func(out []kafka.Message) []*domain.ListingPhotos {
		var got []*domain.ListingPhotos
		for _, m := range out {
			if m.Topic != "listing-photos" {
				continue
			}
			p, err := domain.DecodeListingPhotos(m.Value, domain.Limits{})
			if err != nil {
				t.Fatalf("listing-photos message does not decode strictly: %v\n%s", err, m.Value)
			}
			if string(m.Key) != p.ListingID {
				t.Errorf("key %q, listing %q", m.Key, p.ListingID)
			}
			got = append(got, p)
		}
		return got
	}
	ctx := context.Background()

	out, err := stage("listing-photos").Handle(ctx, listing("l-1",
		"http://img.example/own.jpg", "http://img.example/missing.jpg", "http://img.example/official.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	got := photos(out)
	if len(got) != 1 {
		t.Fatalf("%d listing-photos messages, want 1: %v", len(got), out)
	}
	p := got[0]
	if p.SellerID != "s-7" || p.Version != 4 || !p.HashedAt.Equal(now) {
		t.Errorf("message %+v", p)
	}
	want := []string{domain.PhotoHex(ownHash), "", ""}
	if len(p.Photos) != len(want) || p.Photos[0] != want[0] || p.Photos[1] != "" || p.Photos[2] != "" {
		t.Errorf("photos %q, want %q (the official photo left out)", p.Photos, want)
	}
	if h := p.Hashes(); len(h) != 3 || h[0] != ownHash || h[1] != 0 || h[2] != 0 {
		t.Errorf("hashes %x", h)
	}

	// The official photo is left out because it matched: alone, the
	// seller's own photo is published.
	out, err = stage("listing-photos").Handle(ctx, listing("l-2", "http://img.example/official.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if got := photos(out); len(got) != 1 || got[0].Photos[0] != "" {
		t.Errorf("official photo published: %+v", got)
	}
	if out, err = stage("listing-photos").Handle(ctx, listing("l-3")); err != nil || len(photos(out)) != 0 {
		t.Errorf("a listing without images: %v, %v", out, err)
	}
	if out, err = stage("").Handle(ctx, listing("l-4", "http://img.example/own.jpg")); err != nil || len(out) != 0 {
		t.Errorf("without the topic: %v, %v", out, err)
	}
}
