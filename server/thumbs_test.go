package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/jpeg"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/blob"
	"messenger/media"
	"messenger/media/mediatest"
)

// thumbsFields is what a client reads of an image attachment's previews.
const thumbsFields = `attachments { id thumbnailsPending blurhash thumbnails { url width height } }`

// previews is thumbsFields decoded.
type previews struct {
	ID                string
	ThumbnailsPending bool
	Blurhash          *string
	Thumbnails        []struct {
		URL           string
		Width, Height int
	}
}

// runThumbnails runs the media service's thumbnail worker (as cmd/api
// does) until the returned stop is called, which waits for it to return.
func runThumbnails(t *testing.T, m *media.Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.RunThumbnails(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// nextOfType waits up to 30 s (a loaded machine) for an event of typename.
func nextOfType(t *testing.T, s *apitest.Events, typename string) apitest.Event {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ev, errs := s.NextOrError(t, time.Until(deadline))
		if errs != nil {
			t.Fatalf("subscription error: %+v", errs)
		}
		if ev.Typename == typename {
			return ev
		}
	}
	t.Fatalf("no %s within 30 s", typename)
	return apitest.Event{}
}

// checkThumbnails: three JPEG thumbnails of a 1200×900 image, served at
// their URLs, and a BlurHash.
func checkThumbnails(t *testing.T, p previews) {
	t.Helper()
	want := [][2]int{{160, 120}, {320, 240}, {800, 600}}
	if p.ThumbnailsPending || p.Blurhash == nil || len(*p.Blurhash) != 28 || len(p.Thumbnails) != len(want) {
		t.Fatalf("previews %+v: want 3 thumbnails and a blurhash, not pending", p)
	}
	for i, th := range p.Thumbnails {
		if th.Width != want[i][0] || th.Height != want[i][1] {
			t.Fatalf("thumbnail %d is %d×%d, want %v", i, th.Width, th.Height, want[i])
		}
		resp, err := http.Get(th.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("GET thumbnail %d: %d %s", i, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(body))
		if err != nil || cfg.Width != th.Width || cfg.Height != th.Height {
			t.Fatalf("thumbnail %d decodes as %+v, %v", i, cfg, err)
		}
	}
}

// A sent image is pending at first; when the worker has made its
// thumbnails, the other member gets MessageUpdated whose message carries
// three thumbnails and a BlurHash, with the files on disk and on MinIO.
func TestSentImageGetsThumbnailsBlurhashAndMessageUpdated(t *testing.T) {
	for _, s3 := range []bool{false, true} {
		name := map[bool]string{false: "folder", true: "minio"}[s3]
		t.Run(name, func(t *testing.T) {
			api := newMediaAPI(t, s3)
			alice := apitest.SignUp(t, api.url, "ta")
			bob := apitest.SignUp(t, api.url, "tb")
			conv := conversation(t, alice, bob)
			events := subscribeWith(t, bob, `subscription { events { __typename
			  ... on MessageUpdated { message { id `+thumbsFields+` } } } }`)

			img := mustUpload(t, alice, "photo.jpg", mediatest.JPEG(1200, 900))
			var sent struct {
				SendMessage struct {
					ID          string
					Attachments []previews
				}
			}
			alice.Must(t, `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id `+thumbsFields+` } }`, sendFiles(conv, img.ID), &sent)
			if a := sent.SendMessage.Attachments; len(a) != 1 || !a[0].ThumbnailsPending || len(a[0].Thumbnails) != 0 || a[0].Blurhash != nil {
				t.Fatalf("before the worker ran: %+v, want pending with nothing yet", a)
			}

			runThumbnails(t, api.media)
			ev := nextOfType(t, events, "MessageUpdated")
			var upd struct {
				Message struct {
					ID          string
					Attachments []previews
				}
			}
			if err := json.Unmarshal(ev.Raw, &upd); err != nil {
				t.Fatal(err)
			}
			if upd.Message.ID != sent.SendMessage.ID || len(upd.Message.Attachments) != 1 {
				t.Fatalf("MessageUpdated %s", ev.Raw)
			}
			checkThumbnails(t, upd.Message.Attachments[0])
		})
	}
}

// crashingBlobs fails the first Put of an 800 px thumbnail while armed,
// as a process killed mid-job would leave things: the smaller thumbnails
// stored, no result, the job still queued.
type crashingBlobs struct {
	blob.Store
	mu      sync.Mutex
	armed   bool
	crashed chan struct{}
}

func (c *crashingBlobs) Put(ctx context.Context, key string, r io.Reader, limit int64, ct string) (int64, error) {
	c.mu.Lock()
	crash := c.armed && strings.HasSuffix(key, ".800.jpg")
	if crash {
		c.armed = false
		close(c.crashed)
	}
	c.mu.Unlock()
	if crash {
		return 0, errors.New("crashed mid-job")
	}
	return c.Store.Put(ctx, key, r, limit, ct)
}

// A thumbnail job cut off midway (its worker stopped after storing two of
// three thumbnails) is still pending; when the worker starts again, as
// after a restart, it runs the job again and completes it: on disk and on
// MinIO.
func TestThumbnailJobCutOffMidwayCompletesAfterARestart(t *testing.T) {
	for _, s3 := range []bool{false, true} {
		name := map[bool]string{false: "folder", true: "minio"}[s3]
		t.Run(name, func(t *testing.T) {
			crash := &crashingBlobs{armed: true, crashed: make(chan struct{})}
			api := newMediaAPIWith(t, s3, func(b blob.Store) blob.Store { crash.Store = b; return crash })
			alice := apitest.SignUp(t, api.url, "tc")
			bob := apitest.SignUp(t, api.url, "td")
			conv := conversation(t, alice, bob)
			img := mustUpload(t, alice, "photo.jpg", mediatest.JPEG(1200, 900))
			var sent struct{ SendMessage struct{ ID string } }
			alice.Must(t, sendWithFiles, sendFiles(conv, img.ID), &sent)
			read := func() previews {
				var out struct {
					Node struct{ Attachments []previews }
				}
				bob.Must(t, `query($id: ID!) { node(id: $id) { ... on Message { `+thumbsFields+` } } }`, map[string]any{"id": sent.SendMessage.ID}, &out)
				if len(out.Node.Attachments) != 1 {
					t.Fatalf("attachments %+v", out.Node.Attachments)
				}
				return out.Node.Attachments[0]
			}

			stop := runThumbnails(t, api.media)
			select {
			case <-crash.crashed:
			case <-time.After(30 * time.Second):
				t.Fatal("the job never reached its last thumbnail")
			}
			stop()
			if p := read(); !p.ThumbnailsPending || len(p.Thumbnails) != 0 {
				t.Fatalf("after the crash: %+v, want still pending", p)
			}

			runThumbnails(t, api.media) // the restart
			deadline := time.Now().Add(30 * time.Second)
			p := read()
			for p.ThumbnailsPending && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
				p = read()
			}
			checkThumbnails(t, p)
		})
	}
}

// subscribeWith opens c's events subscription with query and returns once
// it is live.
func subscribeWith(t *testing.T, c *apitest.Client, query string) *apitest.Events {
	t.Helper()
	s := apitest.Dial(context.Background(), t, c.URL, c.Token, true)
	if m := s.Next(t, 10*time.Second); m.Type != "connection_ack" {
		t.Fatalf("expected connection_ack, got %+v", m)
	}
	payload, _ := json.Marshal(map[string]any{"query": query})
	s.Send(t, apitest.Message{ID: "1", Type: "subscribe", Payload: payload})
	waitPresence(t, c, c.UserID, true)
	return &apitest.Events{Socket: s}
}
