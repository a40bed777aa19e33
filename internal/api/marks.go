package api

// The mark registry: brand owners register their holder's marks, with the
// proof of their rights, and upload reference images; an admin verifies a
// mark, which publishes it to the compacted marks topic for the detectors,
// or suspends or removes it, which publishes a tombstone.
//
// Uploaded images are hashed (imagematch.Hasher.HashReference) and only the
// hashes are kept, in the mark's image_hashes, under the URL
// "upload:<sha256 of the file>". The bytes are not stored: detectors need
// only the hashes, the holder keeps its originals, the sha256 names the file
// it uploaded, and the database does not grow by megabytes per mark.
// Uploading the same file again changes nothing.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/imagematch"
)

// Defaults of MarkOptions.
const (
	DefaultMarksTopic     = "marks"
	DefaultMaxUploadBytes = 16 << 20
	DefaultMaxImageBytes  = 4 << 20
	DefaultMaxImagePixels = 40_000_000
	DefaultDecodeWait     = 5 * time.Second
)

// MarkOptions configures the mark registry's routes. Zero values take the
// defaults.
type MarkOptions struct {
	// Topic is the compacted topic active marks are published to, keyed
	// by mark id; DefaultMarksTopic when empty.
	Topic string
	// MaxUploadBytes caps a whole image upload request; past it the
	// request answers 413. DefaultMaxUploadBytes when zero.
	MaxUploadBytes int64
	// MaxImageBytes caps one uploaded file; a larger file answers 413
	// naming it. DefaultMaxImageBytes when zero.
	MaxImageBytes int64
	// MaxImagePixels caps the pixels an uploaded image may declare, so
	// that a small file that decompresses to a huge image (a bomb) is
	// refused before it is decoded. DefaultMaxImagePixels when zero.
	MaxImagePixels int64
	// Hasher hashes uploaded images. Pass the process's one Hasher so
	// that uploads and every other image decode share its bounds on what
	// decoding may hold at once; nil builds one from MaxImageBytes,
	// MaxImagePixels and imagematch's default decode caps. Either way an
	// image whose decode would take more than the Hasher's
	// MaxDecodedBytes is refused from its header with a 413.
	Hasher ReferenceHasher
	// Logos, if set, computes an uploaded logo's local features
	// (domain.ImageHash.Features) for logo detection in sellers' photos;
	// pass one that decodes through Hasher (detection.LumaFeatures). nil
	// means logos are published with their hashes only.
	Logos LogoFeaturer
	// DecodeWait is how long an upload waits for its turn to be decoded
	// before it is answered 503 with Retry-After; DefaultDecodeWait when
	// zero.
	DecodeWait time.Duration
}

// ReferenceHasher hashes an uploaded reference image;
// *imagematch.Hasher implements it. HashReference may wait for its turn to
// decode until ctx ends, and then returns an error wrapping
// imagematch.ErrBusy; its other errors wrap imagematch.ErrFormat,
// ErrTooLarge or ErrFeatureless. It is called concurrently.
type ReferenceHasher interface {
	HashReference(ctx context.Context, data []byte) ([]uint64, error)
}

// ReferenceInspector is a ReferenceHasher that also reports what of an
// image is matched and why it is weak (*imagematch.Hasher): an upload
// through one keeps that report and a picture of the matched box, which
// the console shows the brand owner. Its hashes are HashReference's.
type ReferenceInspector interface {
	InspectReference(ctx context.Context, data []byte) ([]uint64, imagematch.ReferenceReport, error)
}

// LogoFeaturer computes a logo's local features (matchers/logo);
// detection.LumaFeatures implements it. A logo too plain to detect fails
// and is published without features.
type LogoFeaturer interface {
	LogoFeatures(ctx context.Context, data []byte) (*matchers.Features, error)
}

// markConfig is MarkOptions with the defaults applied and the hasher built.
type markConfig struct {
	topic     string
	maxUpload int64
	maxImage  int64
	hasher    ReferenceHasher
	logos     LogoFeaturer
	wait      time.Duration
}

func (o MarkOptions) config() (markConfig, error) {
	if o.Topic == "" {
		o.Topic = DefaultMarksTopic
	}
	if o.MaxUploadBytes == 0 {
		o.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if o.MaxImageBytes == 0 {
		o.MaxImageBytes = DefaultMaxImageBytes
	}
	if o.MaxImagePixels == 0 {
		o.MaxImagePixels = DefaultMaxImagePixels
	}
	if o.DecodeWait == 0 {
		o.DecodeWait = DefaultDecodeWait
	}
	if o.MaxUploadBytes < 0 || o.MaxImageBytes < 0 || o.MaxImagePixels < 0 || o.DecodeWait < 0 {
		return markConfig{}, fmt.Errorf("marks: upload cap %d, image cap %d, pixel cap %d and decode wait %s must not be negative",
			o.MaxUploadBytes, o.MaxImageBytes, o.MaxImagePixels, o.DecodeWait)
	}
	if o.Hasher == nil {
		o.Hasher = imagematch.NewHasher(imagematch.Limits{MaxBytes: o.MaxImageBytes, MaxPixels: o.MaxImagePixels})
	}
	return markConfig{
		topic:     o.Topic,
		maxUpload: o.MaxUploadBytes,
		maxImage:  o.MaxImageBytes,
		hasher:    o.Hasher,
		logos:     o.Logos,
		wait:      o.DecodeWait,
	}, nil
}

// markRequest is the body of POST /v1/marks: a mark without what the
// registry decides (its id, status and image hashes).
type markRequest struct {
	// HolderID is required of admins; a brand owner's marks are its own
	// holder's, and it may only name that holder.
	HolderID          string                  `json:"holder_id,omitempty"`
	Name              string                  `json:"name"`
	Variants          []string                `json:"variants,omitempty"`
	DistinctFrom      []string                `json:"distinct_from,omitempty"`
	Registration      domain.Registration     `json:"registration"`
	Logos             []string                `json:"logos,omitempty"`
	OfficialImages    []string                `json:"official_images,omitempty"`
	Categories        []string                `json:"categories,omitempty"`
	ReferencePrices   []domain.ReferencePrice `json:"reference_prices,omitempty"`
	AuthorizedSellers []string                `json:"authorized_sellers,omitempty"`
	Threshold         *float64                `json:"threshold,omitempty"`
}

// markResponse is a mark with the registry's bookkeeping.
type markResponse struct {
	MarkID    string       `json:"mark_id"`
	Status    string       `json:"status" enum:"mark_status"`
	Version   int64        `json:"version"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
	Mark      *domain.Mark `json:"mark"`
}

// markListResponse is a page of marks. NextAfter is the cursor of the next
// page (the after parameter); absent on the last page.
type markListResponse struct {
	Marks     []markResponse `json:"marks"`
	NextAfter string         `json:"next_after,omitempty"`
}

// markListParams are the query parameters GET /v1/marks accepts.
var markListParams = []string{"holder_id", "after", "limit"}

func newMarkResponse(m *store.Mark) markResponse {
	return markResponse{
		MarkID: m.Body.MarkID, Status: m.Body.Status, Version: m.Version,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, Mark: &m.Body,
	}
}

// decodeMarkRequest strictly decodes a POST /v1/marks body and returns the
// pending mark it registers for the caller: a brand owner (owner true)
// registers for ownHolder. The mark is validated like every mark.
func decodeMarkRequest(data []byte, owner bool, ownHolder, markID string) (*domain.Mark, error) {
	var req markRequest
	if err := decodeJSON(data, &req); err != nil {
		return nil, err
	}
	holder := req.HolderID
	switch {
	case owner && holder != "" && holder != ownHolder:
		return nil, badRequest("field holder_id: a brand owner registers marks for its own holder only; omit it")
	case owner:
		holder = ownHolder
	case holder == "":
		return nil, badRequest("field holder_id: required")
	}
	m := &domain.Mark{
		SchemaVersion:     domain.SchemaVersion,
		MarkID:            markID,
		HolderID:          holder,
		Name:              req.Name,
		Variants:          req.Variants,
		DistinctFrom:      req.DistinctFrom,
		Registration:      req.Registration,
		Logos:             req.Logos,
		OfficialImages:    req.OfficialImages,
		Categories:        req.Categories,
		ReferencePrices:   req.ReferencePrices,
		AuthorizedSellers: req.AuthorizedSellers,
		Threshold:         req.Threshold,
		Status:            domain.MarkPending,
	}
	// A mark must prove the holder's rights: where it is registered and
	// under which number.
	if strings.TrimSpace(m.Registration.Office) == "" || strings.TrimSpace(m.Registration.Number) == "" {
		return nil, badRequest("field registration: office and number are required")
	}
	if err := m.Validate(domain.Limits{}); err != nil {
		return nil, err
	}
	return m, nil
}

func newMarkID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("mark id: %w", err)
	}
	return "m_" + hex.EncodeToString(b[:]), nil
}

func isOwner(u *store.User) bool { return identity.Role(u.Role) == identity.RoleBrandOwner }

func (a *API) createMark(w http.ResponseWriter, r *request) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return badRequest("reading the body: %v", err)
	}
	id, err := newMarkID()
	if err != nil {
		return err
	}
	m, err := decodeMarkRequest(data, isOwner(r.user), r.user.HolderID, id)
	if err != nil {
		return err
	}
	var created store.Mark
	err = a.store.WithTx(r.Context(), func(tx *store.Tx) error {
		if _, err := tx.GetHolder(r.Context(), m.HolderID); errors.Is(err, store.ErrNotFound) {
			return badRequest("field holder_id: no holder %q", m.HolderID)
		}
		var err error
		if created, err = tx.CreateMark(r.Context(), m); err != nil {
			return err
		}
		_, err = tx.AppendAudit(r.Context(), store.AuditEntry{
			Actor: r.user.ID, Action: "mark.create", ObjectType: "mark", ObjectID: m.MarkID,
			Detail: auditDetail(map[string]string{"holder_id": m.HolderID, "name": m.Name}),
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("create mark: %w", err)
	}
	writeJSON(w, http.StatusCreated, newMarkResponse(&created))
	return nil
}

func (a *API) getMark(w http.ResponseWriter, r *request) error {
	writeJSON(w, http.StatusOK, newMarkResponse(r.mark))
	return nil
}

func (a *API) listMarks(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains(markListParams, k) {
			return badRequest("query parameter %s: unknown; want one of %s", k, strings.Join(markListParams, ", "))
		}
		if len(q[k]) > 1 {
			return badRequest("query parameter %s: given more than once", k)
		}
	}
	mq := store.MarkQuery{HolderID: q.Get("holder_id"), AfterID: q.Get("after"), Limit: 100}
	if isOwner(r.user) {
		// Another holder's marks are as invisible as a missing holder's.
		if mq.HolderID != "" && mq.HolderID != r.user.HolderID {
			return notFound("holder")
		}
		mq.HolderID = r.user.HolderID
	}
	if v := q.Get("limit"); v != "" {
		var err error
		if mq.Limit, err = strconv.Atoi(v); err != nil || mq.Limit < 1 || mq.Limit > 1000 {
			return badRequest("query parameter limit: want an integer from 1 to 1000")
		}
	}
	marks, err := a.store.ListMarks(r.Context(), mq)
	if err != nil {
		return fmt.Errorf("list marks: %w", err)
	}
	resp := markListResponse{Marks: make([]markResponse, 0, len(marks))}
	for i := range marks {
		resp.Marks = append(resp.Marks, newMarkResponse(&marks[i]))
	}
	if len(marks) == mq.Limit {
		resp.NextAfter = marks[len(marks)-1].Body.MarkID
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (a *API) verifyMark(w http.ResponseWriter, r *request) error {
	return a.setMarkStatus(w, r, "mark.verify", domain.MarkActive, domain.MarkPending, domain.MarkSuspended)
}

func (a *API) suspendMark(w http.ResponseWriter, r *request) error {
	return a.setMarkStatus(w, r, "mark.suspend", domain.MarkSuspended, domain.MarkPending, domain.MarkActive)
}

func (a *API) removeMark(w http.ResponseWriter, r *request) error {
	return a.setMarkStatus(w, r, "mark.remove", domain.MarkRemoved, domain.MarkPending, domain.MarkActive, domain.MarkSuspended)
}

// setMarkStatus moves the mark to status to, from one of from, with its
// audit entry and its event on the marks topic in one transaction. A mark
// not in one of from, or changed by another request meanwhile, is 409.
func (a *API) setMarkStatus(w http.ResponseWriter, r *request, action, to string, from ...string) error {
	id := r.mark.Body.MarkID
	if !slices.Contains(from, r.mark.Body.Status) {
		return &apiError{status: http.StatusConflict, code: "conflict",
			msg: fmt.Sprintf("mark is %s; only a %s mark can become %s", r.mark.Body.Status, strings.Join(from, " or "), to)}
	}
	var changed store.Mark
	err := a.store.WithTx(r.Context(), func(tx *store.Tx) error {
		var err error
		if changed, err = tx.SetMarkStatus(r.Context(), id, r.mark.Body.Status, to); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(r.Context(), store.AuditEntry{
			Actor: r.user.ID, Action: action, ObjectType: "mark", ObjectID: id,
			Detail: auditDetail(map[string]string{"from": r.mark.Body.Status, "to": to}),
		}); err != nil {
			return err
		}
		return a.publishMark(r.Context(), tx, &changed)
	})
	if err != nil {
		return fmt.Errorf("%s %s: %w", action, id, err)
	}
	writeJSON(w, http.StatusOK, newMarkResponse(&changed))
	return nil
}

// publishMark enqueues m's state on the compacted marks topic: the mark
// when it is active, otherwise a tombstone, so that detectors stop watching
// it. The event id names the version, so each change is one event.
func (a *API) publishMark(ctx context.Context, tx *store.Tx, m *store.Mark) error {
	return tx.EnqueueMark(ctx, a.marks.topic, m)
}

// auditDetail encodes an audit detail; a map of strings always encodes.
func auditDetail(v map[string]string) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// markImagesResponse answers an image upload: the mark, how many of the
// uploaded images were new to it, and what the matcher makes of each
// (when the process's hasher says).
type markImagesResponse struct {
	Added    int             `json:"added"`
	Mark     markResponse    `json:"mark"`
	Uploaded []uploadedImage `json:"uploaded,omitempty"`
}

// uploadedImage is one uploaded file: its name in the mark
// (upload:<sha256>), kind, file name, and the matcher's report on it.
type uploadedImage struct {
	URL      string             `json:"url"`
	Kind     string             `json:"kind"`
	FileName string             `json:"file_name"`
	Report   store.UploadReport `json:"report"`
}

// uploadPreview is an uploaded file's report and picture, kept beside the
// mark by the upload's transaction.
type uploadPreview struct {
	uploadedImage
	png []byte
}

func (a *API) addMarkImages(w http.ResponseWriter, r *request) error {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return badRequest("Content-Type: want multipart/form-data with files in fields logo or official")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return badRequest("multipart body: %v", err)
	}
	var (
		hashes   []domain.ImageHash
		previews []uploadPreview
	)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return err
			}
			return badRequest("multipart body: %v", err)
		}
		h, pv, err := a.hashPart(r.Context(), part)
		part.Close()
		if err == errDecodeBusy {
			w.Header().Set("Retry-After", strconv.Itoa(int(max(a.marks.wait.Round(time.Second), time.Second)/time.Second)))
		}
		if err != nil {
			return err
		}
		hashes = append(hashes, h)
		if pv != nil {
			previews = append(previews, *pv)
		}
		if len(hashes) > domain.DefaultLimits.MaxListItems {
			return badRequest("too many files: at most %d reference images per mark", domain.DefaultLimits.MaxListItems)
		}
	}
	if len(hashes) == 0 {
		return badRequest("no files: upload images in fields logo or official")
	}
	id := r.mark.Body.MarkID
	var (
		changed store.Mark
		added   int
	)
	err = a.store.WithTx(r.Context(), func(tx *store.Tx) error {
		before, err := tx.GetMark(r.Context(), id)
		if err != nil {
			return err
		}
		if changed, err = tx.AddMarkImages(r.Context(), id, hashes); err != nil {
			return err
		}
		if err := changed.Body.Validate(domain.Limits{}); err != nil {
			return err
		}
		for _, pv := range previews {
			if err := tx.PutMarkPreview(r.Context(), store.MarkPreview{
				MarkID: id, URL: pv.URL, Kind: pv.Kind, FileName: pv.FileName, Report: pv.Report,
			}, pv.png); err != nil {
				return err
			}
		}
		if changed.Version == before.Version {
			return nil // every file was already there
		}
		added = len(changed.Body.ImageHashes) - len(before.Body.ImageHashes)
		urls := make([]string, 0, len(hashes))
		for _, h := range hashes {
			urls = append(urls, h.URL)
		}
		if _, err := tx.AppendAudit(r.Context(), store.AuditEntry{
			Actor: r.user.ID, Action: "mark.images", ObjectType: "mark", ObjectID: id,
			Detail: auditDetail(map[string]string{"uploaded": strings.Join(urls, " ")}),
		}); err != nil {
			return err
		}
		// An active mark's detectors must see its new images.
		if changed.Body.Active() {
			return a.publishMark(r.Context(), tx, &changed)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add mark %s images: %w", id, err)
	}
	resp := markImagesResponse{Added: added, Mark: newMarkResponse(&changed)}
	for _, pv := range previews {
		resp.Uploaded = append(resp.Uploaded, pv.uploadedImage)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// uploadFields are the multipart fields of POST /v1/marks/{id}/images,
// one per kind of reference image.
var uploadFields = []string{"logo", "official"}

// uploadPart is the part of a multipart upload hashPart reads.
type uploadPart interface {
	io.Reader
	FormName() string
	FileName() string
}

// errDecodeBusy answers an upload that waited DecodeWait for its turn to
// be decoded: the process is decoding as many images as it may hold.
var errDecodeBusy = &apiError{status: http.StatusServiceUnavailable, code: "busy",
	msg: "too many images are being decoded right now; retry after the Retry-After delay"}

// hashPart reads one uploaded file, at most the per-file cap, and hashes it
// as a reference image, waiting at most DecodeWait for its turn to be
// decoded; with a ReferenceInspector it also returns the file's preview
// (nil without). Its errors name the file.
func (a *API) hashPart(ctx context.Context, part uploadPart) (domain.ImageHash, *uploadPreview, error) {
	kind := part.FormName()
	name := part.FileName()
	if len(name) > 200 {
		name = name[:200]
	}
	if !slices.Contains(uploadFields, kind) {
		return domain.ImageHash{}, nil, badRequest("field %q: unknown; upload images in fields logo or official", kind)
	}
	data, err := io.ReadAll(io.LimitReader(part, a.marks.maxImage+1))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return domain.ImageHash{}, nil, err
		}
		return domain.ImageHash{}, nil, badRequest("file %q (%s): %v", name, kind, err)
	}
	if int64(len(data)) > a.marks.maxImage {
		return domain.ImageHash{}, nil, &apiError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large",
			msg: fmt.Sprintf("file %q (%s): over the %d-byte cap per image", name, kind, a.marks.maxImage)}
	}
	wctx, cancel := context.WithTimeout(ctx, a.marks.wait)
	defer cancel()
	var (
		sums   []uint64
		report *imagematch.ReferenceReport
	)
	if in, ok := a.marks.hasher.(ReferenceInspector); ok {
		var rep imagematch.ReferenceReport
		sums, rep, err = in.InspectReference(wctx, data)
		report = &rep
	} else {
		sums, err = a.marks.hasher.HashReference(wctx, data)
	}
	if errors.Is(err, imagematch.ErrBusy) {
		if ctx.Err() != nil {
			return domain.ImageHash{}, nil, ctx.Err() // the client went away
		}
		return domain.ImageHash{}, nil, errDecodeBusy
	}
	if err != nil {
		// Every refusal says why, from the image's header and bytes
		// alone (format, declared size, decode cost, blankness), so the
		// reason is safe to show.
		reason := "not a usable image"
		for _, sentinel := range []error{imagematch.ErrFormat, imagematch.ErrTooLarge, imagematch.ErrFeatureless} {
			if errors.Is(err, sentinel) {
				reason = strings.TrimPrefix(err.Error(), "imagematch: hash reference image: ")
			}
		}
		return domain.ImageHash{}, nil, badRequest("file %q (%s): %s", name, kind, reason)
	}
	sum := sha256.Sum256(data)
	h := domain.ImageHash{Kind: kind, URL: "upload:" + hex.EncodeToString(sum[:])}
	for _, x := range sums {
		h.Hashes = append(h.Hashes, matchers.FormatHash(x))
	}
	if kind == matchers.RefLogo && a.marks.logos != nil {
		// The hashes decoded it, so it is a usable image; features are
		// best effort (a plain logo has too few corners, and a busy
		// decoder is no reason to refuse the upload).
		if f, err := a.marks.logos.LogoFeatures(wctx, data); err == nil {
			if enc, err := matchers.EncodeFeatures(f); err == nil {
				h.Features = enc
			}
		}
	}
	if report == nil {
		return h, nil, nil
	}
	var png bytes.Buffer
	if err := pngEncoder.Encode(&png, report.Preview); err != nil {
		return domain.ImageHash{}, nil, fmt.Errorf("file %q: encode preview: %w", name, err)
	}
	pv := &uploadPreview{png: png.Bytes(), uploadedImage: uploadedImage{URL: h.URL, Kind: kind, FileName: name, Report: store.UploadReport{
		Width: report.Width, Height: report.Height, Content: report.Content, ContentOnly: report.ContentOnly,
		Hashes: report.Hashes, Transparent: report.Transparent, Grounds: report.Grounds, Warnings: report.Warnings,
	}}}
	return h, pv, nil
}

// pngEncoder encodes previews: small grey pictures, compressed hard since
// they are stored.
var pngEncoder = png.Encoder{CompressionLevel: png.BestCompression}
