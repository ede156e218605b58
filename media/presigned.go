package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"

	"messenger/blob"
	"messenger/sniff"
)

// The bytes of a presigned upload live at two keys. The form posts to the
// slot (SlotKey), and keeps working until it expires: S3 has no single-use
// form, so whoever holds it may post again, before or after confirmation.
// ConfirmUpload therefore copies the slot's bytes once into a local file,
// inspects that file, and stores that same file at BlobKey, a key no form
// ever covers, with blob.Store.Put, which never replaces an object. What
// recipients download is byte for byte what was inspected; a later POST
// only changes the slot, which nothing serves and the sweeper empties.

// SlotKey is where the presigned form of an upload posts its bytes. The
// hour it was created leads the key, so the sweeper lists old slots first
// (see sweepSlots).
func SlotKey(u Upload) string {
	return slotPrefix + u.CreatedAt.UTC().Format(slotHour) + "/" + u.ID
}

const (
	slotPrefix = "incoming/"
	slotHour   = "2006010215"
)

// CreateUpload opens a presigned upload slot: the client POSTs the file
// straight to the blob store with the returned form, whose policy refuses
// more than the declared size, then calls ConfirmUpload. declaredType only
// chooses the limit (video/* gets the video limit); the bytes decide.
func (s *Service) CreateUpload(ctx context.Context, me, filename, declaredType string, size int64) (Upload, blob.PostForm, error) {
	name, err := validFilename(filename)
	if err != nil {
		return Upload{}, blob.PostForm{}, err
	}
	if err := declaredAs(name, declaredType); err != nil {
		return Upload{}, blob.PostForm{}, err
	}
	limit := s.uploadLimit(Image)
	if strings.HasPrefix(strings.ToLower(declaredType), "video/") {
		limit = s.uploadLimit(Video)
	}
	if size <= 0 {
		return Upload{}, blob.PostForm{}, badInput("size", "size must be positive")
	}
	if size > limit {
		return Upload{}, blob.PostForm{}, badInput("size", fmt.Sprintf("the file is larger than %d bytes (%d MiB)", limit, limit>>20))
	}
	u := Upload{ID: uuid.NewString(), OwnerID: me, Filename: name, Size: size, CreatedAt: s.now()}
	form, err := s.blobs.PresignPost(ctx, SlotKey(u), size, s.cfg.URLTTL)
	if err != nil {
		return Upload{}, form, fmt.Errorf("media: presign upload: %w", err)
	}
	if err := s.uploads.PutUpload(ctx, u); err != nil {
		return Upload{}, form, fmt.Errorf("media: record upload: %w", err)
	}
	return u, form, nil
}

// ConfirmUpload checks the bytes a client posted to a presigned slot, the
// same way UploadFile does, and makes them the upload's for good (see
// above). Refused bytes are deleted and the slot closed. Confirming twice
// returns the upload as it is; of concurrent confirmations the first to
// store its bytes decides, and the others describe those bytes.
func (s *Service) ConfirmUpload(ctx context.Context, me, id string) (Upload, error) {
	u, err := s.Upload(ctx, me, id)
	if err != nil || u.Ready {
		return u, err
	}
	f, err := s.spool(ctx, SlotKey(u), u.Filename, u.Size)
	if errors.Is(err, blob.ErrNotFound) {
		return Upload{}, badInput("id", "nothing was uploaded to this slot (or the upload was refused)")
	}
	if err != nil {
		var ce refusedFile
		if !errors.As(err, &ce) {
			return Upload{}, err
		}
		// Bad bytes in the slot. If a concurrent confirmation already
		// stored good ones, they stand; otherwise the slot is closed.
		if _, serr := s.blobs.Stat(ctx, BlobKey(id)); serr == nil {
			return s.confirmStored(ctx, u)
		}
		ctx := context.WithoutCancel(ctx)
		_ = s.blobs.Delete(ctx, SlotKey(u))
		_ = s.uploads.DeleteUpload(ctx, id)
		return Upload{}, ce.err
	}
	defer f.close()
	_, err = s.blobs.Put(ctx, BlobKey(id), f.file, f.size, f.content.ContentType)
	if errors.Is(err, blob.ErrExists) {
		return s.confirmStored(ctx, u)
	}
	if err != nil {
		return Upload{}, fmt.Errorf("media: store upload: %w", err)
	}
	return s.markReady(ctx, u, f)
}

// confirmStored describes the bytes a concurrent confirmation stored at
// BlobKey, inspecting them again (they passed once; they cannot change).
func (s *Service) confirmStored(ctx context.Context, u Upload) (Upload, error) {
	f, err := s.spool(ctx, BlobKey(u.ID), u.Filename, s.uploadLimit(Video))
	if err != nil {
		return Upload{}, fmt.Errorf("media: read stored upload %s: %w", u.ID, err)
	}
	defer f.close()
	return s.markReady(ctx, u, f)
}

// markReady records what f holds as the upload's content, and empties the
// slot (best effort: the sweeper removes what is left).
func (s *Service) markReady(ctx context.Context, u Upload, f *spooled) (Upload, error) {
	u.setContent(f.content)
	u.Size, u.Ready = f.size, true
	if err := s.keepWaveform(ctx, u.ID, f.content); err != nil {
		return Upload{}, err
	}
	if err := s.uploads.PutUpload(ctx, u); err != nil {
		return Upload{}, fmt.Errorf("media: record upload: %w", err)
	}
	if err := s.queueThumbnails(ctx, u); err != nil {
		return Upload{}, err
	}
	_ = s.blobs.Delete(context.WithoutCancel(ctx), SlotKey(u))
	return u, nil
}

// spooled is a blob copied into a local temporary file and inspected.
type spooled struct {
	file    *os.File
	size    int64
	content sniff.Content
}

func (f *spooled) close() {
	_ = f.file.Close()
	_ = os.Remove(f.file.Name())
}

// refusedFile is spool's verdict on bad bytes: err is for the client.
type refusedFile struct{ err error }

func (e refusedFile) Error() string { return e.err.Error() }

// spool copies the object at key, at most max bytes, into a temporary file
// and inspects it; the file is rewound for reading. It fails with
// blob.ErrNotFound when there is no object, and with a refusedFile when the
// bytes are too many or not acceptable.
func (s *Service) spool(ctx context.Context, key, name string, max int64) (*spooled, error) {
	rc, info, err := s.blobs.Get(ctx, key)
	if err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("media: read upload: %w", err)
	}
	defer func() { _ = rc.Close() }()
	if info.Size > max {
		return nil, refusedFile{badInput("id", fmt.Sprintf("the uploaded file has %d bytes, more than the %d declared", info.Size, max))}
	}
	tmp, err := os.CreateTemp(s.cfg.TempDir, "confirm-")
	if err != nil {
		return nil, fmt.Errorf("media: spool upload: %w", err)
	}
	f := &spooled{file: tmp}
	ok := false
	defer func() {
		if !ok {
			f.close()
		}
	}()
	f.size, err = io.Copy(tmp, &blob.LimitedReader{R: rc, N: max})
	if errors.Is(err, blob.ErrTooLarge) {
		return nil, refusedFile{badInput("id", fmt.Sprintf("the uploaded file is larger than the %d bytes declared", max))}
	}
	if err != nil {
		return nil, fmt.Errorf("media: read upload: %w", err)
	}
	f.content, err = sniff.Inspect(tmp, f.size)
	if errors.Is(err, sniff.ErrRefused) {
		return nil, refusedFile{refusal("id", err)}
	}
	if err != nil {
		return nil, fmt.Errorf("media: inspect upload: %w", err)
	}
	if err := s.checkContent("id", name, f.content, f.size); err != nil {
		return nil, refusedFile{err}
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("media: spool upload: %w", err)
	}
	ok = true
	return f, nil
}
