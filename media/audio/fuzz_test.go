package audio_test

import (
	"bytes"
	"testing"
	"time"

	"messenger/media/audio"
	"messenger/sniff/snifftest"
)

// The parsers read untrusted uploads: whatever the bytes, they return
// (an error or a bounded result), never panic.

func FuzzParseOgg(f *testing.F) {
	f.Add(snifftest.OggOpus(360 * time.Millisecond))
	f.Add([]byte("OggS\x00\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := audio.ParseOgg(bytes.NewReader(b), int64(len(b)))
		if err == nil && len(info.Waveform) != audio.WaveformLen {
			t.Fatalf("waveform of %d samples", len(info.Waveform))
		}
	})
}

func FuzzParseMP3(f *testing.F) {
	f.Add(snifftest.MP3(200 * time.Millisecond))
	f.Add(snifftest.MP3Xing(100*time.Millisecond, 3))
	f.Add([]byte{0xFF, 0xFB, 0x18, 0xC0})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = audio.IsMP3(b)
		info, err := audio.ParseMP3(bytes.NewReader(b), int64(len(b)))
		if err == nil && len(info.Waveform) != audio.WaveformLen {
			t.Fatalf("waveform of %d samples", len(info.Waveform))
		}
	})
}

func FuzzParseMovie(f *testing.F) {
	for _, b := range [][]byte{snifftest.M4A(100 * time.Millisecond), snifftest.VideoMP4(100*time.Millisecond, 16, 9)} {
		if i := bytes.Index(b, []byte("moov")); i >= 0 {
			f.Add(b[i+4:])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tracks, _ := audio.ParseMovie(b)
		for _, tr := range tracks {
			if tr.Duration < 0 {
				t.Fatalf("negative duration %v", tr.Duration)
			}
		}
	})
}
