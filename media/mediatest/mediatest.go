// Package mediatest holds what media tests share: the contract suite every
// media.Store backend passes (RunStore), and the test files of package
// sniff/snifftest under the names media's tests have always used.
package mediatest

import (
	"time"

	"messenger/sniff/snifftest"
)

// PNG is a w×h PNG image.
func PNG(w, h int) []byte { return snifftest.PNG(w, h) }

// JPEG is a w×h JPEG image.
func JPEG(w, h int) []byte { return snifftest.JPEG(w, h) }

// GIF is a w×h GIF image.
func GIF(w, h int) []byte { return snifftest.GIF(w, h) }

// WebPLossless is the header of a w×h lossless WebP.
func WebPLossless(w, h int) []byte { return snifftest.WebPLossless(w, h) }

// PDF is a minimal PDF.
func PDF() []byte { return snifftest.PDF() }

// EXE is the start of a Windows executable.
func EXE() []byte { return snifftest.EXE() }

// HTML is an HTML page with script.
func HTML() []byte { return snifftest.HTML() }

// SVG is a harmless SVG with a local reference.
func SVG() []byte { return snifftest.SVG() }

// CSV is a small CSV file.
func CSV() []byte { return snifftest.CSV() }

// DOCX is a minimal Word document.
func DOCX() []byte { return snifftest.DOCX() }

// XLSX is a minimal Excel workbook.
func XLSX() []byte { return snifftest.XLSX() }

// DOCXBomb is a docx that expands to zeroMiB MiB (see snifftest.DOCXBomb).
func DOCXBomb(zeroMiB int) []byte { return snifftest.DOCXBomb(zeroMiB) }

// OLE2 is a minimal compound file with one stream of the given name.
func OLE2(stream string) []byte { return snifftest.OLE2(stream) }

// MP4 is a minimal MP4 whose movie header says d (see snifftest.MP4).
func MP4(d time.Duration, mdatBytes int, largeMdat bool) []byte {
	return snifftest.MP4(d, mdatBytes, largeMdat)
}

// TruncatedMP4 is MP4(d) cut off in the middle of its media data.
func TruncatedMP4(d time.Duration) []byte { return snifftest.TruncatedMP4(d) }
