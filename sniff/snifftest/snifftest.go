// Package snifftest makes test files in memory (no binary fixtures are
// committed): images, Office files, videos with a chosen duration, and the
// hostile ones the checks of package sniff must refuse.
package snifftest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"time"
	"unicode/utf16"
)

func img(w, h int) image.Image {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		m.Set(x, x%h, color.RGBA{R: 200, A: 255})
	}
	return m
}

// PNG is a w×h PNG image.
func PNG(w, h int) []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, img(w, h))
	return b.Bytes()
}

// JPEG is a w×h JPEG image.
func JPEG(w, h int) []byte {
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img(w, h), nil)
	return b.Bytes()
}

// GIF is a w×h GIF image.
func GIF(w, h int) []byte {
	var b bytes.Buffer
	_ = gif.Encode(&b, img(w, h), nil)
	return b.Bytes()
}

// WebPLossless is the header of a w×h lossless WebP (enough for sniffing).
func WebPLossless(w, h int) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2f")
	v := uint32(w-1) | uint32(h-1)<<14
	b = binary.LittleEndian.AppendUint32(b, v)
	b = append(b, make([]byte, 16)...)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

// PDF is a minimal PDF.
func PDF() []byte {
	return []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

// EXE is the start of a Windows executable.
func EXE() []byte {
	b := append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 120)...)
	return append(b, []byte("PE\x00\x00This program cannot be run in DOS mode.")...)
}

// HTML is an HTML page with script.
func HTML() []byte {
	return []byte("<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n")
}

// SVG is a harmless SVG with a local reference.
func SVG() []byte {
	return []byte(`<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">
<defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient></defs>
<rect width="10" height="10" fill="url(#g)"/><use xlink:href="#g"/></svg>`)
}

// CSV is a small CSV file.
func CSV() []byte { return []byte("name,amount\nalice,10\n\"bob, jr\",20\n") }

func zipOf(files map[string][]byte, order ...string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, name := range order {
		f, _ := w.Create(name)
		_, _ = f.Write(files[name])
	}
	_ = w.Close()
	return b.Bytes()
}

const docxTypes = `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`

// DOCX is a minimal Word document.
func DOCX() []byte {
	return zipOf(map[string][]byte{"[Content_Types].xml": []byte(docxTypes), "word/document.xml": []byte("<w:document/>")},
		"[Content_Types].xml", "word/document.xml")
}

// XLSX is a minimal Excel workbook.
func XLSX() []byte {
	types := `<Types><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`
	return zipOf(map[string][]byte{"[Content_Types].xml": []byte(types), "xl/workbook.xml": []byte("<workbook/>")},
		"[Content_Types].xml", "xl/workbook.xml")
}

// DOCXBomb is a docx whose document part is a huge run of zeros: small on
// the wire, zeroMiB MiB once expanded.
func DOCXBomb(zeroMiB int) []byte {
	return zipOf(map[string][]byte{"[Content_Types].xml": []byte(docxTypes), "word/document.xml": make([]byte, zeroMiB<<20)},
		"[Content_Types].xml", "word/document.xml")
}

// OLE2 is a minimal compound file with one stream of the given name
// ("WordDocument" makes a .doc, "Workbook" an .xls).
func OLE2(stream string) []byte {
	le := binary.LittleEndian
	f := make([]byte, 512*3)
	copy(f, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
	le.PutUint16(f[0x18:], 0x3E)
	le.PutUint16(f[0x1A:], 3)
	le.PutUint16(f[0x1C:], 0xFFFE)
	le.PutUint16(f[0x1E:], 9)
	le.PutUint16(f[0x20:], 6)
	le.PutUint32(f[0x2C:], 1)          // one FAT sector
	le.PutUint32(f[0x30:], 1)          // directory at sector 1
	le.PutUint32(f[0x38:], 4096)       // mini stream cutoff
	le.PutUint32(f[0x3C:], 0xFFFFFFFE) // no mini FAT
	le.PutUint32(f[0x44:], 0xFFFFFFFE) // no DIFAT chain
	for i := 0; i < 109; i++ {
		le.PutUint32(f[0x4C+4*i:], 0xFFFFFFFF)
	}
	le.PutUint32(f[0x4C:], 0) // FAT in sector 0
	fat := f[512:1024]
	for i := 0; i < 128; i++ {
		le.PutUint32(fat[4*i:], 0xFFFFFFFF)
	}
	le.PutUint32(fat[0:], 0xFFFFFFFD)
	le.PutUint32(fat[4:], 0xFFFFFFFE)
	dir := f[1024:]
	entry := func(i int, name string, typ byte) {
		e := dir[128*i:]
		u := utf16.Encode([]rune(name))
		for j, c := range u {
			le.PutUint16(e[2*j:], c)
		}
		le.PutUint16(e[64:], uint16(2*len(u)+2))
		e[66] = typ
		le.PutUint32(e[68:], 0xFFFFFFFF)
		le.PutUint32(e[72:], 0xFFFFFFFF)
		le.PutUint32(e[76:], 0xFFFFFFFF)
	}
	entry(0, "Root Entry", 5)
	entry(1, stream, 2)
	le.PutUint32(dir[76:], 1) // root's child
	return f
}

func box(typ string, payload ...[]byte) []byte {
	var p []byte
	for _, x := range payload {
		p = append(p, x...)
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(p)))
	return append(append(b, typ...), p...)
}

// MP4 is a minimal MP4 whose movie header says d, with mdatBytes of media
// data. When largeMdat is set the mdat box uses a 64-bit size.
func MP4(d time.Duration, mdatBytes int, largeMdat bool) []byte {
	ftyp := box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2mp41"))
	mvhd := make([]byte, 100)
	binary.BigEndian.PutUint32(mvhd[12:], 1000)                       // timescale: ms
	binary.BigEndian.PutUint32(mvhd[16:], uint32(d/time.Millisecond)) // duration
	binary.BigEndian.PutUint32(mvhd[20:], 0x00010000)                 // rate 1.0
	moov := box("moov", box("mvhd", mvhd))
	var mdat []byte
	if largeMdat {
		mdat = append(binary.BigEndian.AppendUint32(nil, 1), "mdat"...)
		mdat = binary.BigEndian.AppendUint64(mdat, uint64(16+mdatBytes))
		mdat = append(mdat, make([]byte, mdatBytes)...)
	} else {
		mdat = box("mdat", make([]byte, mdatBytes))
	}
	return append(append(ftyp, moov...), mdat...)
}

// TruncatedMP4 is MP4(d) cut off in the middle of its media data, as an
// interrupted upload or recording leaves it.
func TruncatedMP4(d time.Duration) []byte {
	full := MP4(d, 4096, false)
	return full[:len(full)-1000]
}

// DOCXLyingBomb is a docx whose document part says (in its local header and
// the central directory) that it holds declared bytes, but inflates to
// realMiB MiB of zeros.
func DOCXLyingBomb(declared uint64, realMiB int) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, _ := w.Create("[Content_Types].xml")
	_, _ = f.Write([]byte(docxTypes))
	// One MiB of zeros deflated up to a sync flush is byte-aligned and
	// means the same after any run of zeros, so realMiB copies of it and
	// the final block inflate to realMiB MiB without compressing them all.
	var mib, tail bytes.Buffer
	fw, _ := flate.NewWriter(&mib, flate.BestCompression)
	zeros := make([]byte, 1<<20)
	_, _ = fw.Write(zeros)
	_ = fw.Flush()
	chunk := bytes.Clone(mib.Bytes())
	fw.Reset(&tail)
	_ = fw.Close()
	var deflated bytes.Buffer
	crc := crc32.NewIEEE()
	for range realMiB {
		deflated.Write(chunk)
		_, _ = crc.Write(zeros)
	}
	deflated.Write(tail.Bytes())
	raw, _ := w.CreateRaw(&zip.FileHeader{
		Name: "word/document.xml", Method: zip.Deflate, CRC32: crc.Sum32(),
		CompressedSize64: uint64(deflated.Len()), UncompressedSize64: declared,
	})
	_, _ = raw.Write(deflated.Bytes())
	_ = w.Close()
	return b.Bytes()
}
