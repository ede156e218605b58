package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // avatars may be uploaded as GIF (first frame)
	"image/jpeg"
	_ "image/png" // and as PNG
	"io"

	"github.com/google/uuid"

	"messenger/blob"
	"messenger/chat"
	"messenger/storage"
)

// Avatar sizes: the full image fits AvatarFull, thumbnails fit each of
// AvatarThumbnails (pixels on the longer side; smaller images are not
// enlarged).
const (
	AvatarFull = 1024
	// maxAvatarPixels refuses decompression bombs: a 5 MB PNG can claim
	// billions of pixels.
	maxAvatarPixels = 40_000_000
)

// AvatarThumbnails are the thumbnail sizes made for every avatar.
var AvatarThumbnails = []int{256, 64}

var _ chat.Avatars = (*Service)(nil)

// MakeAvatar implements chat.Avatars: my ready JPEG, PNG or GIF upload is
// decoded and re-encoded as JPEG (only pixels survive: no EXIF, no GPS, no
// comments, no ICC), scaled to fit AvatarFull, with a thumbnail per
// AvatarThumbnails, under avatars/<new id>/. The upload itself is left to
// the unused-upload sweeper.
func (s *Service) MakeAvatar(ctx context.Context, me, uploadID string) (storage.Avatar, error) {
	const field = "avatarUploadId"
	u, err := s.Upload(ctx, me, uploadID)
	if err != nil {
		return storage.Avatar{}, err
	}
	if !u.Ready || u.Kind != Image {
		return storage.Avatar{}, badInput(field, "an avatar must be an uploaded image")
	}
	switch u.ContentType {
	case "image/jpeg", "image/png", "image/gif":
	default:
		return storage.Avatar{}, badInput(field, "an avatar must be a JPEG, PNG or GIF image")
	}
	if u.Width*u.Height > maxAvatarPixels {
		return storage.Avatar{}, badInput(field, "the image has too many pixels")
	}
	r, _, err := s.blobs.Get(ctx, BlobKey(u.ID))
	if err != nil {
		return storage.Avatar{}, fmt.Errorf("media: read upload %s: %w", u.ID, err)
	}
	defer func() { _ = r.Close() }()
	raw, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return storage.Avatar{}, fmt.Errorf("media: read upload %s: %w", u.ID, err)
	}
	// The same bounded decode as thumbnails: the header is checked first,
	// a decode slot is held while the image is in memory, and the EXIF
	// orientation is applied.
	var flat *image.RGBA
	err = decodeBounded(ctx, raw, func(img image.Image, format string) error {
		w, h := fitSize(img.Bounds().Dx(), img.Bounds().Dy(), AvatarFull)
		flat = scaleDown(img, w, h)
		if format == "jpeg" {
			flat = orient(flat, jpegOrientation(raw))
		}
		return nil
	})
	switch {
	case errors.Is(err, ErrImageTooLarge), errors.Is(err, ErrImageUnreadable):
		return storage.Avatar{}, badInput(field, "the image cannot be read or is too large")
	case err != nil:
		return storage.Avatar{}, fmt.Errorf("media: decode avatar: %w", err)
	}
	id := uuid.NewString()
	full, err := s.putAvatarImage(ctx, "avatars/"+id+"/full.jpg", fit(flat, AvatarFull))
	if err != nil {
		return storage.Avatar{}, err
	}
	a := storage.Avatar{Key: full.Key, Width: full.Width, Height: full.Height}
	for _, size := range AvatarThumbnails {
		t, err := s.putAvatarImage(ctx, fmt.Sprintf("avatars/%s/%d.jpg", id, size), fit(flat, size))
		if err != nil {
			return storage.Avatar{}, err
		}
		a.Thumbnails = append(a.Thumbnails, t)
	}
	return a, nil
}

// AvatarURL is a short-lived signed URL of one avatar image.
func (s *Service) AvatarURL(ctx context.Context, key string) (string, error) {
	url, err := s.blobs.PresignGet(ctx, key, s.cfg.URLTTL, blob.GetOptions{
		ContentType: "image/jpeg", ContentDisposition: blob.ContentDisposition("inline", "avatar.jpg"),
	})
	if err != nil {
		return "", fmt.Errorf("media: sign avatar url: %w", err)
	}
	return url, nil
}

func (s *Service) putAvatarImage(ctx context.Context, key string, img *image.RGBA) (storage.AvatarImage, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		return storage.AvatarImage{}, fmt.Errorf("media: encode avatar: %w", err)
	}
	if _, err := s.blobs.Put(ctx, key, &buf, 0, "image/jpeg"); err != nil && !errors.Is(err, blob.ErrExists) {
		return storage.AvatarImage{}, fmt.Errorf("media: store avatar: %w", err)
	}
	b := img.Bounds()
	return storage.AvatarImage{Key: key, Width: b.Dx(), Height: b.Dy()}, nil
}

// fit scales src down (never up) so its longer side is at most size, each
// output pixel the average of the source pixels it covers.
func fit(src *image.RGBA, size int) *image.RGBA {
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	if w <= size && h <= size {
		return src
	}
	dw, dh := size, max(1, h*size/w)
	if h > w {
		dw, dh = max(1, w*size/h), size
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		y0, y1 := y*h/dh, max((y+1)*h/dh, y*h/dh+1)
		for x := 0; x < dw; x++ {
			x0, x1 := x*w/dw, max((x+1)*w/dw, x*w/dw+1)
			var r, g, bl, n int
			for sy := y0; sy < y1; sy++ {
				row := src.Pix[sy*src.Stride:]
				for sx := x0; sx < x1; sx++ {
					p := row[sx*4:]
					r, g, bl, n = r+int(p[0]), g+int(p[1]), bl+int(p[2]), n+1
				}
			}
			o := dst.Pix[y*dst.Stride+x*4:]
			o[0], o[1], o[2], o[3] = uint8(r/n), uint8(g/n), uint8(bl/n), 255
		}
	}
	return dst
}
