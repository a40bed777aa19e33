package review

import (
	"context"
	"errors"
	"fmt"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
)

// ErrForbidden is returned (wrapped) when the caller's role may not do what
// it asked, whatever the object: a reviewer or a marketplace filing a
// rights holder's complaint.
var ErrForbidden = errors.New("forbidden")

// Filer is who files a manual complaint: a user of the review service.
type Filer struct {
	// UserID is the audit actor; required.
	UserID string
	// Role is the user's role (store.RoleBrandOwner, store.RoleAdmin, ...).
	Role string
	// HolderID is a brand owner's rights holder; empty for other roles.
	HolderID string
}

// MayFile is the one rule for who may file a rights holder's complaint
// through which mark; the API and the console both ask it, and Submit asks
// it again inside its transaction. m is the mark named, nil when there is
// none.
//
//   - A brand owner files for its own holder, through one of its holder's
//     marks that is active. Another holder's mark answers exactly like a
//     missing one (RuleMarkUnknown), so that mark ids cannot be probed.
//   - An admin files on behalf of the mark's holder (say, a complaint the
//     holder sent by mail), through any active mark; the complaint is the
//     holder's, its audit entry names the admin.
//   - Nobody else files rights holders' complaints: a reviewer decides
//     them, and a marketplace is the other party (ErrForbidden).
//
// A mark that is pending (not verified yet), suspended or removed backs no
// complaint (RuleMarkNotActive): only the marks an admin verified, and
// that the detectors watch, may take a listing down.
func MayFile(f Filer, markID string, m *domain.Mark) error {
	owner := f.Role == store.RoleBrandOwner
	switch {
	case f.Role != store.RoleAdmin && !owner:
		return fmt.Errorf("role %s may not file a rights holder's complaint: %w", f.Role, ErrForbidden)
	case owner && f.HolderID == "":
		return fmt.Errorf("brand owner without a holder: %w", ErrForbidden)
	case owner && (m == nil || m.HolderID != f.HolderID):
		return &InvalidError{Field: "mark_id", Rule: RuleMarkUnknown,
			Reason: fmt.Sprintf("mark %q is not one of your holder's marks; a complaint is filed only through a mark its holder owns", markID)}
	case m == nil:
		return &InvalidError{Field: "mark_id", Rule: RuleMarkUnknown, Reason: fmt.Sprintf("no mark %q", markID)}
	}
	return markActive(m)
}

// markActive refuses a mark that is not active.
func markActive(m *domain.Mark) error {
	if m.Status == domain.MarkActive {
		return nil
	}
	return &InvalidError{Field: "mark_id", Rule: RuleMarkNotActive,
		Reason: fmt.Sprintf("mark %q is %s, not active; only a verified, active mark backs a complaint", m.MarkID, m.Status)}
}

// checkMark is the check every complaint passes before it is stored or
// published, whoever filed it: its mark exists, is active, and belongs to
// the complaint's holder. m is the mark named, nil when there is none.
func checkMark(c *domain.Complaint, m *domain.Mark) error {
	if m == nil {
		return &InvalidError{Field: "mark_id", Rule: RuleMarkUnknown, Reason: fmt.Sprintf("no mark %q", c.MarkID)}
	}
	if err := markActive(m); err != nil {
		return err
	}
	if c.HolderID != m.HolderID {
		return &InvalidError{Field: "holder_id", Rule: RuleHolderMismatch,
			Reason: fmt.Sprintf("holder %q is not the holder of mark %q", c.HolderID, m.MarkID)}
	}
	return nil
}

// markReader reads a mark: a *store.Store, or a *store.Tx for a read
// inside the transaction that acts on it.
type markReader interface {
	GetMark(ctx context.Context, id string) (store.Mark, error)
}

// markOf reads the mark id names; nil when there is none.
func markOf(ctx context.Context, r markReader, id string) (*domain.Mark, error) {
	m, err := r.GetMark(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &m.Body, nil
}

// AuthorizeFiling tells whether f may file a complaint through the mark
// markID (MayFile) and returns the holder the complaint is filed for: the
// mark's. The API calls it to name the complaint before Submit, which
// checks again in its transaction.
func (s *Service) AuthorizeFiling(ctx context.Context, f Filer, markID string) (holderID string, err error) {
	m, err := markOf(ctx, s.store, markID)
	if err == nil {
		err = MayFile(f, markID, m)
	}
	if err != nil {
		return "", fmt.Errorf("review: authorize filing through %s: %w", markID, err)
	}
	return m.HolderID, nil
}
