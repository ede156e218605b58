package storage

import (
	"context"
	"time"
)

// LinkPreview is what a page says about itself (OpenGraph, Twitter card,
// <title>, meta description), fetched by the server for the first link of
// a message. Empty strings are absent fields.
type LinkPreview struct {
	URL         string
	Title       string
	Description string
	SiteName    string
	// Image is the page's image as we stored it (re-encoded, never the
	// page's own URL); nil when it has none or it could not be used.
	Image *LinkPreviewImage
}

// LinkPreviewImage is a preview image in the blob store.
type LinkPreviewImage struct {
	Key    string
	Width  int
	Height int
}

// LinkPreviewFetch is the cached outcome of fetching one URL: a preview,
// or (Preview nil) a failure remembered so the URL is not fetched again at
// once.
type LinkPreviewFetch struct {
	URL       string
	Preview   *LinkPreview
	ExpiresAt time.Time
}

// LinkPreviews keeps link previews: a cache of fetch results per URL, and
// the preview attached to each message.
type LinkPreviews interface {
	// CachedLinkPreview returns the fetch of url cached and not expired at
	// now, or ErrNotFound.
	CachedLinkPreview(ctx context.Context, url string, now time.Time) (LinkPreviewFetch, error)
	// CacheLinkPreview stores f under f.URL until f.ExpiresAt, replacing
	// any earlier result. A backend may drop it any time after it expires.
	CacheLinkPreview(ctx context.Context, f LinkPreviewFetch) error
	// SetMessageLinkPreview attaches p to the message (conversationID,
	// seq), replacing any earlier preview of it.
	SetMessageLinkPreview(ctx context.Context, conversationID string, seq int64, p LinkPreview) error
	// MessageLinkPreviews returns the previews of the given messages of one
	// conversation; messages without one are absent from the map.
	MessageLinkPreviews(ctx context.Context, conversationID string, seqs []int64) (map[int64]LinkPreview, error)
}
