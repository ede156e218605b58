package media

import (
	"context"
	"time"
)

// ThumbnailSet is what the thumbnail job made of one image upload.
type ThumbnailSet struct {
	UploadID string
	// Images are the thumbnails, smallest first, each a JPEG blob.
	Images []ThumbnailImage
	// Blurhash is the placeholder string ("" when Failed).
	Blurhash string
	// Failed says why no thumbnails could be made (the image cannot be
	// decoded, or declares too many pixels); empty on success.
	Failed string
	// MadeAt is when the job finished.
	MadeAt time.Time
}

// ThumbnailImage is one stored thumbnail.
type ThumbnailImage struct {
	Key    string
	Width  int
	Height int
}

// Thumbnails are the thumbnail jobs of image uploads, durable so that
// a job queued before a crash runs after the restart, and their results.
// Every method is idempotent: a job may run more than once (after a
// crash, or in two processes at once), and what it records is the same.
type Thumbnails interface {
	// QueueThumbnails records a job for an upload, queued at at; queuing
	// again replaces the time. A job stays queued until PutThumbnails or
	// DropThumbnailJob removes it.
	QueueThumbnails(ctx context.Context, uploadID string, at time.Time) error
	// QueuedThumbnails lists up to limit queued jobs queued before before,
	// as upload ids, in no particular order.
	QueuedThumbnails(ctx context.Context, before time.Time, limit int) ([]string, error)
	// PutThumbnails records set as its upload's result, then removes the
	// upload's job (a crash in between leaves the job queued: running it
	// again records the same result).
	PutThumbnails(ctx context.Context, set ThumbnailSet) error
	// DropThumbnailJob removes an upload's job without a result (the upload
	// is gone); missing is not an error.
	DropThumbnailJob(ctx context.Context, uploadID string) error
	// ThumbnailStates returns, for each of ids that has a job or a result,
	// its result, or a set with only UploadID when the job is still queued
	// (Pending reports that); ids with neither are absent.
	ThumbnailStates(ctx context.Context, ids []string) (map[string]ThumbnailSet, error)
	// DeleteThumbnails forgets an upload's result and job (its blobs are
	// the caller's); missing is not an error.
	DeleteThumbnails(ctx context.Context, uploadID string) error
}

// Pending reports whether the set is a queued job's placeholder: no
// result yet.
func (t ThumbnailSet) Pending() bool { return t.MadeAt.IsZero() }
