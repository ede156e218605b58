package sniff

import (
	"encoding/binary"
	"errors"
	"io"
	"unicode/utf16"
)

var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// inspectOLE reads an OLE2 compound file's directory and accepts it as a
// Word 97-2003 document (a "WordDocument" stream) or an Excel 97-2003
// workbook ("Workbook" or "Book"). Other OLE2 files (msi, ppt, msg, ...)
// are refused. Every chain walk is bounded by the file's sector count, so a
// looping FAT cannot hang the server.
func inspectOLE(r io.ReaderAt, size int64) (Content, error) {
	damaged := refused("the Office 97-2003 file is damaged")
	hdr := make([]byte, 512)
	if _, err := r.ReadAt(hdr, 0); err != nil {
		return Content{}, damaged
	}
	le := binary.LittleEndian
	shift := le.Uint16(hdr[0x1E:])
	if le.Uint16(hdr[0x1C:]) != 0xFFFE || (shift != 9 && shift != 12) {
		return Content{}, damaged
	}
	secSize := int64(1) << shift
	nSectors := size/secSize - 1
	if nSectors <= 0 {
		return Content{}, damaged
	}
	readSector := func(n uint32) ([]byte, error) {
		off := (int64(n) + 1) * secSize
		if int64(n) >= nSectors || off+secSize > size {
			return nil, errors.New("sector out of range")
		}
		b := make([]byte, secSize)
		_, err := r.ReadAt(b, off)
		return b, err
	}
	// The FAT sectors listed in the header (109 of them cover a 7 MB file
	// with 512-byte sectors: more than any attachment may be).
	var fat []uint32
	nFat := le.Uint32(hdr[0x2C:])
	for i := uint32(0); i < nFat && i < 109; i++ {
		s, err := readSector(le.Uint32(hdr[0x4C+4*i:]))
		if err != nil {
			return Content{}, damaged
		}
		for j := 0; j+4 <= len(s); j += 4 {
			fat = append(fat, le.Uint32(s[j:]))
		}
	}
	const endOfChain = 0xFFFFFFFE
	sec := le.Uint32(hdr[0x30:])
	var word, excel bool
	for steps := int64(0); sec != endOfChain; steps++ {
		if steps > nSectors || int(sec) >= len(fat) {
			return Content{}, damaged
		}
		dir, err := readSector(sec)
		if err != nil {
			return Content{}, damaged
		}
		for e := 0; e+128 <= len(dir); e += 128 {
			n := int(le.Uint16(dir[e+64:]))
			if n < 2 || n > 64 || dir[e+66] != 2 { // streams only
				continue
			}
			u := make([]uint16, n/2-1)
			for i := range u {
				u[i] = le.Uint16(dir[e+2*i:])
			}
			switch string(utf16.Decode(u)) {
			case "WordDocument":
				word = true
			case "Workbook", "Book":
				excel = true
			}
		}
		sec = fat[sec]
	}
	switch {
	case word:
		return Content{Kind: Document, ContentType: "application/msword", Ext: "doc"}, nil
	case excel:
		return Content{Kind: Document, ContentType: "application/vnd.ms-excel", Ext: "xls"}, nil
	}
	return Content{}, refused("only Word and Excel 97-2003 files are accepted among OLE2 files")
}
