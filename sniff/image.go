package sniff

import (
	"bytes"
	"image"
	_ "image/gif"  // DecodeConfig for GIF
	_ "image/jpeg" // DecodeConfig for JPEG
	_ "image/png"  // DecodeConfig for PNG
	"io"
)

func decodeImage(r io.ReaderAt, size int64, ct, ext string) (Content, error) {
	cfg, _, err := image.DecodeConfig(io.NewSectionReader(r, 0, size))
	if err != nil {
		return Content{}, refused("the %s image is damaged", ext)
	}
	if err := checkDimensions(cfg.Width, cfg.Height); err != nil {
		return Content{}, err
	}
	return Content{Kind: Image, ContentType: ct, Ext: ext, Width: cfg.Width, Height: cfg.Height}, nil
}

// inspectWebP reads the canvas size from the first chunk (VP8, VP8L or VP8X).
func inspectWebP(h []byte, size int64) (Content, error) {
	c := Content{Kind: Image, ContentType: "image/webp", Ext: "webp"}
	if len(h) < 30 {
		return c, refused("the webp image is damaged")
	}
	le24 := func(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }
	switch string(h[12:16]) {
	case "VP8X":
		c.Width, c.Height = le24(h[24:])+1, le24(h[27:])+1
	case "VP8L":
		if h[20] != 0x2f {
			return c, refused("the webp image is damaged")
		}
		b := uint32(h[21]) | uint32(h[22])<<8 | uint32(h[23])<<16 | uint32(h[24])<<24
		c.Width, c.Height = int(b&0x3fff)+1, int(b>>14&0x3fff)+1
	case "VP8 ":
		if !bytes.Equal(h[23:26], []byte{0x9d, 0x01, 0x2a}) {
			return c, refused("the webp image is damaged")
		}
		c.Width, c.Height = int(uint16(h[26])|uint16(h[27])<<8)&0x3fff, int(uint16(h[28])|uint16(h[29])<<8)&0x3fff
	default:
		return c, refused("the webp image is damaged")
	}
	if err := checkDimensions(c.Width, c.Height); err != nil {
		return c, err
	}
	return c, nil
}

// checkDimensions bounds an image's size: an extended WebP header may
// claim 16 million pixels a side.
func checkDimensions(w, h int) error {
	if w <= 0 || h <= 0 || w > 20000 || h > 20000 {
		return refused("the image is %dx%d pixels; at most 20000 on a side", w, h)
	}
	return nil
}
