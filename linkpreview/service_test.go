package linkpreview

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"messenger/blob/folder"
	"messenger/storage"
	"messenger/storage/pebble"
)

type announced struct{ seqs chan int64 }

func (a *announced) LinkPreviewAttached(_ context.Context, _ string, seq int64) error {
	a.seqs <- seq
	return nil
}

func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAPreviewIsFetchedStoredCachedAndAnnounced(t *testing.T) {
	img := pngImage(t, 1600, 900)
	var pageHits atomic.Int32
	srv, ap := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/img.png" {
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(img)
			return
		}
		pageHits.Add(1)
		htmlHandler(page)(w, r)
	}))
	dir := t.TempDir()
	st, err := pebble.Open(pebble.Config{Dir: filepath.Join(dir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	blobs, err := folder.Open(folder.Config{Dir: filepath.Join(dir, "blobs"), Secret: []byte(strings.Repeat("s", 32))})
	if err != nil {
		t.Fatal(err)
	}
	a := &announced{seqs: make(chan int64, 4)}
	s, err := New(Config{Store: st, Blobs: blobs, Announcer: a, Fetch: allowing(ap)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	link := srv.URL + "/article"
	s.MessageWritten(storage.Message{ID: "c:1", ConversationID: "c", Seq: 1, Body: "look " + link + " !"})
	select {
	case seq := <-a.seqs:
		if seq != 1 {
			t.Fatalf("announced seq %d", seq)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no preview attached within 30 s")
	}
	got, err := st.MessageLinkPreviews(context.Background(), "c", []int64{1})
	if err != nil {
		t.Fatal(err)
	}
	p := got[1]
	if p.URL != link || p.Title != "The & Title" || p.Description != "What it is about" || p.SiteName != "Example Site" || p.Image == nil {
		t.Fatalf("preview = %+v", p)
	}
	if p.Image.Width != 800 || p.Image.Height != 450 {
		t.Fatalf("image is %dx%d, want 800x450", p.Image.Width, p.Image.Height)
	}
	r, info, err := blobs.Get(context.Background(), p.Image.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	if _, format, err := image.DecodeConfig(r); err != nil || format != "jpeg" || info.Size == 0 {
		t.Fatalf("stored image: %s, %v", format, err)
	}
	// A second message with the same link is served from the cache.
	if _, err := s.Preview(context.Background(), link); err != nil || pageHits.Load() != 1 {
		t.Fatalf("second preview: %v; page fetched %d times", err, pageHits.Load())
	}
	if u, err := s.ImageURL(context.Background(), p.Image.Key); err != nil || !strings.Contains(u, "linkpreviews") {
		t.Fatalf("ImageURL = %q, %v", u, err)
	}
}

func TestARefusedLinkIsRememberedBriefly(t *testing.T) {
	dir := t.TempDir()
	st, err := pebble.Open(pebble.Config{Dir: filepath.Join(dir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	blobs, err := folder.Open(folder.Config{Dir: filepath.Join(dir, "blobs"), Secret: []byte(strings.Repeat("s", 32))})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s, err := New(Config{Store: st, Blobs: blobs, Announcer: &announced{}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	link := "http://169.254.169.254/latest/meta-data/"
	if p, err := s.Preview(context.Background(), link); p != nil || err != nil {
		t.Fatalf("Preview = %+v, %v", p, err)
	}
	f, err := st.CachedLinkPreview(context.Background(), link, now)
	if err != nil || f.Preview != nil || f.ExpiresAt.After(now.Add(time.Hour)) {
		t.Fatalf("cached failure = %+v, %v", f, err)
	}
}

func TestADecompressionBombIsRefusedBeforeDecoding(t *testing.T) {
	// A PNG header claiming 20000 x 20000 pixels.
	raw := pngImage(t, 1, 1)
	b := append([]byte(nil), raw...)
	// IHDR width and height are at bytes 16..23.
	b[16], b[17], b[18], b[19] = 0, 0, 0x4e, 0x20
	b[20], b[21], b[22], b[23] = 0, 0, 0x4e, 0x20
	if _, _, _, err := reencode(context.Background(), b); err == nil {
		t.Fatal("a 400-megapixel header was accepted")
	}
}

func TestConcurrentPreviewsOfOneLinkFetchItOnce(t *testing.T) {
	reached, release := make(chan struct{}), make(chan struct{})
	var hits atomic.Int32
	srv, ap := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			close(reached)
			<-release
		}
		htmlHandler(strings.Replace(page, `<meta property="og:image" content="/img.png">`, "", 1))(w, r)
	}))
	dir := t.TempDir()
	st, err := pebble.Open(pebble.Config{Dir: filepath.Join(dir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	blobs, err := folder.Open(folder.Config{Dir: filepath.Join(dir, "blobs"), Secret: []byte(strings.Repeat("s", 32))})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Store: st, Blobs: blobs, Announcer: &announced{}, Fetch: allowing(ap)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	link := srv.URL + "/same"
	results := make(chan *storage.LinkPreview, 5)
	go func() { p, _ := s.Preview(context.Background(), link); results <- p }()
	<-reached // the first fetch is in flight: the others join it (or find its cached result)
	for range 4 {
		go func() { p, _ := s.Preview(context.Background(), link); results <- p }()
	}
	close(release)
	for range 5 {
		if p := <-results; p == nil || p.Title != "The & Title" {
			t.Fatalf("preview = %+v", p)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("page fetched %d times", n)
	}
}
