package audio_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"messenger/media/audio"
	"messenger/sniff/snifftest"
)

func near(t *testing.T, what string, got, want, tolerance time.Duration) {
	t.Helper()
	if got < want-tolerance || got > want+tolerance {
		t.Fatalf("%s: duration %v, want %v ± %v", what, got, want, tolerance)
	}
}

func checkWaveform(t *testing.T, w []byte) {
	t.Helper()
	if len(w) != audio.WaveformLen {
		t.Fatalf("waveform has %d samples, want %d", len(w), audio.WaveformLen)
	}
	top, low := 0, 255
	for _, v := range w {
		top, low = max(top, int(v)), min(low, int(v))
	}
	if top != 255 || low == 255 {
		t.Fatalf("waveform %v is not scaled to 255 or is flat", w)
	}
}

func TestOggOpusDurationIsReadFromTheStream(t *testing.T) {
	b := snifftest.OggOpus(3 * time.Second)
	info, err := audio.ParseOgg(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "ogg", info.Duration, 3*time.Second, time.Millisecond)
	if info.ContentType != "audio/ogg" {
		t.Fatal(info.ContentType)
	}
	checkWaveform(t, info.Waveform)
}

func TestOggOpusClaimingLessThanItPlaysCountsItsPackets(t *testing.T) {
	b := snifftest.OggOpusClaiming(6*time.Minute, 4*time.Minute)
	info, err := audio.ParseOgg(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "lying ogg", info.Duration, 6*time.Minute, 10*time.Millisecond)
}

func TestOggThatIsNotOpusOrIsCutIsRefused(t *testing.T) {
	b := snifftest.OggOpus(time.Second)
	for name, bad := range map[string][]byte{
		"truncated": b[:len(b)-3],
		"vorbis":    bytes.Replace(b, []byte("OpusHead"), []byte("\x01vorbis\x00"), 1),
		"empty":     {},
	} {
		if _, err := audio.ParseOgg(bytes.NewReader(bad), int64(len(bad))); !errors.Is(err, audio.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestMP3DurationCountsFramesAndTrustsNoShorterHeader(t *testing.T) {
	b := snifftest.MP3(3 * time.Second)
	if !audio.IsMP3(b) {
		t.Fatal("not recognised")
	}
	info, err := audio.ParseMP3(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "mp3", info.Duration, 3*time.Second, 40*time.Millisecond)
	checkWaveform(t, info.Waveform)
	// A Xing header saying 10 frames does not shorten 3 s of frames; one
	// saying more than there are lengthens it (the longer counts).
	short := snifftest.MP3Xing(3*time.Second, 10)
	info, err = audio.ParseMP3(bytes.NewReader(short), int64(len(short)))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "xing 10", info.Duration, 3*time.Second, 40*time.Millisecond)
	long := snifftest.MP3Xing(time.Second, 10000)
	info, err = audio.ParseMP3(bytes.NewReader(long), int64(len(long)))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "xing 10000", info.Duration, 360*time.Second, 40*time.Millisecond)
}

func TestMP3WithJunkIsRefused(t *testing.T) {
	b := append(snifftest.MP3(time.Second), bytes.Repeat([]byte("junk"), 2000)...)
	if _, err := audio.ParseMP3(bytes.NewReader(b), int64(len(b))); !errors.Is(err, audio.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
}

// moov returns the payload of the movie's moov box.
func moov(t *testing.T, b []byte) []byte {
	t.Helper()
	i := bytes.Index(b, []byte("moov"))
	if i < 4 {
		t.Fatal("no moov")
	}
	n := int(b[i-4])<<24 | int(b[i-3])<<16 | int(b[i-2])<<8 | int(b[i-1])
	return b[i+4 : i-4+n]
}

func TestMovieTracksGiveCodecSizeAndRealDuration(t *testing.T) {
	tracks, err := audio.ParseMovie(moov(t, snifftest.M4AClaiming(6*time.Minute, 4*time.Minute)))
	if err != nil || len(tracks) != 1 {
		t.Fatal(tracks, err)
	}
	a := tracks[0]
	if a.Handler != "soun" || a.Codec != "mp4a" {
		t.Fatalf("%+v", a)
	}
	near(t, "m4a", a.Duration, 6*time.Minute, 30*time.Millisecond)
	checkWaveform(t, a.Waveform)
	tracks, err = audio.ParseMovie(moov(t, snifftest.VideoMP4(10*time.Second, 640, 360)))
	if err != nil || len(tracks) != 2 {
		t.Fatal(tracks, err)
	}
	if v := tracks[0]; v.Handler != "vide" || v.Width != 640 || v.Height != 360 || v.Duration != 10*time.Second {
		t.Fatalf("%+v", v)
	}
}

func TestWaveformOfManyPacketsStaysBounded(t *testing.T) {
	var o audio.Outline
	for i := 0; i < 1_000_000; i++ {
		o.Add(uint64(i % 1000))
	}
	if w := o.Waveform(); len(w) != audio.WaveformLen {
		t.Fatal(len(w))
	}
	var empty audio.Outline
	if w := empty.Waveform(); len(w) != audio.WaveformLen || w[0] != 0 {
		t.Fatal(w)
	}
}

func TestTextStartingWithID3IsNotMP3(t *testing.T) {
	if audio.IsMP3([]byte("ID3,name,amount\nx,1,2\n")) {
		t.Fatal("a CSV was taken for MP3")
	}
}
