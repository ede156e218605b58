package mediatest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"messenger/media"
)

// testWaveforms: a voice note's waveform is kept beside its upload, comes
// back in one call for many uploads (absent ones missing), is replaced by
// a second put, is a copy, and goes with DeleteUpload.
func testWaveforms(t *testing.T, s media.Store) {
	ctx := context.Background()
	u := media.Upload{ID: id(), OwnerID: id(), Filename: "note.ogg", Kind: media.Voice, ContentType: "audio/ogg",
		Duration: 4200 * time.Millisecond, Size: 3000, Ready: true, CreatedAt: now()}
	w := make([]byte, 64)
	for i := range w {
		w[i] = byte(i * 4)
	}
	if err := s.PutWaveform(ctx, u.ID, w); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUpload(ctx, u); err != nil {
		t.Fatal(err)
	}
	other := media.Upload{ID: id(), OwnerID: u.OwnerID, Filename: "p.png", Kind: media.Image, ContentType: "image/png", Size: 9, Ready: true, CreatedAt: now()}
	if err := s.PutUpload(ctx, other); err != nil {
		t.Fatal(err)
	}
	got, err := s.Waveforms(ctx, []string{u.ID, other.ID, id()})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Equal(got[u.ID], w) {
		t.Fatalf("Waveforms = %v, want only %s: %v", got, u.ID, w)
	}
	got[u.ID][0] = 99 // the caller's copy
	w2 := bytes.Repeat([]byte{7}, 64)
	if err := s.PutWaveform(ctx, u.ID, w2); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Waveforms(ctx, []string{u.ID}); !bytes.Equal(got[u.ID], w2) {
		t.Fatalf("after replace: %v", got)
	}
	if us, _ := s.Uploads(ctx, []string{u.ID}); us[u.ID].Duration != u.Duration || us[u.ID].Kind != media.Voice {
		t.Fatalf("voice upload = %+v", us[u.ID])
	}
	if err := s.DeleteUpload(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Waveforms(ctx, []string{u.ID}); err != nil || len(got) != 0 {
		t.Fatalf("a deleted upload's waveform: %v %v", got, err)
	}
	if got, err := s.Waveforms(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("Waveforms(nil) = %v %v", got, err)
	}
}
