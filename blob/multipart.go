package blob

import (
	"context"
	"errors"
	"time"
)

// Errors of Multipart stores. Callers test them with errors.Is.
var (
	// ErrNoUpload: no multipart upload has this id at this key (it was
	// never created, or was completed or aborted since).
	ErrNoUpload = errors.New("blob: no such multipart upload")
	// ErrBadParts: the parts named to CompleteMultipart are not the parts
	// that arrived (a number missing, an ETag that changed since, an
	// order not ascending, or a part below MinPartSize that is not the
	// last); nothing was completed and the upload is as it was.
	ErrBadParts = errors.New("blob: parts do not match the upload")
)

// Multipart limits shared by every store (S3's own).
const (
	// MinPartSize is the smallest part but the last: 5 MiB.
	MinPartSize = 5 << 20
	// MaxPartSize is the largest part: 5 GiB.
	MaxPartSize = 5 << 30
	// MaxParts is the most parts one upload may have.
	MaxParts = 10000
)

// Part is one part of a multipart upload that arrived.
type Part struct {
	// Number is the part's position, 1 to MaxParts.
	Number int
	// Size is its length in bytes.
	Size int64
	// ETag identifies its bytes (an opaque string that changes when the
	// part is sent again with other bytes).
	ETag string
}

// Multipart is S3's multipart upload, which a Store may offer besides its
// own methods: a large object is sent by clients directly to the store in
// parts, through presigned part URLs, each part resent as often as needed
// until the caller completes the upload (the parts then become one object)
// or aborts it (the parts are freed). Every method may block on I/O and
// honours ctx; all are safe for concurrent use, also from several processes
// sharing one distributed backend.
//
// The object at key appears only when CompleteMultipart returns nil; a part
// URL stops working once its upload is completed or aborted, so the bytes of
// a completed object never change afterwards.
type Multipart interface {
	// CreateMultipart starts an upload that completes into the object at
	// key with contentType, and returns its id. Nothing is stored yet.
	CreateMultipart(ctx context.Context, key, contentType string) (string, error)
	// PresignPart returns a URL to which an HTTP PUT of exactly size bytes
	// uploads part number (1 to MaxParts) of the upload, until ttl has
	// passed. A PUT with another Content-Length is refused and stores
	// nothing; a PUT again replaces the part. The store does not check
	// that the upload exists now: a PUT to a finished one answers 404.
	PresignPart(ctx context.Context, key, uploadID string, number int, size int64, ttl time.Duration) (string, error)
	// ListParts returns the parts that arrived so far, by number. It fails
	// with ErrNoUpload once the upload was completed or aborted.
	ListParts(ctx context.Context, key, uploadID string) ([]Part, error)
	// CompleteMultipart joins parts (ascending numbers, each with the ETag
	// ListParts gave) into the object at key, and ends the upload: parts
	// not named are freed. ErrNoUpload when the upload is gone (of
	// concurrent completions one succeeds; the others may get ErrNoUpload
	// or nil), ErrBadParts when parts do not match what arrived.
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part) (Info, error)
	// AbortMultipart ends the upload and frees its parts. An unknown or
	// finished upload is not an error.
	AbortMultipart(ctx context.Context, key, uploadID string) error
}
