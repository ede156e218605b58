package media

import (
	"strings"
	"testing"
	"time"

	"messenger/sniff"
)

func TestMessageVideoSizeIsConfigurable(t *testing.T) {
	s := &Service{cfg: Config{MessageVideoBytes: 1 << 20}}
	us := map[string]Upload{
		"small": {Kind: Video, Size: 1 << 20, Duration: time.Minute},
		"big":   {Kind: Video, Size: 1<<20 + 1, Duration: time.Minute},
	}
	if err := s.checkAttachable([]string{"small"}, us); err != nil {
		t.Fatal(err)
	}
	if err := s.checkAttachable([]string{"big"}, us); err == nil || !strings.Contains(err.Error(), "limit of videos in messages") {
		t.Fatalf("err = %v", err)
	}
	// Uploads of videos take the larger of the story and message limits.
	if got := s.uploadLimit(Video); got != MaxVideoBytes {
		t.Fatalf("upload limit %d", got)
	}
	s.cfg.MessageVideoBytes = 100 << 20
	if got := s.uploadLimit(Video); got != 100<<20 {
		t.Fatalf("upload limit %d", got)
	}
	if got := (&Service{}).messageVideoBytes(); got != DefaultMessageVideoBytes {
		t.Fatalf("default %d", got)
	}
}

func TestVoiceNoteRulesApplyToWhatTheBytesAre(t *testing.T) {
	s := &Service{}
	ogg := sniff.Content{Kind: Voice, ContentType: "audio/ogg", Duration: time.Minute}
	for _, tc := range []struct {
		name string
		c    sniff.Content
		size int64
		want string
	}{
		{"note.ogg", ogg, 1000, ""},
		{"note.OPUS", ogg, 1000, ""},
		{"note", ogg, 1000, ""},
		{"note.mp3", ogg, 1000, "named .mp3"},
		{"note.txt", ogg, 1000, "named .txt"},
		{"note.ogg", ogg, MaxVoiceBytes + 1, "larger than"},
		{"note.ogg", sniff.Content{Kind: Voice, ContentType: "audio/ogg", Duration: MaxVoiceDuration + time.Millisecond}, 1000, "at most 5 minutes"},
		{"note.ogg", sniff.Content{Kind: Voice, ContentType: "audio/ogg", Duration: MaxVoiceDuration}, 1000, ""},
		{"photo.jpg", sniff.Content{Kind: Image, ContentType: "image/png"}, 1000, ""},
	} {
		err := s.checkContent("file", tc.name, tc.c, tc.size)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s (%d bytes, %v): err = %v, want %q", tc.name, tc.size, tc.c.Duration, err, tc.want)
		}
	}
}

func TestDeclaredAudioTypeMustAgreeWithTheName(t *testing.T) {
	for _, tc := range []struct {
		name, declared string
		ok             bool
	}{
		{"note.ogg", "audio/ogg", true},
		{"note.ogg", "Audio/Ogg; codecs=opus", true},
		{"note", "audio/mpeg", true},
		{"note.m4a", "audio/mp4", true},
		{"note.ogg", "application/octet-stream", true},
		{"note.ogg", "audio/mpeg", false},
		{"note.mp3", "audio/mp4", false},
	} {
		if err := declaredAs(tc.name, tc.declared); (err == nil) != tc.ok {
			t.Errorf("%s declared %s: err = %v", tc.name, tc.declared, err)
		}
	}
}
