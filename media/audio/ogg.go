package audio

import (
	"bytes"
	"encoding/binary"
	"io"
)

// opusRate is Opus's granule rate: positions count 48 kHz samples
// whatever the input rate was (RFC 7845 section 4).
const opusRate = 48000

// IsOgg reports whether head starts an Ogg page.
func IsOgg(head []byte) bool { return bytes.HasPrefix(head, []byte("OggS")) }

// ParseOgg reads an Ogg/Opus stream of size bytes (RFC 3533, RFC 7845):
// one logical stream whose first packet is an OpusHead and second an
// OpusTags, every page complete. The duration is the longer of
// (last granule position - pre-skip) / 48 kHz and the samples of every
// audio packet counted from its TOC byte (RFC 6716 section 3.1) minus
// the pre-skip: a last page whose granule claims less than the packets
// play does not shorten the note. The waveform outlines the packets'
// sizes (Opus is variable-bitrate by default). Anything else (Vorbis,
// FLAC, several streams, a truncated page) is ErrInvalid.
func ParseOgg(r io.ReaderAt, size int64) (Info, error) {
	info := Info{ContentType: "audio/ogg"}
	var (
		hdr      [27]byte
		lacing   [255]byte
		serial   uint32
		packet   []byte // the packet being assembled across segments
		packets  int    // packets completed so far
		preSkip  int64
		samples  int64
		granule  int64 = -1
		outline  Outline
		pos      int64
		lastPage bool
	)
	for pageNo := 0; pos < size; pageNo++ {
		if lastPage {
			return info, invalid("the Ogg stream continues after its last page")
		}
		if size-pos < 27 {
			return info, invalid("the Ogg stream is truncated")
		}
		if _, err := r.ReadAt(hdr[:], pos); err != nil {
			return info, invalid("the Ogg stream is truncated")
		}
		if string(hdr[:4]) != "OggS" || hdr[4] != 0 {
			return info, invalid("the Ogg stream is damaged (no page at byte %d)", pos)
		}
		flags := hdr[5]
		g := int64(binary.LittleEndian.Uint64(hdr[6:]))
		s := binary.LittleEndian.Uint32(hdr[14:])
		nseg := int(hdr[26])
		switch {
		case pageNo == 0:
			serial = s
			if flags&0x02 == 0 {
				return info, invalid("the Ogg stream does not start with a first page")
			}
		case s != serial:
			return info, invalid("the Ogg file holds several streams; a voice note has one")
		}
		lastPage = flags&0x04 != 0
		if _, err := r.ReadAt(lacing[:nseg], pos+27); err != nil && nseg > 0 {
			return info, invalid("the Ogg stream is truncated")
		}
		bodyLen := 0
		for _, l := range lacing[:nseg] {
			bodyLen += int(l)
		}
		body := make([]byte, bodyLen)
		bodyAt := pos + 27 + int64(nseg)
		if bodyAt+int64(bodyLen) > size {
			return info, invalid("the Ogg stream is truncated (page at byte %d runs past the end)", pos)
		}
		if _, err := r.ReadAt(body, bodyAt); err != nil && bodyLen > 0 {
			return info, invalid("the Ogg stream is truncated")
		}
		if flags&0x01 == 0 && len(packet) > 0 {
			return info, invalid("the Ogg stream is damaged (a packet is cut off)")
		}
		off := 0
		for _, l := range lacing[:nseg] {
			packet = append(packet, body[off:off+int(l)]...)
			off += int(l)
			if l == 255 {
				continue
			}
			switch packets {
			case 0:
				p, err := opusHead(packet)
				if err != nil {
					return info, err
				}
				preSkip = p
			case 1:
				if !bytes.HasPrefix(packet, []byte("OpusTags")) {
					return info, invalid("the Opus stream has no comment header (OpusTags)")
				}
			default:
				n, err := opusSamples(packet)
				if err != nil {
					return info, err
				}
				samples += n
				outline.Add(uint64(len(packet)))
			}
			packets++
			packet = packet[:0]
		}
		if len(packet) > 1<<20 {
			return info, invalid("the Opus stream has an oversized packet")
		}
		if g != -1 {
			if g < granule {
				return info, invalid("the Ogg stream's positions go backwards")
			}
			granule = g
		}
		pos = bodyAt + int64(bodyLen)
	}
	if packets < 2 {
		return info, invalid("the Ogg stream has no Opus headers")
	}
	if len(packet) > 0 {
		return info, invalid("the Ogg stream is truncated (its last packet is cut off)")
	}
	info.Duration = max(samplesToDuration(granule-preSkip, opusRate), samplesToDuration(samples-preSkip, opusRate))
	if samples == 0 || info.Duration <= 0 {
		return info, invalid("the Opus stream has no audio")
	}
	if info.Duration > maxDuration {
		return info, invalid("the Opus stream's length is implausible")
	}
	info.Waveform = outline.Waveform()
	return info, nil
}

// opusHead checks an identification header and returns its pre-skip.
func opusHead(p []byte) (int64, error) {
	if len(p) < 19 || string(p[:8]) != "OpusHead" {
		return 0, invalid("the Ogg stream is not Opus (voice notes in Ogg must be Opus)")
	}
	if p[8]&0xF0 != 0 {
		return 0, invalid("the Opus header has an unsupported version")
	}
	if p[9] == 0 {
		return 0, invalid("the Opus header declares no channels")
	}
	return int64(binary.LittleEndian.Uint16(p[10:])), nil
}

// opusFrameSamples is the frame duration, in 48 kHz samples, of each of
// the 32 TOC configurations (RFC 6716 table 2).
var opusFrameSamples = [32]int64{
	480, 960, 1920, 2880, 480, 960, 1920, 2880, 480, 960, 1920, 2880, // SILK
	480, 960, 480, 960, // Hybrid
	120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960, // CELT
}

// opusSamples is how many 48 kHz samples an Opus packet plays, from its
// TOC byte and (code 3) frame count byte. An empty packet (a lost or
// discontinued frame) plays none.
func opusSamples(p []byte) (int64, error) {
	if len(p) == 0 {
		return 0, nil
	}
	frames := int64(1)
	switch p[0] & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0, invalid("an Opus packet is damaged")
		}
		frames = int64(p[1] & 0x3F)
	}
	n := frames * opusFrameSamples[p[0]>>3]
	if n > 5760 { // 120 ms: the most one packet may hold
		return 0, invalid("an Opus packet is damaged (more than 120 ms)")
	}
	return n, nil
}
