package snifftest

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Voice notes and movies with tracks, generated rather than committed: the
// bytes are structurally valid containers (what package sniff and
// media/audio read) around silent or zero payloads.

// oggCRC is the Ogg page checksum (CRC-32, polynomial 0x04c11db7, not
// reflected, initial value 0).
func oggCRC(b []byte) uint32 {
	var crc uint32
	for _, c := range b {
		crc ^= uint32(c) << 24
		for i := 0; i < 8; i++ {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04c11db7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// oggPage is one Ogg page holding whole packets (each under 255 bytes).
func oggPage(flags byte, granule int64, seq uint32, packets ...[]byte) []byte {
	p := []byte("OggS\x00")
	p = append(p, flags)
	p = binary.LittleEndian.AppendUint64(p, uint64(granule))
	p = binary.LittleEndian.AppendUint32(p, 0x5eed)
	p = binary.LittleEndian.AppendUint32(p, seq)
	p = append(p, 0, 0, 0, 0, byte(len(packets)))
	for _, pk := range packets {
		p = append(p, byte(len(pk)))
	}
	for _, pk := range packets {
		p = append(p, pk...)
	}
	binary.LittleEndian.PutUint32(p[22:], oggCRC(p))
	return p
}

// OggOpus is an Ogg/Opus voice note playing d (rounded to 120 ms packets
// of six 20 ms CELT frames), with a pre-skip of 312 samples.
func OggOpus(d time.Duration) []byte { return OggOpusClaiming(d, d) }

// OggOpusClaiming is OggOpus(real) whose comment header says DURATION=
// claimed and whose last page's granule position says claimed too: a
// file that lies about its length.
func OggOpusClaiming(real, claimed time.Duration) []byte {
	const preSkip = 312
	head := []byte("OpusHead\x01\x01")
	head = binary.LittleEndian.AppendUint16(head, preSkip)
	head = binary.LittleEndian.AppendUint32(head, 48000)
	head = append(head, 0, 0, 0)
	tags := []byte("OpusTags\x04\x00\x00\x00test\x01\x00\x00\x00")
	c := fmt.Sprintf("DURATION=%s", claimed)
	tags = append(binary.LittleEndian.AppendUint32(tags[:len(tags)-4], 1), binary.LittleEndian.AppendUint32(nil, uint32(len(c)))...)
	tags = append(tags, c...)
	out := append(oggPage(0x02, 0, 0, head), oggPage(0, 0, 1, tags)...)
	n := int(real / (120 * time.Millisecond))
	var granule int64 = preSkip
	seq := uint32(2)
	for i := 0; i < n; {
		var packets [][]byte
		for ; i < n && len(packets) < 50; i++ {
			pk := []byte{31<<3 | 3, 6} // CELT FB 20 ms, code 3, 6 frames
			pk = append(pk, make([]byte, 4+i%20)...)
			packets = append(packets, pk)
			granule += 6 * 960
		}
		// Every page's position is scaled by claimed/real, so the
		// positions agree with each other and only the packets tell.
		flags, g := byte(0), preSkip+(granule-preSkip)*int64(claimed/time.Millisecond)/int64(max(real/time.Millisecond, 1))
		if i == n {
			flags = 0x04
		}
		out = append(out, oggPage(flags, g, seq, packets...)...)
		seq++
	}
	return out
}

// MP3 is an MPEG-1 Layer III file (32 kbit/s, 32 kHz, mono: 144-byte
// frames of 36 ms) playing about d, after an ID3v2 tag. Each frame's side
// information says a varying number of bits, as loudness would.
func MP3(d time.Duration) []byte { return MP3Xing(d, -1) }

// MP3Xing is MP3(d) whose first frame is a Xing header saying frames
// frames (none when frames < 0).
func MP3Xing(d time.Duration, frames int) []byte {
	out := []byte("ID3\x04\x00\x00\x00\x00\x00\x0a")
	out = append(out, make([]byte, 10)...)
	frame := func(sideInfo []byte) []byte {
		f := make([]byte, 144)
		copy(f, []byte{0xFF, 0xFB, 0x18, 0xC0})
		copy(f[4:], sideInfo)
		return f
	}
	if frames >= 0 {
		x := make([]byte, 17, 29)
		x = append(x, "Xing\x00\x00\x00\x01"...)
		x = binary.BigEndian.AppendUint32(x, uint32(frames))
		out = append(out, frame(x)...)
	}
	n := int(d * 32000 / 1152 / time.Second)
	for i := 0; i < n; i++ {
		bits := uint64(100 + (i*37)%900) // part2_3_length of both granules
		si := make([]byte, 17)
		// main_data_begin 9, private 5, scfsi 4 = 18 bits; then granule 0
		// (12 bits of part2_3_length, ...), granule 1 at bit 18+59.
		put := func(at int, v uint64) {
			for k := 0; k < 12; k++ {
				if v>>(11-k)&1 != 0 {
					si[(at+k)/8] |= 0x80 >> ((at + k) % 8)
				}
			}
		}
		put(18, bits)
		put(18+59, bits)
		out = append(out, frame(si)...)
	}
	return out
}

func fullBox(typ string, version byte, payload ...[]byte) []byte {
	return box(typ, append([][]byte{{version, 0, 0, 0}}, payload...)...)
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// track is a trak box: handler "soun" or "vide", codec, presentation size,
// timescale, and samples of delta ticks each with the given sizes.
func track(handler, codec string, w, h int, timescale, delta uint32, sizes []uint32) []byte {
	tkhd := make([]byte, 80)
	binary.BigEndian.PutUint32(tkhd[72:], uint32(w)<<16)
	binary.BigEndian.PutUint32(tkhd[76:], uint32(h)<<16)
	mdhd := make([]byte, 20)
	binary.BigEndian.PutUint32(mdhd[8:], timescale)
	binary.BigEndian.PutUint32(mdhd[12:], uint32(len(sizes))*delta)
	hdlr := append(u32(0), handler...)
	hdlr = append(hdlr, make([]byte, 13)...)
	entry := box(codec, make([]byte, 28))
	stsd := append(u32(1), entry...)
	stts := append(u32(1), u32(uint32(len(sizes)))...)
	stts = append(stts, u32(delta)...)
	stsz := append(u32(0), u32(uint32(len(sizes)))...)
	for _, s := range sizes {
		stsz = append(stsz, u32(s)...)
	}
	stbl := box("stbl", fullBox("stsd", 0, stsd), fullBox("stts", 0, stts), fullBox("stsz", 0, stsz))
	return box("trak", fullBox("tkhd", 0, tkhd), box("mdia", fullBox("mdhd", 0, mdhd), fullBox("hdlr", 0, hdlr), box("minf", stbl)))
}

// movie is ftyp(brand) + moov(mvhd saying claimed, the tracks) + mdat.
func movie(brand string, claimed time.Duration, tracks ...[]byte) []byte {
	ftyp := box("ftyp", []byte(brand+"\x00\x00\x02\x00isomiso2mp41"))
	mvhd := make([]byte, 100)
	binary.BigEndian.PutUint32(mvhd[12:], 1000)
	binary.BigEndian.PutUint32(mvhd[16:], uint32(claimed/time.Millisecond))
	binary.BigEndian.PutUint32(mvhd[20:], 0x00010000)
	moov := box("moov", append([][]byte{box("mvhd", mvhd)}, tracks...)...)
	return append(append(ftyp, moov...), box("mdat", make([]byte, 64))...)
}

// M4A is an AAC-in-MP4 voice note of d (44.1 kHz, 1024-sample frames).
func M4A(d time.Duration) []byte { return M4AClaiming(d, d) }

// M4AClaiming is M4A(real) whose movie header says claimed.
func M4AClaiming(real, claimed time.Duration) []byte {
	n := int(real * 44100 / 1024 / time.Second)
	sizes := make([]uint32, n)
	for i := range sizes {
		sizes[i] = uint32(20 + (i*13)%300)
	}
	return movie("M4A ", claimed, track("soun", "mp4a", 0, 0, 44100, 1024, sizes))
}

// MovieWithAudio is an audio-only movie whose track is of codec (e.g.
// "Opus", refused as a voice note in MP4).
func MovieWithAudio(codec string, d time.Duration) []byte {
	sizes := make([]uint32, int(d/(20*time.Millisecond)))
	for i := range sizes {
		sizes[i] = 50
	}
	return movie("isom", d, track("soun", codec, 0, 0, 48000, 960, sizes))
}

// VideoMP4 is an MP4 with a w×h H.264 video track (30 fps) and an AAC
// track, both lasting d.
func VideoMP4(d time.Duration, w, h int) []byte {
	frames := make([]uint32, int(d*30/time.Second))
	for i := range frames {
		frames[i] = 100
	}
	audio := make([]uint32, int(d*44100/1024/time.Second))
	for i := range audio {
		audio[i] = 30
	}
	return movie("isom", d, track("vide", "avc1", w, h, 30000, 1000, frames), track("soun", "mp4a", 0, 0, 44100, 1024, audio))
}
