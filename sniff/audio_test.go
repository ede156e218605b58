package sniff_test

import (
	"testing"
	"time"

	"messenger/sniff"
	"messenger/sniff/snifftest"
)

func TestVoiceNotesAreRecognisedWithTheirRealDuration(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		ct   string
		want time.Duration
	}{
		{"ogg", snifftest.OggOpus(3 * time.Second), "audio/ogg", 3 * time.Second},
		{"mp3", snifftest.MP3(3 * time.Second), "audio/mpeg", 2988 * time.Millisecond},
		{"m4a", snifftest.M4A(3 * time.Second), "audio/mp4", 3 * time.Second},
		{"ogg claiming 4 min", snifftest.OggOpusClaiming(6*time.Minute, 4*time.Minute), "audio/ogg", 6 * time.Minute},
		{"m4a claiming 4 min", snifftest.M4AClaiming(6*time.Minute, 4*time.Minute), "audio/mp4", 6 * time.Minute},
	} {
		c, err := inspect(tc.data)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.Kind != sniff.Voice || c.ContentType != tc.ct || len(c.Waveform) != 64 {
			t.Fatalf("%s: %+v", tc.name, c)
		}
		if d := c.Duration - tc.want; d < -30*time.Millisecond || d > 30*time.Millisecond {
			t.Fatalf("%s: duration %v, want %v", tc.name, c.Duration, tc.want)
		}
	}
}

func TestVideosReportWidthHeightAndDuration(t *testing.T) {
	c, err := inspect(snifftest.VideoMP4(90*time.Second, 1280, 720))
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != sniff.Video || c.Width != 1280 || c.Height != 720 || c.Duration != 90*time.Second {
		t.Fatalf("%+v", c)
	}
}

func TestAudioOnlyMovieThatIsNotAACIsRefused(t *testing.T) {
	if _, err := inspect(snifftest.MovieWithAudio("Opus", time.Second)); err == nil {
		t.Fatal("an Opus-in-MP4 voice note was accepted")
	}
}

func FuzzOgg(f *testing.F) {
	fuzzAfter(f, []byte("OggS"), snifftest.OggOpus(360*time.Millisecond))
}

func FuzzMP3(f *testing.F) {
	fuzzAfter(f, []byte("ID3"), snifftest.MP3(100*time.Millisecond))
}

func FuzzM4A(f *testing.F) {
	f.Add(snifftest.M4A(100 * time.Millisecond))
	f.Add(snifftest.VideoMP4(100*time.Millisecond, 16, 9))
	f.Fuzz(func(t *testing.T, b []byte) { verdict(t, b) })
}
