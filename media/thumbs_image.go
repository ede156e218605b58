package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"sync/atomic"
)

// Thumbnail limits. An image whose header declares more is refused
// before a single pixel is decoded: decoding allocates width × height ×
// (up to 8) bytes whatever the file's size, so a 20 KB PNG can claim 20,000
// × 20,000 pixels (3.2 GB).
const (
	// MaxDecodePixels caps width × height of an image we decode: 40 MP.
	MaxDecodePixels = 40_000_000
	// MaxDecodeSide caps either side.
	MaxDecodeSide = 12_000
	// thumbnailQuality is the JPEG quality of thumbnails.
	thumbnailQuality = 82
)

// ThumbnailSizes are the long sides of the thumbnails made for every
// image attachment, smallest first. Images are never enlarged: a smaller
// image gets its own size instead, once.
var ThumbnailSizes = []int{160, 320, 800}

// Errors of image decoding.
var (
	// ErrImageTooLarge: the header declares more pixels than we decode.
	ErrImageTooLarge = errors.New("media: image declares too many pixels")
	// ErrImageUnreadable: not an image this server decodes (JPEG, PNG, GIF).
	ErrImageUnreadable = errors.New("media: image cannot be decoded")
)

// decodeSlots bounds the image decodes running at once in this process
// (thumbnails and avatars), so that a burst of uploads costs at most
// slots × (one decoded image) of memory.
var decodeSlots atomic.Pointer[chan struct{}]

func init() { SetConcurrentDecodes(2) }

// SetConcurrentDecodes sets how many images this process decodes at once
// (default 2; n < 1 means 1). Call it at start, before any decode: a decode
// running during the change keeps the slot it had.
func SetConcurrentDecodes(n int) {
	ch := make(chan struct{}, max(1, n))
	decodeSlots.Store(&ch)
}

// acquireDecode waits for a decode slot; release gives it back.
func acquireDecode(ctx context.Context) (release func(), err error) {
	ch := *decodeSlots.Load()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// checkImage reads only the header of raw and refuses images we do not
// decode or that declare too many pixels.
func checkImage(raw []byte) (image.Config, string, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return cfg, "", ErrImageUnreadable
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, "", ErrImageUnreadable
	}
	if cfg.Width > MaxDecodeSide || cfg.Height > MaxDecodeSide || cfg.Width*cfg.Height > MaxDecodePixels {
		return cfg, "", fmt.Errorf("%w: %d × %d", ErrImageTooLarge, cfg.Width, cfg.Height)
	}
	return cfg, format, nil
}

// decodeBounded decodes raw after checkImage accepted its header, holding
// a decode slot while the full image is in memory: the caller runs use
// with the decoded image, inside the slot.
func decodeBounded(ctx context.Context, raw []byte, use func(img image.Image, format string) error) error {
	_, format, err := checkImage(raw)
	if err != nil {
		return err
	}
	release, err := acquireDecode(ctx)
	if err != nil {
		return err
	}
	defer release()
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return ErrImageUnreadable
	}
	return use(img, format)
}

// renderedThumb is one encoded thumbnail.
type renderedThumb struct {
	Width, Height int
	JPEG          []byte
}

// renderThumbnails makes the thumbnails of an image file (see
// ThumbnailSizes) with the EXIF orientation applied, as JPEG (no
// metadata survives: only pixels are encoded), and its BlurHash.
func renderThumbnails(ctx context.Context, raw []byte) ([]renderedThumb, string, error) {
	var largest *image.RGBA
	err := decodeBounded(ctx, raw, func(img image.Image, format string) error {
		b := img.Bounds()
		long := ThumbnailSizes[len(ThumbnailSizes)-1]
		w, h := fitSize(b.Dx(), b.Dy(), long)
		largest = scaleDown(img, w, h)
		if format == "jpeg" {
			largest = orient(largest, jpegOrientation(raw))
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	var out []renderedThumb
	for _, size := range ThumbnailSizes {
		t := fit(largest, size)
		w, h := t.Bounds().Dx(), t.Bounds().Dy()
		if n := len(out); n > 0 && out[n-1].Width == w && out[n-1].Height == h {
			continue
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, t, &jpeg.Options{Quality: thumbnailQuality}); err != nil {
			return nil, "", fmt.Errorf("media: encode thumbnail: %w", err)
		}
		out = append(out, renderedThumb{Width: w, Height: h, JPEG: buf.Bytes()})
	}
	return out, Blurhash(fit(largest, 32), blurhashX, blurhashY), nil
}

// fitSize is w × h scaled down (never up) so the longer side is at most size.
func fitSize(w, h, size int) (int, int) {
	if w <= size && h <= size {
		return w, h
	}
	if w >= h {
		return size, max(1, h*size/w)
	}
	return max(1, w*size/h), size
}

// scaleDown scales img to dw × dh (not larger than img), each output pixel
// the average of the source pixels it covers, flattened on white. The
// source is converted a band of rows at a time, so the only full-size
// buffer is the decoded image itself.
func scaleDown(img image.Image, dw, dh int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	band := image.NewRGBA(image.Rect(0, 0, w, h/dh+2))
	op := draw.Over
	if _, opaque := img.(*image.YCbCr); opaque {
		op = draw.Src
	}
	sums := make([]int, dw*4)
	for y := 0; y < dh; y++ {
		y0, y1 := y*h/dh, max((y+1)*h/dh, y*h/dh+1)
		r := image.Rect(0, 0, w, y1-y0)
		if op == draw.Over {
			draw.Draw(band, r, &image.Uniform{C: color.White}, image.Point{}, draw.Src)
		}
		draw.Draw(band, r, img, image.Pt(b.Min.X, b.Min.Y+y0), op)
		clear(sums)
		for x := 0; x < dw; x++ {
			x0, x1 := x*w/dw, max((x+1)*w/dw, x*w/dw+1)
			s := sums[x*4 : x*4+4]
			for sy := 0; sy < y1-y0; sy++ {
				row := band.Pix[sy*band.Stride:]
				for sx := x0; sx < x1; sx++ {
					p := row[sx*4:]
					s[0], s[1], s[2], s[3] = s[0]+int(p[0]), s[1]+int(p[1]), s[2]+int(p[2]), s[3]+1
				}
			}
			o := dst.Pix[y*dst.Stride+x*4:]
			o[0], o[1], o[2], o[3] = uint8(s[0]/s[3]), uint8(s[1]/s[3]), uint8(s[2]/s[3]), 255
		}
	}
	return dst
}

// orient applies an EXIF orientation (1..8) to img, so the result looks
// the way the camera meant without any metadata.
func orient(img *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return img
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2: // mirrored
				dx, dy = w-1-x, y
			case 3: // rotated 180°
				dx, dy = w-1-x, h-1-y
			case 4: // flipped vertically
				dx, dy = x, h-1-y
			case 5: // transposed
				dx, dy = y, x
			case 6: // rotated 90° clockwise to view
				dx, dy = h-1-y, x
			case 7: // transversed
				dx, dy = h-1-y, w-1-x
			case 8: // rotated 90° counter-clockwise to view
				dx, dy = y, w-1-x
			}
			copy(dst.Pix[dy*dst.Stride+dx*4:dy*dst.Stride+dx*4+4], img.Pix[y*img.Stride+x*4:y*img.Stride+x*4+4])
		}
	}
	return dst
}

// EncodeFitted decodes an image file (within the same header checks and
// process-wide decode slots as thumbnails: see SetConcurrentDecodes), applies
// its EXIF orientation, scales it down (never up) to at most size on the
// longer side, and returns it as a JPEG carrying only pixels. Other packages
// that store images we fetched (link previews) use it, so every decode in the
// process shares one bound.
func EncodeFitted(ctx context.Context, raw []byte, size int) (jpg []byte, width, height int, err error) {
	var out *image.RGBA
	err = decodeBounded(ctx, raw, func(img image.Image, format string) error {
		b := img.Bounds()
		w, h := fitSize(b.Dx(), b.Dy(), size)
		out = scaleDown(img, w, h)
		if format == "jpeg" {
			out = orient(out, jpegOrientation(raw))
		}
		return nil
	})
	if err != nil {
		return nil, 0, 0, err
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: thumbnailQuality}); err != nil {
		return nil, 0, 0, fmt.Errorf("media: encode image: %w", err)
	}
	return buf.Bytes(), out.Bounds().Dx(), out.Bounds().Dy(), nil
}
