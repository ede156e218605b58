package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // DecodeConfig for GIF
	_ "image/jpeg" // DecodeConfig for JPEG
	_ "image/png"  // DecodeConfig for PNG
	"io"
	"time"
)

// Kind is what an upload may be used for.
type Kind string

// Kinds of accepted content.
const (
	Image    Kind = "IMAGE"    // attachable; shown inline
	Document Kind = "DOCUMENT" // attachable; served as a download
	Video    Kind = "VIDEO"    // stories only
)

// ErrRefused wraps every reason content is refused; the message says why.
var ErrRefused = errors.New("media: content refused")

func refused(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrRefused}, a...)...)
}

// Content is what Inspect learnt from the bytes.
type Content struct {
	Kind        Kind
	ContentType string
	// Ext is the canonical file extension, without a dot.
	Ext string
	// Width and Height of images, when cheap to read (0 otherwise).
	Width, Height int
	// Duration of videos, from the container's movie header.
	Duration time.Duration
}

// headLen is how much of a file Sniff needs.
const headLen = 512

// Sniff guesses the kind from the first bytes only, so the right size limit
// can be applied before the rest is read. Inspect has the last word.
func Sniff(head []byte) Kind {
	if isMP4(head) {
		return Video
	}
	return Image // or a document: both have the attachment limit
}

// Inspect decides what the file of size bytes at r is, from its bytes
// alone: magic numbers, then container structure. The declared name and
// type play no part. Anything not on the list is refused with ErrRefused:
//
//   - images: PNG, JPEG, GIF, WebP (width and height read from headers),
//     SVG without script, event handlers or external references;
//   - documents: PDF, DOC and XLS (OLE2 with a WordDocument or Workbook
//     stream), DOCX and XLSX (ZIP with the right [Content_Types].xml and
//     main part, bounded uncompressed size and ratio), CSV (UTF-8 text
//     without NULs that parses as CSV with a constant number of fields);
//   - videos: MP4 and QuickTime with a complete box structure and a movie
//     header (mvhd) giving the duration. WebM and everything else: refused.
func Inspect(r io.ReaderAt, size int64) (Content, error) {
	if size <= 0 {
		return Content{}, refused("the file is empty")
	}
	head := make([]byte, min(size, 4096))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return Content{}, fmt.Errorf("media: read: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return decodeImage(r, size, "image/png", "png")
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return decodeImage(r, size, "image/jpeg", "jpg")
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return decodeImage(r, size, "image/gif", "gif")
	case len(head) >= 16 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return inspectWebP(head, size)
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return inspectPDF(r, size)
	case bytes.HasPrefix(head, oleMagic):
		return inspectOLE(r, size)
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return inspectOOXML(r, size)
	case bytes.HasPrefix(head, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		return Content{}, refused("WebM/Matroska videos are not accepted: upload MP4 or QuickTime")
	case isMP4(head):
		return inspectMP4(r, size)
	}
	return inspectText(r, size, head)
}

func decodeImage(r io.ReaderAt, size int64, ct, ext string) (Content, error) {
	cfg, _, err := image.DecodeConfig(io.NewSectionReader(r, 0, size))
	if err != nil {
		return Content{}, refused("the %s image is damaged", ext)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > 20000 || cfg.Height > 20000 {
		return Content{}, refused("the image is %dx%d pixels; at most 20000 on a side", cfg.Width, cfg.Height)
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
	return c, nil
}

// inspectPDF wants the header and an end-of-file marker near the end (a
// truncated PDF has none).
func inspectPDF(r io.ReaderAt, size int64) (Content, error) {
	n := min(size, 2048)
	tail := make([]byte, n)
	if _, err := r.ReadAt(tail, size-n); err != nil && !errors.Is(err, io.EOF) {
		return Content{}, fmt.Errorf("media: read: %w", err)
	}
	if !bytes.Contains(tail, []byte("%%EOF")) {
		return Content{}, refused("the PDF is truncated (no %%%%EOF marker)")
	}
	return Content{Kind: Document, ContentType: "application/pdf", Ext: "pdf"}, nil
}
