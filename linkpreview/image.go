package linkpreview

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // preview images may be GIF (first frame)
	"image/jpeg"
	_ "image/png" // and PNG
	"net/http"
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
// original survives.
func reencode(raw []byte) ([]byte, int, int, error) {
	switch http.DetectContentType(raw) {
	case "image/jpeg", "image/png", "image/gif":
	default:
		return nil, 0, 0, fmt.Errorf("%w: not a JPEG, PNG or GIF", ErrBadImage)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return nil, 0, 0, fmt.Errorf("%w: unreadable or too many pixels", ErrBadImage)
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	out := fit(flatten(img), imageSize)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: 82}); err != nil {
		return nil, 0, 0, fmt.Errorf("linkpreview: encode image: %w", err)
	}
	b := out.Bounds()
	return buf.Bytes(), b.Dx(), b.Dy(), nil
}

// flatten draws img on white (JPEG has no transparency).
func flatten(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), &image.Uniform{C: color.White}, image.Point{}, draw.Src)
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Over)
	return out
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
