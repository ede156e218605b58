package sniff_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"messenger/sniff"
	"messenger/sniff/snifftest"
)

func inspect(b []byte) (sniff.Content, error) {
	return sniff.Inspect(bytes.NewReader(b), int64(len(b)))
}

func TestAcceptedTypesAreRecognisedFromTheirBytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		ct   string
		kind sniff.Kind
		w, h int
	}{
		{"png", snifftest.PNG(3, 2), "image/png", sniff.Image, 3, 2},
		{"jpeg", snifftest.JPEG(4, 5), "image/jpeg", sniff.Image, 4, 5},
		{"gif", snifftest.GIF(6, 7), "image/gif", sniff.Image, 6, 7},
		{"webp", snifftest.WebPLossless(9, 8), "image/webp", sniff.Image, 9, 8},
		{"svg", snifftest.SVG(), "image/svg+xml", sniff.Image, 0, 0},
		{"pdf", snifftest.PDF(), "application/pdf", sniff.Document, 0, 0},
		{"doc", snifftest.OLE2("WordDocument"), "application/msword", sniff.Document, 0, 0},
		{"xls", snifftest.OLE2("Workbook"), "application/vnd.ms-excel", sniff.Document, 0, 0},
		{"docx", snifftest.DOCX(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", sniff.Document, 0, 0},
		{"xlsx", snifftest.XLSX(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", sniff.Document, 0, 0},
		{"csv", snifftest.CSV(), "text/csv", sniff.Document, 0, 0},
		{"mp4", snifftest.MP4(12*time.Second, 100, false), "video/mp4", sniff.Video, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := inspect(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if c.ContentType != tc.ct || c.Kind != tc.kind || c.Width != tc.w || c.Height != tc.h {
				t.Fatalf("got %+v", c)
			}
		})
	}
}

func TestVideoDurationIsReadFromTheMovieHeader(t *testing.T) {
	for _, large := range []bool{false, true} {
		c, err := inspect(snifftest.MP4(61*time.Second+500*time.Millisecond, 64, large))
		if err != nil || c.Duration != 61500*time.Millisecond {
			t.Fatalf("64-bit mdat %v: %+v, %v", large, c, err)
		}
	}
}

func TestRefusedContent(t *testing.T) {
	for _, tc := range []struct {
		name, why string
		data      []byte
	}{
		{"exe renamed png", "not accepted", snifftest.EXE()},
		{"html", "HTML", snifftest.HTML()},
		{"svg with script", "<script>", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)},
		{"svg with onload", "event handlers", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)},
		{"svg with external image", "external", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/x.png"/></svg>`)},
		{"svg with css import", "styles", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://x/y.css);</style></svg>`)},
		{"svg with entities", "DOCTYPE", []byte(`<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>`)},
		{"svg with javascript href", "javascript", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><a href="java&#x09;script:alert(1)"><rect/></a></svg>`)},
		{"docx zip bomb", "zip bomb", snifftest.DOCXBomb(16)},
		{"plain zip", "docx or xlsx", []byte{}},
		{"truncated mp4", "truncated", snifftest.TruncatedMP4(10 * time.Second)},
		{"webm", "WebM", []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01")},
		{"ppt-like ole2", "Word and Excel", snifftest.OLE2("PowerPoint Document")},
		{"truncated pdf", "truncated", []byte("%PDF-1.4\n1 0 obj")},
		{"binary with NUL", "NUL", []byte("a,b\n\x00\x00")},
		{"empty", "empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data
			if tc.name == "plain zip" {
				data = zipWith("readme.txt")
			}
			_, err := inspect(data)
			if !errors.Is(err, sniff.ErrRefused) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("Inspect = %v, want a refusal mentioning %q", err, tc.why)
			}
		})
	}
}

// A docx entry that declares 1,000 bytes but inflates to 100 MiB is refused:
// the check counts the bytes an entry really inflates to, not what the
// archive's directory says.
func TestZipEntryInflatingPastItsDeclaredSizeIsRefused(t *testing.T) {
	bomb := snifftest.DOCXLyingBomb(1000, 100)
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes: not a bomb", len(bomb))
	}
	_, err := inspect(bomb)
	if !errors.Is(err, sniff.ErrRefused) || !strings.Contains(err.Error(), "zip bomb") {
		t.Fatalf("Inspect = %v, want a zip-bomb refusal", err)
	}
}

// Every accepted type has its canonical extension first among its names.
func TestEveryDetectedTypeHasItsExtensions(t *testing.T) {
	for _, data := range [][]byte{snifftest.PNG(1, 1), snifftest.JPEG(1, 1), snifftest.GIF(1, 1), snifftest.WebPLossless(1, 1),
		snifftest.SVG(), snifftest.PDF(), snifftest.OLE2("WordDocument"), snifftest.OLE2("Workbook"), snifftest.DOCX(),
		snifftest.XLSX(), snifftest.CSV(), snifftest.MP4(time.Second, 8, false)} {
		c, err := inspect(data)
		if err != nil {
			t.Fatal(err)
		}
		if exts := sniff.Extensions(c.ContentType); len(exts) == 0 || exts[0] != c.Ext {
			t.Errorf("%s: extensions %v, canonical %q", c.ContentType, exts, c.Ext)
		}
	}
}

// Found by FuzzWebP: an extended WebP header claimed a canvas of 3158065
// pixels a side and was accepted; a lossy one can claim zero. Every image
// format gets the same bound.
func TestWebPCanvasSizeIsBounded(t *testing.T) {
	for _, data := range [][]byte{
		[]byte("RIFF0000WEBPVP8X00000000000000"),
		append([]byte("RIFF\x00\x00\x00\x00WEBPVP8 \x00\x00\x00\x00\x00\x00\x00\x9d\x01\x2a\x00\x00\x0b\x00"), make([]byte, 16)...),
	} {
		if c, err := inspect(data); !errors.Is(err, sniff.ErrRefused) || !strings.Contains(err.Error(), "pixels") {
			t.Errorf("Inspect = %+v, %v; want a refusal of its size", c, err)
		}
	}
}
