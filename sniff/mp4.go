package sniff

import (
	"encoding/binary"
	"io"
	"time"
)

// isMP4 recognises an ISO base media / QuickTime file by its first box.
func isMP4(h []byte) bool {
	if len(h) < 8 {
		return false
	}
	switch string(h[4:8]) {
	case "ftyp", "moov", "mdat", "wide", "free", "skip":
		return true
	}
	return false
}

// inspectMP4 walks the top-level boxes (32- and 64-bit sizes, size 0 = to
// the end of the file), requires every box to fit inside the file (a
// truncated upload has a box running past its end), and reads the
// duration from moov/mvhd (version 0 or 1).
func inspectMP4(r io.ReaderAt, size int64) (Content, error) {
	c := Content{Kind: Video, ContentType: "video/mp4", Ext: "mp4"}
	var mvhd, moov []byte
	var sawMdat bool
	err := walkBoxes(r, 0, size, func(typ string, off, n int64) error {
		switch typ {
		case "ftyp":
			b := make([]byte, 4)
			if _, err := r.ReadAt(b, off); err == nil && string(b) == "qt  " {
				c.ContentType, c.Ext = "video/quicktime", "mov"
			}
		case "mdat":
			sawMdat = true
		case "moov":
			moov = readMoov(r, off, n)
			return walkBoxes(r, off, off+n, func(typ string, off, n int64) error {
				if typ == "mvhd" && n >= 32 && n <= 4096 {
					mvhd = make([]byte, n)
					if _, err := r.ReadAt(mvhd, off); err != nil {
						return refused("the video is truncated")
					}
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	if mvhd == nil {
		return c, refused("the video has no movie header (moov/mvhd): truncated or not a finished recording")
	}
	if !sawMdat {
		return c, refused("the video has no media data (mdat)")
	}
	be := binary.BigEndian
	var timescale uint32
	var duration uint64
	switch mvhd[0] {
	case 0:
		timescale, duration = be.Uint32(mvhd[12:]), uint64(be.Uint32(mvhd[16:]))
	case 1:
		if len(mvhd) < 32 {
			return c, refused("the video's movie header is damaged")
		}
		timescale, duration = be.Uint32(mvhd[20:]), be.Uint64(mvhd[24:])
	default:
		return c, refused("the video's movie header has an unknown version")
	}
	if timescale == 0 || duration == 0 || duration == 0xFFFFFFFF || duration == 1<<64-1 {
		return c, refused("the video's duration is unknown")
	}
	secs := duration / uint64(timescale)
	if secs > 24*3600 {
		return c, refused("the video's duration is implausible")
	}
	c.Duration = time.Duration(secs)*time.Second + time.Duration(duration%uint64(timescale))*time.Second/time.Duration(timescale)
	return classifyMovie(c, moov)
}

// walkBoxes calls fn with each box's type and payload range in [start, end).
func walkBoxes(r io.ReaderAt, start, end int64, fn func(typ string, off, n int64) error) error {
	hdr := make([]byte, 16)
	for pos, count := start, 0; pos < end; count++ {
		if count > 10000 || end-pos < 8 {
			return refused("the video is truncated or damaged")
		}
		if _, err := r.ReadAt(hdr[:8], pos); err != nil {
			return refused("the video is truncated")
		}
		size, hl := int64(binary.BigEndian.Uint32(hdr)), int64(8)
		typ := string(hdr[4:8])
		switch size {
		case 1:
			if end-pos < 16 {
				return refused("the video is truncated")
			}
			if _, err := r.ReadAt(hdr[8:16], pos+8); err != nil {
				return refused("the video is truncated")
			}
			u := binary.BigEndian.Uint64(hdr[8:16])
			if u > 1<<62 {
				return refused("the video is truncated")
			}
			size, hl = int64(u), 16
		case 0:
			size = end - pos
		}
		if size < hl || pos+size > end {
			return refused("the video is truncated (box %q runs past the end)", typ)
		}
		if err := fn(typ, pos+hl, size-hl); err != nil {
			return err
		}
		pos += size
	}
	return nil
}
