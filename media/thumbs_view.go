package media

import (
	"context"
	"fmt"

	"messenger/blob"
)

// Thumbnail is one thumbnail of an attachment as clients see it.
type Thumbnail struct {
	// URL is a short-lived signed URL of the JPEG.
	URL    string
	Width  int
	Height int
}

// Previews are what an image attachment offers before its download:
// thumbnails and a BlurHash, or that they are still being made.
type Previews struct {
	// Pending: the thumbnail job has not finished yet; MessageUpdated
	// follows when it does.
	Pending bool
	// Images are the thumbnails, smallest first (none while pending, for
	// documents, SVG and WebP, and for images that could not be decoded).
	Images []Thumbnail
	// Blurhash is "" when there is none.
	Blurhash string
}

// Thumbnails are the attachment's thumbnails, smallest first.
func (a *Attachment) Thumbnails() []Thumbnail {
	if a.Previews.Images == nil {
		return []Thumbnail{}
	}
	return a.Previews.Images
}

// Blurhash is the attachment's BlurHash, nil when it has none.
func (a *Attachment) Blurhash() *string {
	if a.Previews.Blurhash == "" {
		return nil
	}
	h := a.Previews.Blurhash
	return &h
}

// ThumbnailsPending reports that thumbnails are still being made.
func (a *Attachment) ThumbnailsPending() bool { return a.Previews.Pending }

// addPreviews fills in the Previews of attachments with one store call,
// signing a URL for each thumbnail.
func (s *Service) addPreviews(ctx context.Context, as []*Attachment) error {
	var ids []string
	for _, a := range as {
		if thumbnailable(a.Upload) {
			ids = append(ids, a.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	states, err := s.thumbs.ThumbnailStates(ctx, ids)
	if err != nil {
		return fmt.Errorf("media: load thumbnails: %w", err)
	}
	for _, a := range as {
		st, ok := states[a.ID]
		if !ok {
			continue
		}
		p := Previews{Pending: st.Pending(), Blurhash: st.Blurhash}
		for _, im := range st.Images {
			url, err := s.blobs.PresignGet(ctx, im.Key, s.cfg.URLTTL, blob.GetOptions{
				ContentType:        "image/jpeg",
				ContentDisposition: blob.ContentDisposition("inline", fmt.Sprintf("thumbnail-%d.jpg", max(im.Width, im.Height))),
			})
			if err != nil {
				return fmt.Errorf("media: sign thumbnail url: %w", err)
			}
			p.Images = append(p.Images, Thumbnail{URL: url, Width: im.Width, Height: im.Height})
		}
		a.Previews = p
	}
	return nil
}
