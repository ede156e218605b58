// Package sniff decides what a file is from its bytes alone: magic
// numbers, then container structure (PNG, JPEG, GIF and WebP headers, SVG,
// PDF, OLE2, OOXML, CSV, MP4). Its functions are pure: they read the bytes
// they are given and nothing else, keep no state, and never trust a
// declared name, type or size. Package media applies them to uploads.
package sniff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"messenger/media/audio"
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
var ErrRefused = errors.New("sniff: content refused")

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
	// Waveform of voice notes: loudness samples 0-255 (see media/audio).
	Waveform []byte
}

// HeadLen is how much of a file Guess needs.
const HeadLen = 512

// Guess guesses the kind from the first bytes only, so the right size limit
// can be applied before the rest is read. Inspect has the last word.
func Guess(head []byte) Kind {
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
//     main part; every entry is inflated and the bytes it really gives are
//     counted against the bounds on size and ratio), CSV (UTF-8 text without
//     NULs that parses as CSV with a constant number of fields);
//   - videos: MP4 and QuickTime with a complete box structure and a movie
//     header (mvhd) giving the duration, width and height from the video
//     track; a movie with only AAC audio tracks is a voice note (M4A);
//   - voice notes: Ogg/Opus and MP3 too, the duration counted from the
//     packets or frames (see media/audio). WebM and everything else: refused.
func Inspect(r io.ReaderAt, size int64) (Content, error) {
	if size <= 0 {
		return Content{}, refused("the file is empty")
	}
	head := make([]byte, min(size, 4096))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return Content{}, fmt.Errorf("sniff: read: %w", err)
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
	case audio.IsOgg(head):
		return inspectOgg(r, size)
	case audio.IsMP3(head):
		return inspectMP3(r, size)
	}
	return inspectText(r, size, head)
}
