package sniff

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"
)

// Zip-bomb bounds. The central directory's declared sizes are checked
// first (a cheap early refusal), then every entry is inflated to its end
// and the bytes it really produces are counted against the same bounds:
// declared sizes are never trusted.
const (
	maxZipEntries      = 2000
	maxZipUncompressed = 64 << 20 // all entries together
	maxZipRatio        = 100      // uncompressed / compressed, whole archive and per large entry
	maxContentTypesXML = 256 << 10
)

// errZipTooBig: an entry inflated past the bytes still allowed.
var errZipTooBig = errors.New("sniff: zip entry inflates past the limit")

// inspectOOXML accepts a ZIP only as a Word (docx) or Excel (xlsx) file:
// [Content_Types].xml must name the main part's content type, and that
// part must exist. Macro-enabled variants (docm, xlsm) have other content
// types and are refused.
func inspectOOXML(r io.ReaderAt, size int64) (Content, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return Content{}, refused("the ZIP archive is damaged")
	}
	if len(zr.File) > maxZipEntries {
		return Content{}, refused("the archive has %d entries; at most %d", len(zr.File), maxZipEntries)
	}
	var declared uint64
	parts := map[string]*zip.File{}
	for _, f := range zr.File {
		declared += f.UncompressedSize64
		if declared > maxZipUncompressed {
			return Content{}, refused("the archive expands to more than %d MiB", maxZipUncompressed>>20)
		}
		if f.UncompressedSize64 > 1<<20 && f.UncompressedSize64 > maxZipRatio*max(f.CompressedSize64, 1) {
			return Content{}, refused("the archive entry %q is compressed more than %d:1 (a zip bomb?)", f.Name, maxZipRatio)
		}
		parts[f.Name] = f
	}
	if declared > 1<<20 && declared > maxZipRatio*uint64(size) {
		return Content{}, refused("the archive is compressed more than %d:1 (a zip bomb?)", maxZipRatio)
	}
	ctf := parts["[Content_Types].xml"]
	if ctf == nil || ctf.UncompressedSize64 > maxContentTypesXML {
		return Content{}, refused("ZIP archives are accepted only as docx or xlsx")
	}
	var total int64
	var types []byte
	for _, f := range zr.File {
		var keep *bytes.Buffer
		if f == ctf {
			keep = &bytes.Buffer{}
		}
		// An entry may inflate to 1 MiB, or to maxZipRatio times its
		// compressed size, within what is left of the archive's allowance.
		byRatio := max(1<<20, int64(min(f.CompressedSize64, maxZipUncompressed))*maxZipRatio)
		allowed := min(maxZipUncompressed-total, byRatio)
		n, err := inflate(f, allowed, keep)
		total += n
		switch {
		case errors.Is(err, errZipTooBig) && allowed == byRatio:
			return Content{}, refused("the archive entry %q is compressed more than %d:1 (a zip bomb?)", f.Name, maxZipRatio)
		case errors.Is(err, errZipTooBig):
			return Content{}, refused("the archive expands to more than %d MiB (a zip bomb?)", maxZipUncompressed>>20)
		case errors.Is(err, zip.ErrFormat):
			// archive/zip stops an entry at the size it declares.
			return Content{}, refused("the archive entry %q does not inflate to the %d bytes it declares (a zip bomb?)", f.Name, f.UncompressedSize64)
		case err != nil:
			return Content{}, refused("the archive is damaged (entry %q)", f.Name)
		}
		if keep != nil {
			types = keep.Bytes()
		}
	}
	if total > 1<<20 && total > maxZipRatio*size {
		return Content{}, refused("the archive is compressed more than %d:1 (a zip bomb?)", maxZipRatio)
	}
	if len(types) > maxContentTypesXML {
		return Content{}, refused("ZIP archives are accepted only as docx or xlsx")
	}
	switch s := string(types); {
	case strings.Contains(s, "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml") && parts["word/document.xml"] != nil:
		return Content{Kind: Document, ContentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Ext: "docx"}, nil
	case strings.Contains(s, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml") && parts["xl/workbook.xml"] != nil:
		return Content{Kind: Document, ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Ext: "xlsx"}, nil
	}
	return Content{}, refused("ZIP archives are accepted only as docx or xlsx")
}

// inflate reads entry f to its end and returns how many bytes it really
// inflated to. It stops with errZipTooBig as soon as more than allowed
// bytes come out, whatever the entry declares; keep, when not nil, gets the
// bytes (up to maxContentTypesXML+1 of them).
func inflate(f *zip.File, allowed int64, keep *bytes.Buffer) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer func() { _ = rc.Close() }()
	w := io.Writer(io.Discard)
	if keep != nil {
		w = &capped{w: keep, n: maxContentTypesXML + 1}
	}
	n, err := io.Copy(w, io.LimitReader(rc, allowed+1))
	if err != nil {
		return n, err
	}
	if n > allowed {
		return n, errZipTooBig
	}
	return n, nil
}

// capped keeps the first n bytes written to it and discards the rest.
type capped struct {
	w io.Writer
	n int
}

func (c *capped) Write(p []byte) (int, error) {
	if c.n > 0 {
		k := min(len(p), c.n)
		if _, err := c.w.Write(p[:k]); err != nil {
			return 0, err
		}
		c.n -= k
	}
	return len(p), nil
}
