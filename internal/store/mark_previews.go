package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// UploadReport is what the matcher makes of an uploaded reference image
// (imagematch.ReferenceReport without its picture).
type UploadReport struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	// Content is the box inside the image's uniform borders: what is
	// matched.
	Content domain.Region `json:"content"`
	// ContentOnly: the content is under 40% of the image, so only the box
	// is hashed.
	ContentOnly bool     `json:"content_only,omitempty"`
	Hashes      int      `json:"hashes"`
	Transparent float64  `json:"transparent,omitempty"`
	Grounds     []string `json:"grounds,omitempty"`
	// Warnings say why the image is weak evidence; none when it is not.
	Warnings []string `json:"warnings,omitempty"`
}

// MarkPreview is an uploaded reference image of a mark as the brand owner
// is shown it: its report; its picture is read with MarkPreviewImage.
type MarkPreview struct {
	MarkID string
	// URL is the reference's name in the mark, upload:<sha256>.
	URL       string
	Kind      string
	FileName  string
	Report    UploadReport
	CreatedAt time.Time
}

// PutMarkPreview stores the preview of an uploaded image and its PNG
// picture. An image uploaded to the mark before keeps its first preview.
func (tx *Tx) PutMarkPreview(ctx context.Context, p MarkPreview, png []byte) error {
	report, err := json.Marshal(p.Report)
	if err != nil {
		return fmt.Errorf("store: put mark %s preview: %w", p.MarkID, err)
	}
	_, err = tx.r.exec(ctx, `INSERT INTO mark_image_previews (mark_id, url, kind, file_name, report, image, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (mark_id, url) DO NOTHING`,
		p.MarkID, p.URL, p.Kind, p.FileName, string(report), png, millis(tx.now))
	if err != nil {
		return fmt.Errorf("store: put mark %s preview: %w", p.MarkID, err)
	}
	return nil
}

// MarkPreviews returns the previews of the mark's uploads, oldest first.
func (s *Store) MarkPreviews(ctx context.Context, markID string) ([]MarkPreview, error) {
	rows, err := s.read().query(ctx, `SELECT url, kind, file_name, report, created_at FROM mark_image_previews
		WHERE mark_id = ? ORDER BY created_at, url`, markID)
	if err != nil {
		return nil, fmt.Errorf("store: mark %s previews: %w", markID, err)
	}
	defer rows.Close()
	var out []MarkPreview
	for rows.Next() {
		p := MarkPreview{MarkID: markID}
		var (
			report  string
			created int64
		)
		if err := rows.Scan(&p.URL, &p.Kind, &p.FileName, &report, &created); err != nil {
			return nil, fmt.Errorf("store: mark %s previews: %w", markID, err)
		}
		if err := json.Unmarshal([]byte(report), &p.Report); err != nil {
			return nil, fmt.Errorf("store: mark %s preview %s: %w", markID, p.URL, err)
		}
		p.CreatedAt = fromMillis(created)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: mark %s previews: %w", markID, err)
	}
	return out, nil
}

// MarkPreviewImage returns the PNG picture of the mark's upload url;
// ErrNotFound when there is none.
func (s *Store) MarkPreviewImage(ctx context.Context, markID, url string) ([]byte, error) {
	var png []byte
	err := s.read().queryRow(ctx, `SELECT image FROM mark_image_previews WHERE mark_id = ? AND url = ?`, markID, url).Scan(&png)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: mark %s preview %s: %w", markID, url, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: mark %s preview %s: %w", markID, url, err)
	}
	return png, nil
}
