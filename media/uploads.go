package media

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"messenger/blob"
	"messenger/sniff"
)

func validFilename(name string) (string, error) {
	name = strings.TrimSpace(name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 255 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", badInput("filename", "the file name must be 1-255 printable characters")
	}
	return name, nil
}

// limitFor is the size limit of a kind of upload.
func limitFor(k Kind) int64 {
	if k == Video {
		return MaxVideoBytes
	}
	return MaxFileBytes
}

// UploadFile checks and stores a file sent through the API. It looks at
// the first bytes to pick the limit (videos have a larger one), copies the
// stream through that limit into a temporary file (refusing the upload the
// moment the limit is passed), inspects the bytes, and only then stores
// them. The declared name is kept for display; the declared type is
// ignored.
func (s *Service) UploadFile(ctx context.Context, me, filename string, r io.Reader) (Upload, error) {
	name, err := validFilename(filename)
	if err != nil {
		return Upload{}, err
	}
	br := bufio.NewReaderSize(r, sniff.HeadLen)
	head, _ := br.Peek(sniff.HeadLen)
	limit := limitFor(sniff.Guess(head))
	tmp, err := os.CreateTemp(s.cfg.TempDir, "upload-")
	if err != nil {
		return Upload{}, fmt.Errorf("media: spool upload: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	lr := &blob.LimitedReader{R: br, N: limit}
	n, err := io.Copy(tmp, lr)
	if errors.Is(err, blob.ErrTooLarge) {
		return Upload{}, tooLarge(limit)
	}
	if err != nil {
		return Upload{}, fmt.Errorf("media: read upload: %w", err)
	}
	c, err := sniff.Inspect(tmp, n)
	if err != nil {
		return Upload{}, refusal("file", err)
	}
	u := Upload{ID: uuid.NewString(), OwnerID: me, Filename: name, Size: n, Ready: true, CreatedAt: s.now()}
	u.setContent(c)
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Upload{}, fmt.Errorf("media: spool upload: %w", err)
	}
	if _, err := s.blobs.Put(ctx, BlobKey(u.ID), tmp, limit, c.ContentType); err != nil {
		return Upload{}, fmt.Errorf("media: store upload: %w", err)
	}
	if err := s.store.PutUpload(ctx, u); err != nil {
		_ = s.blobs.Delete(context.WithoutCancel(ctx), BlobKey(u.ID))
		return Upload{}, fmt.Errorf("media: record upload: %w", err)
	}
	return u, nil
}

func tooLarge(limit int64) error {
	return badInput("file", fmt.Sprintf("the file is larger than %d bytes (%d MiB)", limit, limit>>20))
}

func (u *Upload) setContent(c sniff.Content) {
	u.Kind, u.ContentType, u.Width, u.Height, u.Duration = c.Kind, c.ContentType, c.Width, c.Height, c.Duration
}

// CreateUpload opens a presigned upload slot: the client POSTs the file
// straight to the blob store with the returned form, whose policy refuses
// more than the declared size, then calls ConfirmUpload. declaredType only
// chooses the limit (video/* gets the video limit); the bytes decide.
func (s *Service) CreateUpload(ctx context.Context, me, filename, declaredType string, size int64) (Upload, blob.PostForm, error) {
	name, err := validFilename(filename)
	if err != nil {
		return Upload{}, blob.PostForm{}, err
	}
	limit := limitFor(Image)
	if strings.HasPrefix(strings.ToLower(declaredType), "video/") {
		limit = limitFor(Video)
	}
	if size <= 0 {
		return Upload{}, blob.PostForm{}, badInput("size", "size must be positive")
	}
	if size > limit {
		return Upload{}, blob.PostForm{}, badInput("size", fmt.Sprintf("the file is larger than %d bytes (%d MiB)", limit, limit>>20))
	}
	u := Upload{ID: uuid.NewString(), OwnerID: me, Filename: name, Size: size, CreatedAt: s.now()}
	form, err := s.blobs.PresignPost(ctx, BlobKey(u.ID), size, s.cfg.URLTTL)
	if err != nil {
		return Upload{}, form, fmt.Errorf("media: presign upload: %w", err)
	}
	if err := s.store.PutUpload(ctx, u); err != nil {
		return Upload{}, form, fmt.Errorf("media: record upload: %w", err)
	}
	return u, form, nil
}

// ConfirmUpload checks the bytes a client posted to a presigned slot, the
// same way UploadFile does. Refused bytes are deleted and the slot closed.
// Confirming twice returns the upload as it is.
func (s *Service) ConfirmUpload(ctx context.Context, me, id string) (Upload, error) {
	u, err := s.Upload(ctx, me, id)
	if err != nil || u.Ready {
		return u, err
	}
	rc, info, err := s.blobs.Get(ctx, BlobKey(id))
	if errors.Is(err, blob.ErrNotFound) {
		return Upload{}, badInput("id", "nothing was uploaded to this slot (or the upload was refused)")
	}
	if err != nil {
		return Upload{}, fmt.Errorf("media: read upload: %w", err)
	}
	defer rc.Close()
	discard := func(e error) (Upload, error) {
		ctx := context.WithoutCancel(ctx)
		_ = s.blobs.Delete(ctx, BlobKey(id))
		_ = s.store.DeleteUpload(ctx, id)
		return Upload{}, e
	}
	if info.Size > u.Size {
		return discard(badInput("id", fmt.Sprintf("the uploaded file has %d bytes, more than the %d declared", info.Size, u.Size)))
	}
	tmp, err := os.CreateTemp(s.cfg.TempDir, "confirm-")
	if err != nil {
		return Upload{}, fmt.Errorf("media: spool upload: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, &blob.LimitedReader{R: rc, N: u.Size})
	if errors.Is(err, blob.ErrTooLarge) {
		return discard(badInput("id", fmt.Sprintf("the uploaded file is larger than the %d bytes declared", u.Size)))
	}
	if err != nil {
		return Upload{}, fmt.Errorf("media: read upload: %w", err)
	}
	c, err := sniff.Inspect(tmp, n)
	if err == nil && n > limitFor(c.Kind) {
		err = tooLarge(limitFor(c.Kind))
	}
	if err != nil {
		return discard(refusal("id", err))
	}
	u.setContent(c)
	u.Size, u.Ready = n, true
	if err := s.store.PutUpload(ctx, u); err != nil {
		return Upload{}, fmt.Errorf("media: record upload: %w", err)
	}
	return u, nil
}

// Upload returns one of my uploads. Someone else's is NOT_FOUND.
func (s *Service) Upload(ctx context.Context, me, id string) (Upload, error) {
	us, err := s.store.Uploads(ctx, []string{id})
	if err != nil {
		return Upload{}, fmt.Errorf("media: load upload: %w", err)
	}
	u, ok := us[id]
	if !ok || u.OwnerID != me {
		return Upload{}, notFound("upload")
	}
	return u, nil
}

// URL is a short-lived signed download URL of an upload's bytes. Images
// and videos are served inline with their detected type; documents as a
// download (Content-Disposition: attachment) with their detected type,
// signed by Config.Downloads so they also get nosniff.
func (s *Service) URL(ctx context.Context, u Upload) (string, error) {
	opts := blob.GetOptions{ContentType: u.ContentType, ContentDisposition: blob.ContentDisposition("inline", u.Filename)}
	var signer URLSigner = s.blobs
	if u.Kind == Document {
		opts.ContentDisposition = blob.ContentDisposition("attachment", u.Filename)
		signer = s.cfg.Downloads
	}
	url, err := signer.PresignGet(ctx, BlobKey(u.ID), s.cfg.URLTTL, opts)
	if err != nil {
		return "", fmt.Errorf("media: sign url: %w", err)
	}
	return url, nil
}

// URLExpiry is when a URL made now stops working.
func (s *Service) URLExpiry() time.Time { return s.now().Add(s.cfg.URLTTL) }
