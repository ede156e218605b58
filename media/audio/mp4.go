package audio

import (
	"encoding/binary"
	"time"
)

// Track is one track of an MP4/QuickTime movie, as its moov box describes it.
type Track struct {
	// Handler is the media handler: "soun" (audio), "vide" (video), ...
	Handler string
	// Codec is the first sample description's format ("mp4a", "avc1", ...).
	Codec string
	// Width and Height are the presentation size (tkhd), in pixels.
	Width, Height int
	// Duration is the longer of the media header's duration (mdhd) and
	// the sum of the sample durations (stts).
	Duration time.Duration
	// Waveform outlines the sample sizes (stsz) of an audio track.
	Waveform []byte
}

// maxMovieBoxes bounds the boxes ParseMovie visits.
const maxMovieBoxes = 100000

// ParseMovie reads the tracks of a movie from the payload of its moov box
// (what follows the box header). Boxes that run past their parent are
// ErrInvalid; a track missing a box it needs reports zero values for it,
// the caller decides what is required.
func ParseMovie(moov []byte) ([]Track, error) {
	var tracks []Track
	count := 0
	err := boxes(moov, &count, func(typ string, b []byte) error {
		if typ != "trak" {
			return nil
		}
		t, err := parseTrak(b, &count)
		if err != nil {
			return err
		}
		tracks = append(tracks, t)
		return nil
	})
	return tracks, err
}

func parseTrak(trak []byte, count *int) (Track, error) {
	var t Track
	var timescale uint32
	var mdhdDur, sttsDur uint64
	var outline Outline
	var sizes bool
	var visit func(typ string, b []byte) error
	depth := 0
	visit = func(typ string, b []byte) error {
		switch typ {
		case "mdia", "minf", "stbl":
			if depth >= 3 { // trak/mdia/minf/stbl: no deeper
				return nil
			}
			depth++
			defer func() { depth-- }()
			return boxes(b, count, visit)
		case "tkhd":
			w, h := 76, 80
			if len(b) > 0 && b[0] == 1 {
				w, h = 88, 92
			}
			if len(b) >= h+4 {
				t.Width = int(binary.BigEndian.Uint32(b[w:]) >> 16)
				t.Height = int(binary.BigEndian.Uint32(b[h:]) >> 16)
			}
		case "mdhd":
			switch {
			case len(b) >= 20 && b[0] == 0:
				timescale, mdhdDur = binary.BigEndian.Uint32(b[12:]), uint64(binary.BigEndian.Uint32(b[16:]))
			case len(b) >= 32 && b[0] == 1:
				timescale, mdhdDur = binary.BigEndian.Uint32(b[20:]), binary.BigEndian.Uint64(b[24:])
			}
		case "hdlr":
			if len(b) >= 12 {
				t.Handler = string(b[8:12])
			}
		case "stsd":
			if len(b) >= 16 {
				t.Codec = string(b[12:16])
			}
		case "stts":
			if len(b) < 8 {
				return invalid("the movie's sample table is damaged")
			}
			n := uint64(binary.BigEndian.Uint32(b[4:]))
			if n > uint64(len(b)-8)/8 {
				return invalid("the movie's sample table is damaged")
			}
			for i := uint64(0); i < n; i++ {
				e := b[8+8*i:]
				sttsDur += uint64(binary.BigEndian.Uint32(e)) * uint64(binary.BigEndian.Uint32(e[4:]))
				if sttsDur > 1<<60 {
					return invalid("the movie's length is implausible")
				}
			}
		case "stsz":
			if len(b) < 12 {
				return invalid("the movie's sample sizes are damaged")
			}
			fixed := binary.BigEndian.Uint32(b[4:])
			n := uint64(binary.BigEndian.Uint32(b[8:]))
			if fixed == 0 && n > uint64(len(b)-12)/4 {
				return invalid("the movie's sample sizes are damaged")
			}
			sizes = true
			for i := uint64(0); i < n && fixed == 0; i++ {
				outline.Add(uint64(binary.BigEndian.Uint32(b[12+4*i:])))
			}
			if fixed != 0 {
				for i := uint64(0); i < min(n, maxBins); i++ {
					outline.Add(uint64(fixed))
				}
			}
		}
		return nil
	}
	if err := boxes(trak, count, visit); err != nil {
		return t, err
	}
	if timescale != 0 {
		t.Duration = toDuration(max(mdhdDur, sttsDur), uint64(timescale))
	}
	if sizes && t.Handler == "soun" {
		t.Waveform = outline.Waveform()
	}
	return t, nil
}

// toDuration converts n ticks of timescale per second, saturating past
// maxDuration.
func toDuration(n, timescale uint64) time.Duration {
	secs := n / timescale
	if secs > uint64(maxDuration/time.Second) {
		return maxDuration + time.Second
	}
	return time.Duration(secs)*time.Second + time.Duration(n%timescale*uint64(time.Second)/timescale)
}

// boxes calls fn with each box's type and payload in b, visiting at most
// maxMovieBoxes boxes in all (count is shared by the nested walks).
func boxes(b []byte, count *int, fn func(typ string, payload []byte) error) error {
	for len(b) > 0 {
		if *count++; *count > maxMovieBoxes {
			return invalid("the movie has too many boxes")
		}
		if len(b) < 8 {
			return invalid("the movie header is damaged")
		}
		size, hl := uint64(binary.BigEndian.Uint32(b)), uint64(8)
		typ := string(b[4:8])
		switch size {
		case 1:
			if len(b) < 16 {
				return invalid("the movie header is damaged")
			}
			size, hl = binary.BigEndian.Uint64(b[8:]), 16
		case 0:
			size = uint64(len(b))
		}
		if size < hl || size > uint64(len(b)) {
			return invalid("the movie header is damaged (box %q runs past its parent)", typ)
		}
		if err := fn(typ, b[hl:size]); err != nil {
			return err
		}
		b = b[size:]
	}
	return nil
}
