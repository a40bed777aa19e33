package domain

import (
	"fmt"
	"regexp"
)

var hexHash = regexp.MustCompile(`^[0-9a-f]{16,64}$`)

// DecodeMark strictly decodes and validates one mark.
func DecodeMark(data []byte, lim Limits) (*Mark, error) {
	lim = lim.WithDefaults()
	var m Mark
	if err := decodeStrict(data, &m, lim); err != nil {
		return nil, err
	}
	if err := m.Validate(lim); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks a mark against the format and the caps in lim.
func (m *Mark) Validate(lim Limits) error {
	lim = lim.WithDefaults()
	v := &validator{lim: lim}
	v.schema(m.SchemaVersion)
	v.id("mark_id", m.MarkID)
	v.id("holder_id", m.HolderID)
	v.required("name", m.Name)
	v.maxLen("name", m.Name, lim.MaxShortFieldBytes)
	v.list("variants", m.Variants, lim.MaxListItems, lim.MaxShortFieldBytes)
	v.list("distinct_from", m.DistinctFrom, lim.MaxListItems, lim.MaxShortFieldBytes)
	v.maxLen("registration.office", m.Registration.Office, lim.MaxShortFieldBytes)
	v.maxLen("registration.number", m.Registration.Number, lim.MaxShortFieldBytes)
	v.list("registration.jurisdictions", m.Registration.Jurisdictions, lim.MaxListItems, lim.MaxShortFieldBytes)
	for i, c := range m.Registration.Classes {
		if c < 1 || c > 45 {
			v.fail(fmt.Sprintf("registration.classes[%d]", i), "Nice class %d out of range 1..45", c)
		}
	}
	for i, u := range m.Logos {
		v.imageRef(fmt.Sprintf("logos[%d]", i), u)
	}
	for i, u := range m.OfficialImages {
		v.imageRef(fmt.Sprintf("official_images[%d]", i), u)
	}
	if n := len(m.Logos) + len(m.OfficialImages); n > lim.MaxListItems {
		v.fail("official_images", "%d reference images, over the cap of %d", n, lim.MaxListItems)
	}
	v.list("categories", m.Categories, lim.MaxListItems, lim.MaxShortFieldBytes)
	v.list("authorized_sellers", m.AuthorizedSellers, 10*lim.MaxListItems, lim.MaxIDBytes)
	if len(m.ReferencePrices) > lim.MaxListItems {
		v.fail("reference_prices", "%d items, over the cap of %d", len(m.ReferencePrices), lim.MaxListItems)
	}
	for i, p := range m.ReferencePrices {
		f := fmt.Sprintf("reference_prices[%d]", i)
		v.maxLen(f+".category", p.Category, lim.MaxShortFieldBytes)
		v.amount(f+".amount", p.Amount)
		v.currency(f+".currency", p.Currency)
	}
	if m.Threshold != nil && (*m.Threshold <= 0 || *m.Threshold > 1) {
		v.fail("threshold", "must be in (0, 1], got %g", *m.Threshold)
	}
	switch m.Status {
	case MarkActive, MarkPending, MarkSuspended, MarkRemoved:
	case "":
		v.fail("status", "required")
	default:
		v.fail("status", "unknown status %q (want active, pending, suspended or removed)", m.Status)
	}
	// One entry per reference image, so the same cap bounds the hashes a
	// detector compares every listing image against.
	if len(m.ImageHashes) > lim.MaxListItems {
		v.fail("image_hashes", "%d items, over the cap of %d", len(m.ImageHashes), lim.MaxListItems)
	}
	for i, h := range m.ImageHashes {
		f := fmt.Sprintf("image_hashes[%d]", i)
		if h.Kind != "logo" && h.Kind != "official" {
			v.fail(f+".kind", "want logo or official, got %q", h.Kind)
		}
		v.maxLen(f+".url", h.URL, lim.MaxURLBytes)
		// The encoding's own cap (matchers.MaxEncodedFeatures keypoints);
		// its content is checked where it is decoded.
		v.maxLen(f+".features", h.Features, MaxFeaturesBytes)
		if len(h.Hashes) == 0 || len(h.Hashes) > 64 {
			v.fail(f+".hashes", "want 1..64 hashes, got %d", len(h.Hashes))
		}
		for j, s := range h.Hashes {
			if !hexHash.MatchString(s) {
				v.fail(fmt.Sprintf("%s.hashes[%d]", f, j), "not a lowercase hex hash")
			}
		}
	}
	if len(m.Quarantines) > lim.MaxListItems {
		v.fail("quarantines", "%d items, over the cap of %d", len(m.Quarantines), lim.MaxListItems)
	}
	for i, q := range m.Quarantines {
		q.validate(v, fmt.Sprintf("quarantines[%d]", i), lim)
	}
	return v.err
}

// MaxFeaturesBytes caps a reference image's encoded features: 512
// keypoints of 38 bytes, in base64, with the header.
const MaxFeaturesBytes = 26_000

// Active reports whether the mark is watched.
func (m *Mark) Active() bool { return m.Status == MarkActive }
