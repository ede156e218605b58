package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"messenger/blob"
)

// Thumbnail jobs. Every confirmed JPEG, PNG or GIF upload gets a durable
// job (Thumbnails.QueueThumbnails) before its confirmation returns; a
// worker (RunThumbnails) makes the thumbnails and the BlurHash off the
// request path, stores them beside the original, records the result
// (which removes the job) and, when the upload is attached to a message
// by then, tells the conversation's members with MessageUpdated. A crash
// mid-job leaves the job queued: the next start runs it again (it is
// idempotent: the same bytes make the same thumbnails).
const (
	// thumbnailBacklog is how many new jobs wait in memory for this
	// process's workers; past it, jobs wait for the next poll.
	thumbnailBacklog = 256
	// thumbnailPoll is how often the worker looks for jobs it was not told
	// about (queued by a process that died, or that failed here).
	thumbnailPoll = 30 * time.Second
	// thumbnailRetryAfter: a polled job must be this old, so the process
	// that queued it (and is making it) is not raced by every other one.
	thumbnailRetryAfter = time.Minute
)

// ThumbnailKey is where the thumbnail of an upload whose long side is
// size pixels is stored: beside the original (BlobKey).
func ThumbnailKey(uploadID string, size int) string {
	return fmt.Sprintf("%s.%d.jpg", BlobKey(uploadID), size)
}

// thumbnailable: the image formats this server decodes. SVG is vector
// (clients scale it), WebP has no decoder in the standard library: both
// get no thumbnails and are never pending.
func thumbnailable(u Upload) bool {
	if u.Kind != Image {
		return false
	}
	switch u.ContentType {
	case "image/jpeg", "image/png", "image/gif":
		return true
	}
	return false
}

// queueThumbnails records the thumbnail job of a ready upload and hands it
// to this process's workers.
func (s *Service) queueThumbnails(ctx context.Context, u Upload) error {
	if !thumbnailable(u) {
		return nil
	}
	if err := s.thumbs.QueueThumbnails(ctx, u.ID, s.now()); err != nil {
		return fmt.Errorf("media: queue thumbnails of %s: %w", u.ID, err)
	}
	select {
	case s.thumbJobs <- u.ID:
	default: // the poll finds it
	}
	return nil
}

// RunThumbnails makes thumbnails until ctx ends: first every job queued
// (a restart picks up what a crash left), then the jobs this process
// queues as they come, and every thumbnailPoll the jobs older than
// thumbnailRetryAfter (failed ones, or another process's that died). As
// many jobs run at once as there are decode slots (SetConcurrentDecodes).
// Call it once per Service.
func (s *Service) RunThumbnails(ctx context.Context) {
	jobs := make(chan string)
	var mu sync.Mutex
	running := map[string]bool{}
	var wg sync.WaitGroup
	for range cap(*decodeSlots.Load()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				if err := s.MakeThumbnails(ctx, id); err != nil && ctx.Err() == nil {
					s.cfg.Logger.Warn("thumbnails failed; retried later", "upload", id, "err", err)
				}
				mu.Lock()
				delete(running, id)
				mu.Unlock()
			}
		}()
	}
	defer wg.Wait()
	defer close(jobs)
	dispatch := func(id string) {
		mu.Lock()
		busy := running[id]
		running[id] = true
		mu.Unlock()
		if busy {
			return
		}
		select {
		case jobs <- id:
		case <-ctx.Done():
		}
	}
	scan := func(before time.Time) {
		ids, err := s.thumbs.QueuedThumbnails(ctx, before, 500)
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Logger.Warn("thumbnail jobs not listed", "err", err)
			}
			return
		}
		for _, id := range ids {
			dispatch(id)
		}
	}
	scan(s.now().Add(time.Hour))
	t := time.NewTicker(thumbnailPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-s.thumbJobs:
			dispatch(id)
		case <-t.C:
			scan(s.now().Add(-thumbnailRetryAfter))
		}
	}
}

// MakeThumbnails runs the thumbnail job of one upload: RunThumbnails calls
// it, tests and tools may too. A job already done only has its queue entry
// removed; an upload gone (or its bytes) has its job dropped; an image that
// cannot be decoded or declares too many pixels gets a Failed result.
// Other errors leave the job queued for a later attempt.
func (s *Service) MakeThumbnails(ctx context.Context, uploadID string) error {
	states, err := s.thumbs.ThumbnailStates(ctx, []string{uploadID})
	if err != nil {
		return fmt.Errorf("media: read thumbnails of %s: %w", uploadID, err)
	}
	if st, ok := states[uploadID]; ok && !st.Pending() {
		return wrap("finish thumbnail job", s.thumbs.PutThumbnails(ctx, st))
	}
	us, err := s.uploads.Uploads(ctx, []string{uploadID})
	if err != nil {
		return fmt.Errorf("media: load upload %s: %w", uploadID, err)
	}
	u, ok := us[uploadID]
	if !ok || !u.Ready {
		return wrap("drop thumbnail job", s.thumbs.DropThumbnailJob(ctx, uploadID))
	}
	raw, err := s.readBlob(ctx, BlobKey(u.ID))
	if errors.Is(err, blob.ErrNotFound) {
		return wrap("drop thumbnail job", s.thumbs.DropThumbnailJob(ctx, uploadID))
	}
	if err != nil {
		return err
	}
	set := ThumbnailSet{UploadID: u.ID}
	thumbs, hash, err := renderThumbnails(ctx, raw)
	switch {
	case errors.Is(err, ErrImageTooLarge), errors.Is(err, ErrImageUnreadable):
		set.Failed = err.Error()
	case err != nil:
		return err
	default:
		for _, t := range thumbs {
			key := ThumbnailKey(u.ID, max(t.Width, t.Height))
			if _, err := s.blobs.Put(ctx, key, bytes.NewReader(t.JPEG), 0, "image/jpeg"); err != nil && !errors.Is(err, blob.ErrExists) {
				return fmt.Errorf("media: store thumbnail %s: %w", key, err)
			}
			set.Images = append(set.Images, ThumbnailImage{Key: key, Width: t.Width, Height: t.Height})
		}
		set.Blurhash = hash
	}
	set.MadeAt = s.now()
	if err := s.thumbs.PutThumbnails(ctx, set); err != nil {
		return fmt.Errorf("media: record thumbnails of %s: %w", u.ID, err)
	}
	// Read the message id after the result is recorded: a message bound
	// later is read with its thumbnails, one bound before is announced.
	if us, err = s.uploads.Uploads(ctx, []string{uploadID}); err != nil {
		return fmt.Errorf("media: load upload %s: %w", uploadID, err)
	}
	if m := us[uploadID].MessageID; m != "" && !strings.HasPrefix(m, "m:") {
		if err := s.chat.NotifyMessageUpdated(ctx, m); err != nil {
			return fmt.Errorf("media: announce thumbnails of %s: %w", uploadID, err)
		}
	}
	return nil
}

// readBlob reads a stored upload (at most MaxFileBytes: images are
// attachments).
func (s *Service) readBlob(ctx context.Context, key string) ([]byte, error) {
	r, _, err := s.blobs.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("media: read %s: %w", key, err)
	}
	defer func() { _ = r.Close() }()
	raw, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("media: read %s: %w", key, err)
	}
	return raw, nil
}

// dropThumbnails deletes an upload's thumbnails (bytes and record), with
// the upload or when its message is deleted for everyone.
func (s *Service) dropThumbnails(ctx context.Context, uploadID string) error {
	states, err := s.thumbs.ThumbnailStates(ctx, []string{uploadID})
	if err != nil {
		return fmt.Errorf("media: read thumbnails of %s: %w", uploadID, err)
	}
	st, ok := states[uploadID]
	if !ok {
		return nil
	}
	for _, im := range st.Images {
		if err := s.blobs.Delete(ctx, im.Key); err != nil {
			return fmt.Errorf("media: delete thumbnail %s: %w", im.Key, err)
		}
	}
	return wrap("delete thumbnails", s.thumbs.DeleteThumbnails(ctx, uploadID))
}
