package sniff_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"messenger/sniff"
	"messenger/sniff/snifftest"
)

// Fuzz tests, one per inspector. Each keeps its format's magic number in
// front of the fuzzed bytes, so the fuzzer spends its time inside that
// inspector rather than in the dispatch. Seeds are the files the other
// tests use; `go test` runs the seeds only. A longer run:
//
//	go test -fuzz=FuzzOOXML -fuzztime=20s ./sniff/

// verdict checks what Inspect may answer for any input: a refusal wrapping
// ErrRefused (never another error, never a panic), or a content whose type
// is one of the accepted ones, with plausible dimensions or duration.
func verdict(t *testing.T, data []byte) {
	t.Helper()
	c, err := sniff.Inspect(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if !errors.Is(err, sniff.ErrRefused) {
			t.Fatalf("Inspect failed with %v, not a refusal", err)
		}
		if strings.TrimSpace(strings.TrimPrefix(err.Error(), sniff.ErrRefused.Error()+":")) == "" {
			t.Fatalf("a refusal without a reason: %v", err)
		}
		return
	}
	exts := sniff.Extensions(c.ContentType)
	if len(exts) == 0 || exts[0] != c.Ext {
		t.Fatalf("accepted as %q with extension %q", c.ContentType, c.Ext)
	}
	switch c.Kind {
	case sniff.Image:
		if c.ContentType != "image/svg+xml" && (c.Width < 1 || c.Height < 1 || c.Width > 20000 || c.Height > 20000) {
			t.Fatalf("an image of %dx%d accepted", c.Width, c.Height)
		}
	case sniff.Video:
		if c.Duration <= 0 || c.Duration > 24*time.Hour {
			t.Fatalf("a video of %v accepted", c.Duration)
		}
	case sniff.Voice:
		if c.Duration <= 0 || c.Duration > 24*time.Hour || len(c.Waveform) != 64 {
			t.Fatalf("a voice note of %v with %d waveform samples accepted", c.Duration, len(c.Waveform))
		}
	case sniff.Document:
	default:
		t.Fatalf("accepted as kind %q", c.Kind)
	}
}

// fuzzAfter fuzzes what follows magic, seeded with the seeds that start
// with it (without it).
func fuzzAfter(f *testing.F, magic []byte, seeds ...[]byte) {
	for _, s := range seeds {
		if bytes.HasPrefix(s, magic) {
			f.Add(s[len(magic):])
		}
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, rest []byte) {
		verdict(t, append(slices.Clip(magic), rest...))
	})
}

func FuzzPNG(f *testing.F) {
	fuzzAfter(f, []byte("\x89PNG\r\n\x1a\n"), snifftest.PNG(3, 2), snifftest.PNG(1, 1))
}

func FuzzJPEG(f *testing.F) {
	fuzzAfter(f, []byte{0xFF, 0xD8, 0xFF}, snifftest.JPEG(4, 5), snifftest.JPEG(1, 1))
}

func FuzzGIF(f *testing.F) {
	fuzzAfter(f, []byte("GIF89a"), snifftest.GIF(6, 7), append([]byte("GIF89a"), snifftest.GIF(2, 2)[6:]...))
}

func FuzzWebP(f *testing.F) {
	lossy := append([]byte("RIFF\x00\x00\x00\x00WEBPVP8 \x00\x00\x00\x00\x00\x00\x00\x9d\x01\x2a\x0a\x00\x0b\x00"), make([]byte, 16)...)
	extended := append([]byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00\x09\x00\x00\x07\x00\x00"), make([]byte, 16)...)
	f.Add(snifftest.WebPLossless(9, 8)[4:])
	f.Add(lossy[4:])
	f.Add(extended[4:])
	f.Fuzz(func(t *testing.T, rest []byte) {
		// RIFF, the size (fuzzed), WEBP: the chunk after it is fuzzed too.
		data := append([]byte("RIFF"), rest...)
		if len(data) >= 12 {
			copy(data[8:12], "WEBP")
		}
		verdict(t, data)
	})
}

func FuzzPDF(f *testing.F) {
	fuzzAfter(f, []byte("%PDF-"), snifftest.PDF(), []byte("%PDF-1.4\n1 0 obj"))
}

func FuzzOLE2(f *testing.F) {
	fuzzAfter(f, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1},
		snifftest.OLE2("WordDocument"), snifftest.OLE2("Workbook"), snifftest.OLE2("Book"), snifftest.OLE2("PowerPoint Document"))
}

func FuzzOOXML(f *testing.F) {
	fuzzAfter(f, []byte("PK\x03\x04"), snifftest.DOCX(), snifftest.XLSX(), snifftest.DOCXBomb(2),
		snifftest.DOCXLyingBomb(1000, 2), zipWith("readme.txt"), zipWith("[Content_Types].xml", "word/document.xml"))
}

func FuzzMP4(f *testing.F) {
	seeds := [][]byte{snifftest.MP4(12*time.Second, 100, false), snifftest.MP4(61*time.Second, 64, true), snifftest.TruncatedMP4(10 * time.Second)}
	for _, s := range seeds {
		f.Add(s[8:])
	}
	f.Fuzz(func(t *testing.T, rest []byte) {
		// The first box is an ftyp whose size is fuzzed with the rest.
		size := uint32(16)
		if len(rest) >= 4 {
			size = binary.BigEndian.Uint32(rest)
		}
		head := binary.BigEndian.AppendUint32(nil, size)
		verdict(t, append(append(head, "ftyp"...), rest...))
	})
}

// FuzzSVG fuzzes whole documents: SVG has no magic number to keep.
func FuzzSVG(f *testing.F) {
	f.Add(snifftest.SVG())
	for _, body := range []string{
		`<style><b></b>@import url(https://evil.example/x.css);</style>`,
		`<style>rect{fill:u\72l(https://evil.example/p)}</style>`,
		`<style><![CDATA[.a{fill:url(#g)}]]></style>`,
		`<rect style="fill:u\72l(https://evil.example/p)"/>`,
		`<a href="&#106;avascript:alert(1)"><rect/></a>`,
		`<use xlink:href="#s"/><set attributeName="xlink:href" to="#y"/>`,
		`<script>alert(1)</script>`,
	} {
		f.Add([]byte(svgOpen + body + `</svg>`))
	}
	f.Add([]byte(`<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		verdict(t, doc)
	})
}

// FuzzCSS fuzzes the text of a <style> element (as CDATA) and of a style=
// attribute, which go through the CSS escape decoder.
func FuzzCSS(f *testing.F) {
	for _, css := range []string{`.st0{fill:#FF0000}`, `rect{fill:u\72l(https://x/p)}`, `@\69mport "x"`, `.a{fill:url( "#g" )}`,
		`.a{fill:url(\23 g)}`, `u\000072l(`, `\`, `\0`, `\110000`, `\d800 x`} {
		f.Add(css)
	}
	f.Fuzz(func(t *testing.T, css string) {
		cdata := strings.ReplaceAll(css, "]]>", "]]]]><![CDATA[>")
		verdict(t, []byte(svgOpen+`<style><![CDATA[`+cdata+`]]></style></svg>`))
		attr := strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;").Replace(css)
		verdict(t, []byte(svgOpen+`<rect style="`+attr+`"/></svg>`))
	})
}

func FuzzCSV(f *testing.F) {
	for _, s := range [][]byte{snifftest.CSV(), []byte("a,b\n\x00\x00"), []byte("a,\"b\nc"), []byte("\xEF\xBB\xBFx,y\n1,2\n")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		verdict(t, text)
	})
}

// FuzzInspect fuzzes the dispatch itself, seeded with every kind of file.
func FuzzInspect(f *testing.F) {
	for _, s := range [][]byte{snifftest.PNG(2, 2), snifftest.JPEG(2, 2), snifftest.GIF(2, 2), snifftest.WebPLossless(2, 2),
		snifftest.SVG(), snifftest.PDF(), snifftest.OLE2("WordDocument"), snifftest.DOCX(), snifftest.CSV(),
		snifftest.MP4(time.Second, 16, false), snifftest.EXE(), snifftest.HTML(), []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		verdict(t, data)
	})
}
