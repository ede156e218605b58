package audio

import (
	"bytes"
	"encoding/binary"
	"io"
)

// mp3Frame is one MPEG audio Layer III frame header.
type mp3Frame struct {
	mpeg1      bool
	mono       bool
	sampleRate int64
	samples    int64 // per frame
	length     int   // bytes, header included
}

var (
	mp3Bitrates1 = [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}
	mp3Bitrates2 = [16]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0}
	mp3Rates     = [4][3]int64{{11025, 12000, 8000}, {}, {22050, 24000, 16000}, {44100, 48000, 32000}}
)

// parseMP3Frame reads a Layer III frame header (free bitrate and the
// reserved values are refused).
func parseMP3Frame(h []byte) (mp3Frame, bool) {
	if len(h) < 4 || h[0] != 0xFF || h[1]&0xE0 != 0xE0 {
		return mp3Frame{}, false
	}
	version := (h[1] >> 3) & 3
	layer := (h[1] >> 1) & 3
	bri := h[2] >> 4
	sri := (h[2] >> 2) & 3
	if version == 1 || layer != 1 || bri == 0 || bri == 15 || sri == 3 {
		return mp3Frame{}, false
	}
	f := mp3Frame{mpeg1: version == 3, mono: h[3]>>6 == 3, sampleRate: mp3Rates[version][sri]}
	pad := int(h[2]>>1) & 1
	if f.mpeg1 {
		f.samples = 1152
		f.length = 144*mp3Bitrates1[bri]*1000/int(f.sampleRate) + pad
	} else {
		f.samples = 576
		f.length = 72*mp3Bitrates2[bri]*1000/int(f.sampleRate) + pad
	}
	return f, true
}

// id3Len is the length of the ID3v2 tag at the start of head (0 if none).
func id3Len(head []byte) int64 {
	if len(head) < 10 || string(head[:3]) != "ID3" || head[3] < 2 || head[3] > 4 || head[4] == 0xFF ||
		(head[6]|head[7]|head[8]|head[9])&0x80 != 0 {
		return 0 // not an ID3v2.2-2.4 header (a CSV may start with "ID3,")
	}
	n := int64(head[6]&0x7F)<<21 | int64(head[7]&0x7F)<<14 | int64(head[8]&0x7F)<<7 | int64(head[9]&0x7F)
	n += 10
	if head[5]&0x10 != 0 {
		n += 10 // footer
	}
	return n
}

// IsMP3 reports whether head starts an MP3 file: an ID3v2 tag, or two
// consecutive Layer III frame headers.
func IsMP3(head []byte) bool {
	if id3Len(head) > 0 {
		return true
	}
	f, ok := parseMP3Frame(head)
	if !ok {
		return false
	}
	if f.length+4 > len(head) {
		return f.length >= len(head) // one frame longer than the head: let ParseMP3 decide
	}
	g, ok := parseMP3Frame(head[f.length:])
	return ok && g.sampleRate == f.sampleRate
}

// ParseMP3 reads an MP3 file of size bytes: an optional ID3v2 tag, then
// MPEG-1/2/2.5 Layer III frames at one sample rate, then optional ID3v1
// or APE tags. Every frame is visited: the duration is the longer of the
// frame count a Xing/Info or VBRI header gives and the frames actually
// there. The waveform outlines the bits each frame's granules spend
// (part2_3_length from the side information), which follow loudness even
// at a constant bitrate. Anything else is ErrInvalid, and so is a file
// with more than a little unreadable data.
func ParseMP3(r io.ReaderAt, size int64) (Info, error) {
	info := Info{ContentType: "audio/mpeg"}
	head := make([]byte, min(size, 10))
	if _, err := r.ReadAt(head, 0); err != nil && len(head) > 0 {
		return info, invalid("the MP3 file is truncated")
	}
	pos := id3Len(head)
	if pos > size {
		return info, invalid("the MP3 file is truncated (its ID3 tag runs past the end)")
	}
	var (
		buf      = make([]byte, 2048)
		frames   int64
		claimed  int64
		rate     int64
		perFrame int64
		outline  Outline
	)
	for pos < size {
		n := min(int64(len(buf)), size-pos)
		if _, err := r.ReadAt(buf[:n], pos); err != nil && n > 0 && err != io.EOF {
			return info, invalid("the MP3 file is truncated")
		}
		f, ok := parseMP3Frame(buf[:n])
		if !ok || (rate != 0 && f.sampleRate != rate) || int64(f.length) > size-pos || f.length > len(buf) {
			break
		}
		body := buf[4:f.length]
		if frames == 0 && claimed == 0 {
			if c, ok := mp3Header(f, body); ok {
				claimed, rate, perFrame = c, f.sampleRate, f.samples
				pos += int64(f.length)
				continue
			}
		}
		rate, perFrame = f.sampleRate, f.samples
		frames++
		outline.Add(mp3Bits(f, body))
		pos += int64(f.length)
	}
	if frames == 0 {
		return info, invalid("the file is not MP3 (no MPEG audio Layer III frames)")
	}
	if rest := size - pos; rest > 0 && !mp3Trailer(r, pos, rest) && rest > max(4096, size/100) {
		return info, invalid("the MP3 file has %d bytes that are not audio", rest)
	}
	info.Duration = samplesToDuration(max(frames, claimed)*perFrame, rate)
	if info.Duration > maxDuration {
		return info, invalid("the MP3 file's length is implausible")
	}
	info.Waveform = outline.Waveform()
	return info, nil
}

// sideInfoLen is the length of a frame's side information.
func sideInfoLen(f mp3Frame) int {
	switch {
	case f.mpeg1 && f.mono:
		return 17
	case f.mpeg1:
		return 32
	case f.mono:
		return 9
	}
	return 17
}

// mp3Header reads the frame count of a Xing/Info or VBRI header frame
// (body is the frame after its 4-byte header).
func mp3Header(f mp3Frame, body []byte) (int64, bool) {
	if x := body[min(sideInfoLen(f), len(body)):]; len(x) >= 8 && (string(x[:4]) == "Xing" || string(x[:4]) == "Info") {
		flags := binary.BigEndian.Uint32(x[4:])
		if flags&1 != 0 && len(x) >= 12 {
			return int64(binary.BigEndian.Uint32(x[8:])), true
		}
		return 0, true
	}
	if len(body) >= 32+18 && string(body[32:36]) == "VBRI" {
		return int64(binary.BigEndian.Uint32(body[32+14:])), true
	}
	return 0, false
}

// mp3Bits sums part2_3_length, the bits of main data, over the frame's
// granules and channels.
func mp3Bits(f mp3Frame, body []byte) uint64 {
	si := body[:min(sideInfoLen(f), len(body))]
	bit := func(at, n int) uint64 { // n bits from bit offset at
		var v uint64
		for i := at; i < at+n; i++ {
			if i/8 >= len(si) {
				return v
			}
			v = v<<1 | uint64(si[i/8]>>(7-i%8)&1)
		}
		return v
	}
	ch := 2
	if f.mono {
		ch = 1
	}
	var at, granules, perGranule int
	switch {
	case f.mpeg1 && f.mono:
		at, granules, perGranule = 9+5+4, 2, 59
	case f.mpeg1:
		at, granules, perGranule = 9+3+8, 2, 59
	case f.mono:
		at, granules, perGranule = 8+1, 1, 63
	default:
		at, granules, perGranule = 8+2, 1, 63
	}
	var sum uint64
	for g := 0; g < granules*ch; g++ {
		sum += bit(at+g*perGranule, 12)
	}
	return sum
}

// mp3Trailer reports whether the rest bytes at pos are tags.
func mp3Trailer(r io.ReaderAt, pos, rest int64) bool {
	b := make([]byte, min(rest, 8))
	if _, err := r.ReadAt(b, pos); err != nil && err != io.EOF {
		return false
	}
	return bytes.HasPrefix(b, []byte("TAG")) && rest == 128 ||
		bytes.HasPrefix(b, []byte("APETAGEX")) || bytes.HasPrefix(b, []byte("LYRICS"))
}
