package media

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"messenger/sniff"
)

// File names are shown to recipients and sent back in Content-Disposition,
// so two rules keep them honest. A name carrying characters that change
// how the rest of it displays is refused, not cleaned: control characters
// (C0, DEL, C1), bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE
// makes "invoice<RLO>fdp.exe" display as "invoiceexe.pdf"), line and
// paragraph separators and the byte order mark. And once the bytes are
// inspected, the name's extension follows the detected type:
// "invoice.html" holding a PDF is served as "invoice.pdf".

// validFilename keeps the last path segment of a declared name and refuses
// it when it is empty, longer than 255 characters, not UTF-8, or holds a
// character that misleads (see above).
func validFilename(name string) (string, error) {
	name = strings.TrimSpace(name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 255 {
		return "", badInput("filename", "the file name must be 1-255 characters of UTF-8")
	}
	if strings.ContainsFunc(name, misleading) {
		return "", badInput("filename", "the file name has control, bidirectional-override or other invisible formatting characters")
	}
	return name, nil
}

// misleading reports the characters validFilename refuses.
func misleading(r rune) bool {
	switch {
	case unicode.IsControl(r): // C0, DEL, C1
		return true
	case r == 0x061C, r == 0x200E, r == 0x200F, // ALM, LRM, RLM
		r >= 0x202A && r <= 0x202E, // LRE, RLE, PDF, LRO, RLO
		r >= 0x2066 && r <= 0x2069, // LRI, RLI, FSI, PDI
		r == 0x2028, r == 0x2029, r == 0xFEFF:
		return true
	}
	return false
}

// servedName is name with the extension of the detected content type: kept
// when it already is one of that type's (photo.JPEG stays), replaced
// otherwise (invoice.html holding a PDF becomes invoice.pdf), added when
// there is none. Names stored before the filename rules are cleaned of the
// characters validFilename now refuses.
func servedName(name, contentType string) string {
	name = strings.Map(func(r rune) rune {
		if misleading(r) {
			return -1
		}
		return r
	}, name)
	exts := sniff.Extensions(contentType)
	if len(exts) == 0 {
		return name
	}
	name = strings.TrimRight(name, ". ")
	stem, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		stem, ext = name[:i], name[i+1:]
	}
	for _, e := range exts {
		if strings.EqualFold(ext, e) && strings.Trim(stem, ". ") != "" {
			return name
		}
	}
	if strings.Trim(stem, ". ") == "" {
		stem = "file"
	}
	return stem + "." + exts[0]
}
