package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"messenger/blob"
	"messenger/sniff"
)

// CompleteMultipartUpload joins the parts of one of my uploads into its
// file and judges the bytes: every part must have arrived with its exact
// size (else BAD_USER_INPUT naming the parts to send, and nothing changes,
// so the client resends them and completes again), and the bytes must be
// an accepted file of the declared type (else the file is deleted and the
// upload ends). The result is a ready Upload with the upload's id, usable
// in sendMessage like any other. Completing again returns that Upload.
func (s *Service) CompleteMultipartUpload(ctx context.Context, me, id string) (Upload, error) {
	c, err := s.multipart()
	if err != nil {
		return Upload{}, err
	}
	m, err := s.MultipartUpload(ctx, me, id)
	if err != nil {
		// A retried completion whose first attempt finished.
		if u, uerr := s.Upload(ctx, me, id); uerr == nil && u.Ready {
			return u, nil
		}
		return Upload{}, err
	}
	key := BlobKey(m.ID)
	parts, err := c.Store.ListParts(ctx, key, m.StoreID)
	switch {
	case errors.Is(err, blob.ErrNoUpload):
		// Completed by a concurrent call (or aborted): the object, if
		// any, is what it joined.
		if _, serr := s.blobs.Stat(ctx, key); serr != nil {
			return Upload{}, notFound("multipart upload")
		}
	case err != nil:
		return Upload{}, fmt.Errorf("media: list parts: %w", err)
	default:
		if err := checkParts(m, parts); err != nil {
			return Upload{}, err
		}
		var use []blob.Part
		for _, p := range parts {
			if p.Number <= m.PartCount() {
				use = append(use, p)
			}
		}
		_, err = c.Store.CompleteMultipart(ctx, key, m.StoreID, use)
		switch {
		case errors.Is(err, blob.ErrBadParts):
			return Upload{}, badInput("id", "a part changed while completing: list the parts and complete again")
		case errors.Is(err, blob.ErrNoUpload):
			if _, serr := s.blobs.Stat(ctx, key); serr != nil {
				return Upload{}, notFound("multipart upload")
			}
		case err != nil:
			return Upload{}, fmt.Errorf("media: complete multipart upload: %w", err)
		}
	}
	return s.judgeLarge(ctx, m, c)
}

// checkParts refuses a completion while a part is missing or has the wrong
// size, naming the parts to send again.
func checkParts(m MultipartUpload, parts []blob.Part) error {
	missing := MissingParts(m, parts)
	if len(missing) == 0 {
		return nil
	}
	names := make([]string, 0, min(len(missing), 20))
	for i, n := range missing {
		if i == 20 {
			names = append(names, "...")
			break
		}
		names = append(names, fmt.Sprint(n))
	}
	return badInput("id", fmt.Sprintf("%d of %d parts are missing or not of their size (%d bytes, the last %d): send part %s again, then complete",
		len(missing), m.PartCount(), m.PartSize, m.PartSizeOf(m.PartCount()), strings.Join(names, ", ")))
}

// judgeLarge inspects the joined file at BlobKey(m.ID) and records it as a
// ready upload, or deletes it with the upload when its bytes are refused.
func (s *Service) judgeLarge(ctx context.Context, m MultipartUpload, c MultipartConfig) (Upload, error) {
	key := BlobKey(m.ID)
	var verdict error
	content, size, err := s.inspectLarge(ctx, key, m.Size)
	var refused refusedFile
	if errors.As(err, &refused) {
		verdict = refused.err
	} else if err != nil {
		return Upload{}, err
	}
	if verdict == nil && !sameType(m.ContentType, content.ContentType) {
		verdict = badInput("id", fmt.Sprintf("the file is %s, not the declared %s", content.ContentType, m.ContentType))
	}
	if verdict == nil && size != m.Size {
		verdict = badInput("id", fmt.Sprintf("the file has %d bytes, not the declared %d", size, m.Size))
	}
	if verdict == nil && content.Kind == Video && size > limitFor(Video) {
		verdict = tooLarge(limitFor(Video))
	}
	if verdict != nil {
		ctx := context.WithoutCancel(ctx)
		if err := s.blobs.Delete(ctx, key); err != nil {
			return Upload{}, fmt.Errorf("media: delete refused file: %w", err)
		}
		if err := s.cfg.Store.DeleteMultipart(ctx, m.ID); err != nil {
			return Upload{}, fmt.Errorf("media: delete multipart upload: %w", err)
		}
		return Upload{}, verdict
	}
	u := Upload{ID: m.ID, OwnerID: m.OwnerID, Filename: m.Filename, Size: size, Ready: true, CreatedAt: s.now()}
	u.setContent(content)
	if err := s.uploads.PutUpload(ctx, u); err != nil {
		return Upload{}, fmt.Errorf("media: record upload: %w", err)
	}
	if err := s.cfg.Store.DeleteMultipart(ctx, m.ID); err != nil {
		return Upload{}, fmt.Errorf("media: delete multipart upload: %w", err)
	}
	return u, nil
}

// inspectLarge copies the object at key (at most max bytes) into a
// temporary file and inspects it with package sniff. Refused bytes are a
// refusedFile (its err is for the client).
func (s *Service) inspectLarge(ctx context.Context, key string, max int64) (sniff.Content, int64, error) {
	var c sniff.Content
	rc, _, err := s.blobs.Get(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return c, 0, notFound("multipart upload")
	}
	if err != nil {
		return c, 0, fmt.Errorf("media: read large file: %w", err)
	}
	defer func() { _ = rc.Close() }()
	tmp, err := os.CreateTemp(s.cfg.TempDir, "large-")
	if err != nil {
		return c, 0, fmt.Errorf("media: spool large file: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	defer func() { _ = tmp.Close() }()
	n, err := io.Copy(tmp, &blob.LimitedReader{R: rc, N: max})
	if errors.Is(err, blob.ErrTooLarge) {
		return c, 0, refusedFile{badInput("id", fmt.Sprintf("the file is larger than the %d bytes declared", max))}
	}
	if err != nil {
		return c, 0, fmt.Errorf("media: read large file: %w", err)
	}
	c, err = sniff.Inspect(tmp, n)
	if errors.Is(err, sniff.ErrRefused) {
		return c, n, refusedFile{refusal("id", err)}
	}
	if err != nil {
		return c, n, fmt.Errorf("media: inspect large file: %w", err)
	}
	return c, n, nil
}
