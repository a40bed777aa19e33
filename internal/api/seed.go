package api

import (
	"context"
	"errors"
	"fmt"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
)

// RegisterVerified registers m as an admin would by creating it and
// verifying it at once, for marks whose proof of rights was checked
// elsewhere (markwatch dev's fixture marks): the holder is created when
// missing, under holderName; the mark is stored active at version 1 with
// its audit entry; and its event is enqueued for the marks topic through
// the outbox, the same path a verification takes, so that the registry,
// the marks topic and the detectors agree. A mark id already registered is
// left as it is and created is false, so that a restart seeds nothing
// twice. m must carry its image hashes: the registry never fetches images.
func (a *API) RegisterVerified(ctx context.Context, m *domain.Mark, holderName, actor string) (created bool, err error) {
	if m == nil || m.MarkID == "" || m.HolderID == "" {
		return false, errors.New("api: register verified mark: mark id and holder id are required")
	}
	v := *m
	v.Status = domain.MarkActive
	if err := v.Validate(domain.Limits{}); err != nil {
		return false, fmt.Errorf("api: register verified mark %s: %w", v.MarkID, err)
	}
	err = a.store.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.GetMark(ctx, v.MarkID); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if _, err := tx.GetHolder(ctx, v.HolderID); errors.Is(err, store.ErrNotFound) {
			if _, err := tx.CreateHolder(ctx, store.Holder{ID: v.HolderID, Name: holderName}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		stored, err := tx.CreateMark(ctx, &v)
		if err != nil {
			return err
		}
		if _, err := tx.AppendAudit(ctx, store.AuditEntry{
			Actor: actor, Action: "mark.register_verified", ObjectType: "mark", ObjectID: v.MarkID,
			Detail: auditDetail(map[string]string{"holder_id": v.HolderID, "name": v.Name, "to": domain.MarkActive}),
		}); err != nil {
			return err
		}
		created = true
		return a.publishMark(ctx, tx, &stored)
	})
	if err != nil {
		return false, fmt.Errorf("api: register verified mark %s: %w", v.MarkID, err)
	}
	return created, nil
}
