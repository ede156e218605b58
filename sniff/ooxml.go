package sniff

import (
	"archive/zip"
	"io"
	"strings"
)

// Zip-bomb bounds, checked on the central directory before any entry is
// decompressed. archive/zip also fails a read that produces more bytes than
// an entry declares, so a lying directory cannot get past them.
const (
	maxZipEntries      = 2000
	maxZipUncompressed = 64 << 20 // all entries together
	maxZipRatio        = 100      // uncompressed / compressed, whole archive and per large entry
	maxContentTypesXML = 256 << 10
)

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
	var total uint64
	parts := map[string]*zip.File{}
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > maxZipUncompressed {
			return Content{}, refused("the archive expands to more than %d MiB", maxZipUncompressed>>20)
		}
		if f.UncompressedSize64 > 1<<20 && f.UncompressedSize64 > maxZipRatio*max(f.CompressedSize64, 1) {
			return Content{}, refused("the archive entry %q is compressed more than %d:1 (a zip bomb?)", f.Name, maxZipRatio)
		}
		parts[f.Name] = f
	}
	if total > 1<<20 && total > maxZipRatio*uint64(size) {
		return Content{}, refused("the archive is compressed more than %d:1 (a zip bomb?)", maxZipRatio)
	}
	ctf := parts["[Content_Types].xml"]
	if ctf == nil || ctf.UncompressedSize64 > maxContentTypesXML {
		return Content{}, refused("ZIP archives are accepted only as docx or xlsx")
	}
	rc, err := ctf.Open()
	if err != nil {
		return Content{}, refused("the archive is damaged")
	}
	defer rc.Close()
	ct, err := io.ReadAll(io.LimitReader(rc, maxContentTypesXML+1))
	if err != nil || len(ct) > maxContentTypesXML {
		return Content{}, refused("the archive is damaged")
	}
	types := string(ct)
	switch {
	case strings.Contains(types, "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml") && parts["word/document.xml"] != nil:
		return Content{Kind: Document, ContentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Ext: "docx"}, nil
	case strings.Contains(types, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml") && parts["xl/workbook.xml"] != nil:
		return Content{Kind: Document, ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Ext: "xlsx"}, nil
	}
	return Content{}, refused("ZIP archives are accepted only as docx or xlsx")
}
