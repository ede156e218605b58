package media

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/google/uuid"

	"messenger/blob"
	"messenger/fault"
	"messenger/sniff"
)

// Large files go straight to the blob store with S3's multipart upload
// (blob.Multipart): the client declares the file, gets one presigned URL
// per part, PUTs the parts (in any order, in parallel, again after a
// failure), lists what arrived to resume, and completes. Completion joins
// the parts into the object at BlobKey(id), a key no part URL can change
// afterwards, judges those bytes like every other upload (package sniff:
// the declared type must be what they are), and only then records a ready
// Upload with the same id, usable as an attachment. An abandoned upload is
// aborted by the sweeper after MultipartConfig.TTL.

// Multipart part bounds: S3's 5 MiB floor, and a ceiling that keeps one
// part's retry cheap.
const (
	MinPartBytes = blob.MinPartSize
	MaxPartBytes = 64 << 20
)

// MultipartConfig enables large files (Config.Multipart). Zero values are
// the documented defaults.
type MultipartConfig struct {
	// Store is the blob store's multipart side, usually the same store as
	// Config.Blobs (unwrapped). Nil disables large files (UNAVAILABLE).
	Store blob.Multipart
	// MaxBytes caps a large file (default 2 GiB).
	MaxBytes int64
	// PartSize is the part size when the client names none (default 8 MiB,
	// within MinPartBytes..MaxPartBytes).
	PartSize int64
	// URLTTL is how long part URLs work (default 1 h; listing the upload
	// again signs fresh ones).
	URLTTL time.Duration
	// TTL: an upload not completed after it is aborted (default 24 h).
	TTL time.Duration
}

func (c MultipartConfig) withDefaults() MultipartConfig {
	if c.MaxBytes <= 0 {
		c.MaxBytes = 2 << 30
	}
	if c.PartSize <= 0 {
		c.PartSize = 8 << 20
	}
	c.PartSize = min(max(c.PartSize, MinPartBytes), MaxPartBytes)
	if c.URLTTL <= 0 {
		c.URLTTL = time.Hour
	}
	if c.TTL <= 0 {
		c.TTL = 24 * time.Hour
	}
	return c
}

// MultipartUpload is a large file being uploaded in parts. Its id becomes
// the id of the Upload that completion makes.
type MultipartUpload struct {
	ID       string
	OwnerID  string
	Filename string
	// ContentType is the declared type; completion refuses other bytes.
	ContentType string
	// Size is the declared total; PartSize the size of every part but the
	// last, which holds the rest.
	Size, PartSize int64
	// StoreID is the blob store's id of the upload.
	StoreID   string
	CreatedAt time.Time
}

// PartCount is how many parts the file has.
func (m MultipartUpload) PartCount() int {
	if m.PartSize <= 0 {
		return 0
	}
	return int((m.Size + m.PartSize - 1) / m.PartSize)
}

// PartSizeOf is the exact size of part n (1-based).
func (m MultipartUpload) PartSizeOf(n int) int64 {
	if n == m.PartCount() {
		return m.Size - int64(n-1)*m.PartSize
	}
	return m.PartSize
}

// Multiparts are the records of multipart uploads in progress: created by
// CreateMultipartUpload, removed when completed, aborted or swept.
type Multiparts interface {
	// PutMultipart creates or replaces a record.
	PutMultipart(ctx context.Context, m MultipartUpload) error
	// Multipart returns a record, or ErrNotFound.
	Multipart(ctx context.Context, id string) (MultipartUpload, error)
	// DeleteMultipart removes a record; missing is not an error.
	DeleteMultipart(ctx context.Context, id string) error
	// StaleMultiparts lists up to limit records created before t, the
	// oldest first as far as the backend's index allows. A record listed
	// but not deleted is listed again.
	StaleMultiparts(ctx context.Context, before time.Time, limit int) ([]MultipartUpload, error)
}

// PartURL is where to PUT one part.
type PartURL struct {
	Number int
	Size   int64
	URL    string
}

func (s *Service) multipart() (MultipartConfig, error) {
	c := s.cfg.Multipart.withDefaults()
	if c.Store == nil {
		return c, &fault.Error{Code: fault.Unavailable, Message: "large files are not configured on this server"}
	}
	return c, nil
}

// declaredType normalises a declared content type and checks that it is
// one the bytes could be (a type package sniff reports).
func declaredType(ct string) (string, error) {
	t, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", badInput("contentType", "contentType is not a media type")
	}
	if t == "image/jpg" || t == "image/pjpeg" {
		t = "image/jpeg"
	}
	if sniff.Extensions(t) == nil {
		return "", badInput("contentType", fmt.Sprintf("%s files are not accepted: images (jpg, png, gif, webp, svg), documents (pdf, doc, docx, csv, xls, xlsx) or videos (mp4, mov)", t))
	}
	return t, nil
}

// CreateMultipartUpload opens a large-file upload of size bytes in parts of
// partSize (0 = the configured default; every part but the last has exactly
// this size, 5-64 MiB). The declared type must be what the bytes turn out
// to be. Part URLs come from PartURLs.
func (s *Service) CreateMultipartUpload(ctx context.Context, me, filename, contentType string, size, partSize int64) (MultipartUpload, error) {
	c, err := s.multipart()
	if err != nil {
		return MultipartUpload{}, err
	}
	name, err := validFilename(filename)
	if err != nil {
		return MultipartUpload{}, err
	}
	ct, err := declaredType(contentType)
	if err != nil {
		return MultipartUpload{}, err
	}
	switch {
	case size <= 0:
		return MultipartUpload{}, badInput("size", "size must be positive")
	case size > c.MaxBytes:
		return MultipartUpload{}, badInput("size", fmt.Sprintf("the file is larger than %d bytes (%d MiB)", c.MaxBytes, c.MaxBytes>>20))
	case partSize != 0 && (partSize < MinPartBytes || partSize > MaxPartBytes):
		return MultipartUpload{}, badInput("partSize", fmt.Sprintf("partSize must be %d-%d bytes (5-64 MiB)", MinPartBytes, MaxPartBytes))
	}
	if partSize == 0 {
		partSize = c.PartSize
	}
	m := MultipartUpload{ID: uuid.NewString(), OwnerID: me, Filename: name, ContentType: ct, Size: size, PartSize: partSize, CreatedAt: s.now()}
	if m.PartCount() > blob.MaxParts {
		return MultipartUpload{}, badInput("partSize", fmt.Sprintf("at most %d parts: use larger parts", blob.MaxParts))
	}
	m.StoreID, err = c.Store.CreateMultipart(ctx, BlobKey(m.ID), ct)
	if err != nil {
		return MultipartUpload{}, fmt.Errorf("media: create multipart upload: %w", err)
	}
	if err := s.cfg.Store.PutMultipart(ctx, m); err != nil {
		_ = c.Store.AbortMultipart(context.WithoutCancel(ctx), BlobKey(m.ID), m.StoreID)
		return MultipartUpload{}, fmt.Errorf("media: record multipart upload: %w", err)
	}
	return m, nil
}

// MultipartUpload returns one of my uploads in progress. Someone else's
// (or a finished one) is NOT_FOUND.
func (s *Service) MultipartUpload(ctx context.Context, me, id string) (MultipartUpload, error) {
	m, err := s.cfg.Store.Multipart(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && m.OwnerID != me) {
		return MultipartUpload{}, notFound("multipart upload")
	}
	if err != nil {
		return MultipartUpload{}, fmt.Errorf("media: load multipart upload: %w", err)
	}
	return m, nil
}

// PartURLs signs a fresh PUT URL for every part, valid until the returned
// time. The caller got m from MultipartUpload (it is the owner's).
func (s *Service) PartURLs(ctx context.Context, m MultipartUpload) ([]PartURL, time.Time, error) {
	c, err := s.multipart()
	if err != nil {
		return nil, time.Time{}, err
	}
	out := make([]PartURL, m.PartCount())
	for i := range out {
		n := i + 1
		u, err := c.Store.PresignPart(ctx, BlobKey(m.ID), m.StoreID, n, m.PartSizeOf(n), c.URLTTL)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("media: sign part %d: %w", n, err)
		}
		out[i] = PartURL{Number: n, Size: m.PartSizeOf(n), URL: u}
	}
	return out, s.now().Add(c.URLTTL), nil
}

// UploadedParts lists the parts that arrived, by number, with their sizes
// and ETags; a part of the wrong size is listed as it is (completion
// refuses it until it is sent again).
func (s *Service) UploadedParts(ctx context.Context, m MultipartUpload) ([]blob.Part, error) {
	c, err := s.multipart()
	if err != nil {
		return nil, err
	}
	ps, err := c.Store.ListParts(ctx, BlobKey(m.ID), m.StoreID)
	if errors.Is(err, blob.ErrNoUpload) {
		return []blob.Part{}, nil // completed or aborted meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("media: list parts: %w", err)
	}
	return ps, nil
}

// MissingParts are the numbers of the parts still to send (absent, or of
// the wrong size), ascending.
func MissingParts(m MultipartUpload, uploaded []blob.Part) []int {
	ok := map[int]bool{}
	for _, p := range uploaded {
		if p.Number >= 1 && p.Number <= m.PartCount() && p.Size == m.PartSizeOf(p.Number) {
			ok[p.Number] = true
		}
	}
	out := []int{}
	for n := 1; n <= m.PartCount(); n++ {
		if !ok[n] {
			out = append(out, n)
		}
	}
	return out
}

// ExpiresAt is when the sweeper aborts m if it is not completed.
func (s *Service) ExpiresAt(m MultipartUpload) time.Time {
	return m.CreatedAt.Add(s.cfg.Multipart.withDefaults().TTL)
}

// AbortMultipartUpload ends one of my uploads in progress and frees its
// parts.
func (s *Service) AbortMultipartUpload(ctx context.Context, me, id string) error {
	m, err := s.MultipartUpload(ctx, me, id)
	if err != nil {
		return err
	}
	return s.dropMultipart(ctx, m)
}

// dropMultipart aborts m in the blob store, removes anything a completion
// that failed halfway left at its key, then its record.
func (s *Service) dropMultipart(ctx context.Context, m MultipartUpload) error {
	c, err := s.multipart()
	if err != nil {
		return err
	}
	if err := c.Store.AbortMultipart(ctx, BlobKey(m.ID), m.StoreID); err != nil {
		return fmt.Errorf("media: abort multipart upload: %w", err)
	}
	if us, err := s.uploads.Uploads(ctx, []string{m.ID}); err != nil {
		return fmt.Errorf("media: load upload: %w", err)
	} else if _, done := us[m.ID]; !done {
		if err := s.blobs.Delete(ctx, BlobKey(m.ID)); err != nil {
			return fmt.Errorf("media: delete upload bytes: %w", err)
		}
	}
	return wrap("delete multipart upload", s.cfg.Store.DeleteMultipart(ctx, m.ID))
}

// sweepMultiparts aborts the uploads not completed within their TTL.
func (s *Service) sweepMultiparts(ctx context.Context, now time.Time) (int, error) {
	if s.cfg.Multipart.Store == nil {
		return 0, nil
	}
	n := 0
	for {
		ms, err := s.cfg.Store.StaleMultiparts(ctx, now.Add(-s.cfg.Multipart.withDefaults().TTL), 500)
		if err != nil {
			return n, err
		}
		for _, m := range ms {
			if err := s.dropMultipart(ctx, m); err != nil {
				return n, err
			}
			n++
		}
		if len(ms) < 500 {
			return n, nil
		}
	}
}

// sameType reports whether detected (from the bytes) is the declared type.
func sameType(declared, detected string) bool {
	return strings.EqualFold(declared, detected)
}

// PartURLExpiry is when part URLs signed now stop working.
func (s *Service) PartURLExpiry() time.Time {
	return s.now().Add(s.cfg.Multipart.withDefaults().URLTTL)
}
