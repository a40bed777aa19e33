package domain

import "time"

// Quarantine kinds: which part of a mark stops filing.
const (
	// QuarantineMark stops every auto complaint of the mark.
	QuarantineMark = "mark"
	// QuarantineImage stops the matches of one reference image (Ref is
	// its URL as in image_hashes): the mark still files on other evidence.
	QuarantineImage = "image"
	// QuarantineVariant stops the text matches of one variant (Ref).
	QuarantineVariant = "variant"
)

// Quarantine triggers: why the review service quarantined.
const (
	// TriggerFlood: far more complaints in the short window than the
	// baseline rate.
	TriggerFlood = "flood"
	// TriggerPrecision: recent decisions upheld too few complaints.
	TriggerPrecision = "precision"
)

// Quarantine is one part of a mark (the whole mark, a reference image or a
// variant) whose matches file no auto complaints until an admin releases
// it. Detectors still score the matches, and count and log what they did
// not file.
type Quarantine struct {
	Kind string `json:"kind"`
	// Ref names the reference image (URL) or the variant; empty for kind
	// mark.
	Ref     string `json:"ref,omitempty"`
	Trigger string `json:"trigger"`
	// Reason says why in words the holder and admins read, with the
	// figures that tripped it.
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
	// ReleasedAt and ReleasedBy are set when an admin released it: it no
	// longer holds, and stays on the mark as its history (the review
	// service does not quarantine it again for the baseline window).
	ReleasedAt time.Time `json:"released_at,omitzero"`
	ReleasedBy string    `json:"released_by,omitempty"`
}

// Active reports whether the quarantine holds (it was not released).
func (q Quarantine) Active() bool { return q.ReleasedAt.IsZero() }

// Key is the quarantine's identity within its mark: kind and ref.
func (q Quarantine) Key() string { return q.Kind + ":" + q.Ref }

func (q Quarantine) validate(v *validator, field string, lim Limits) {
	switch q.Kind {
	case QuarantineMark:
		if q.Ref != "" {
			v.fail(field+".ref", "must be empty for kind mark")
		}
	case QuarantineImage, QuarantineVariant:
		v.required(field+".ref", q.Ref)
		v.maxLen(field+".ref", q.Ref, lim.MaxURLBytes)
	default:
		v.fail(field+".kind", "want mark, image or variant, got %q", q.Kind)
	}
	switch q.Trigger {
	case TriggerFlood, TriggerPrecision:
	default:
		v.fail(field+".trigger", "want flood or precision, got %q", q.Trigger)
	}
	v.required(field+".reason", q.Reason)
	v.maxLen(field+".reason", q.Reason, lim.MaxDescriptionBytes)
	if q.Since.IsZero() {
		v.fail(field+".since", "required")
	}
	if !q.ReleasedAt.IsZero() {
		v.id(field+".released_by", q.ReleasedBy)
	} else if q.ReleasedBy != "" {
		v.fail(field+".released_by", "only with released_at")
	}
}

// Quarantined returns the mark's quarantine of kind and ref that holds
// (not released), if any.
func (m *Mark) Quarantined(kind, ref string) (Quarantine, bool) {
	for _, q := range m.Quarantines {
		if q.Kind == kind && q.Ref == ref && q.Active() {
			return q, true
		}
	}
	return Quarantine{}, false
}
