package linkpreview

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // preview images may be GIF (first frame)
	_ "image/png" // and PNG
	"net/http"

	"messenger/media"
)

// Preview images are re-encoded as JPEG, scaled to fit imageSize pixels on
// the longer side; one whose header declares more than maxPixels is
// refused before it is decoded (a small PNG can claim billions).
const (
	imageSize = 800
	maxPixels = 25_000_000
)

// reencode decodes a JPEG, PNG or GIF (judged by its bytes) and returns it
// as a JPEG that fits imageSize, with only its pixels: no metadata of the
// original survives. The decode takes one of the process-wide decode slots
// that thumbnails and avatars share (media.EncodeFitted), so a burst of
// previews cannot hold more images in memory than the bound allows.
func reencode(ctx context.Context, raw []byte) ([]byte, int, int, error) {
	switch http.DetectContentType(raw) {
	case "image/jpeg", "image/png", "image/gif":
	default:
		return nil, 0, 0, fmt.Errorf("%w: not a JPEG, PNG or GIF", ErrBadImage)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return nil, 0, 0, fmt.Errorf("%w: unreadable or too many pixels", ErrBadImage)
	}
	jpg, w, h, err := media.EncodeFitted(ctx, raw, imageSize)
	if errors.Is(err, media.ErrImageUnreadable) || errors.Is(err, media.ErrImageTooLarge) {
		return nil, 0, 0, fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	return jpg, w, h, err
}
