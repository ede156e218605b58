package media

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/uuid"

	"messenger/blob"
	"messenger/sniff"
)

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
	limit := s.uploadLimit(sniff.Guess(head))
	tmp, err := os.CreateTemp(s.cfg.TempDir, "upload-")
	if err != nil {
		return Upload{}, fmt.Errorf("media: spool upload: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	defer func() { _ = tmp.Close() }()
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
	if err := s.checkContent("file", name, c, n); err != nil {
		return Upload{}, err
	}
	u := Upload{ID: uuid.NewString(), OwnerID: me, Filename: name, Size: n, Ready: true, CreatedAt: s.now()}
	u.setContent(c)
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Upload{}, fmt.Errorf("media: spool upload: %w", err)
	}
	if _, err := s.blobs.Put(ctx, BlobKey(u.ID), tmp, limit, c.ContentType); err != nil {
		return Upload{}, fmt.Errorf("media: store upload: %w", err)
	}
	if err := s.keepWaveform(ctx, u.ID, c); err != nil {
		_ = s.blobs.Delete(context.WithoutCancel(ctx), BlobKey(u.ID))
		return Upload{}, err
	}
	if err := s.uploads.PutUpload(ctx, u); err != nil {
		_ = s.blobs.Delete(context.WithoutCancel(ctx), BlobKey(u.ID))
		return Upload{}, fmt.Errorf("media: record upload: %w", err)
	}
	if err := s.queueThumbnails(ctx, u); err != nil {
		return Upload{}, err
	}
	return u, nil
}

func tooLarge(limit int64) error {
	return badInput("file", fmt.Sprintf("the file is larger than %d bytes (%d MiB)", limit, limit>>20))
}

// setContent records what sniff.Inspect found, and gives the file name
// the detected type's extension (see servedName).
func (u *Upload) setContent(c sniff.Content) {
	u.Kind, u.ContentType, u.Width, u.Height, u.Duration = c.Kind, c.ContentType, c.Width, c.Height, c.Duration
	u.Filename = servedName(u.Filename, c.ContentType)
}

// Upload returns one of my uploads. Someone else's is NOT_FOUND.
func (s *Service) Upload(ctx context.Context, me, id string) (Upload, error) {
	us, err := s.uploads.Uploads(ctx, []string{id})
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
// signed by Config.Downloads so they also get nosniff. Either way the
// file name's extension is the detected type's (see servedName).
func (s *Service) URL(ctx context.Context, u Upload) (string, error) {
	name := servedName(u.Filename, u.ContentType)
	opts := blob.GetOptions{ContentType: u.ContentType, ContentDisposition: blob.ContentDisposition("inline", name)}
	var signer URLSigner = s.blobs
	if u.Kind == Document {
		opts.ContentDisposition = blob.ContentDisposition("attachment", name)
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
