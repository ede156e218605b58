package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"messenger/lifecycle"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"

	"messenger/apitest"
	"messenger/blob"
	"messenger/blob/blobtest"
	"messenger/blob/folder"
	"messenger/blob/relay"
	"messenger/blob/s3blob"
	"messenger/media"
	"messenger/media/mediatest"
	mediapebble "messenger/media/pebble"
	"messenger/server"
)

// testClock is a settable test clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time            { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration)       { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newTestClock() *testClock                 { return &testClock{t: time.Now()} }
func (m *mediaAPI) blobCount(t *testing.T) int { return m.count(t) }

type mediaAPI struct {
	url   string
	media *media.Service
	// blobs is the store itself, not wrapped.
	blobs blob.Store
	clock *testClock
	count func(t *testing.T) int
	// life deletes accounts (with their stories and files); its jobs run
	// when a test calls life.Jobs().RunPending.
	life *lifecycle.Service
}

// newMediaAPI starts the API with attachments and stories: blobs in a
// folder served by the API, or in MinIO when s3 is set (skipped without
// MESSENGER_S3_ENDPOINT).
func newMediaAPI(t *testing.T, s3 bool) *mediaAPI {
	return newMediaAPIWith(t, s3, nil)
}

// newMediaAPIWith is newMediaAPI with the media service's blob store
// wrapped by wrap (when not nil). Signed URLs start with the server's own
// address, configured up front as MESSENGER_PUBLIC_URL would be.
func newMediaAPIWith(t *testing.T, s3 bool, wrap func(blob.Store) blob.Store) *mediaAPI {
	t.Helper()
	dir := t.TempDir()
	clk := newTestClock()
	e := newEmbedded(t, apiOptions{now: clk.Now})
	srv := httptest.NewUnstartedServer(nil)
	public := "http://" + srv.Listener.Addr().String()
	api := &mediaAPI{clock: clk, url: public}
	var up server.Uploads
	var blobs blob.Store
	var downloads media.URLSigner
	if s3 {
		blobs, api.count = minioStore(t)
		r, err := relay.New(relay.Config{Store: blobs, Secret: []byte(strings.Repeat("r", 32)), BaseURL: public, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		downloads, up.Blobs = r, r.Handler()
	} else {
		f, err := folder.Open(folder.Config{Dir: filepath.Join(dir, "blobs"), Secret: []byte(strings.Repeat("b", 32)), BaseURL: public, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		blobs, up.Blobs = f, f.Handler()
		api.count = func(t *testing.T) int { return countFiles(t, filepath.Join(dir, "blobs", "data")) }
	}
	api.blobs = blobs
	if wrap != nil {
		blobs = wrap(blobs)
	}
	meta, err := mediapebble.Open(mediapebble.Config{Dir: filepath.Join(dir, "media")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	m, err := media.New(media.Config{Chat: e.Chat, Store: meta, Members: e.Store, Blobs: blobs, Downloads: downloads, Now: clk.Now, TempDir: t.TempDir(),
		Multipart: media.MultipartConfig{Store: api.blobs.(blob.Multipart)}})
	if err != nil {
		t.Fatal(err)
	}
	up.Media = m
	api.media = m
	api.life, err = lifecycle.New(lifecycle.Config{Store: e.Store, Domain: e.Chat, Blobs: blobs, Media: m, Files: m,
		TempDir: t.TempDir(), Runner: lifecycle.RunnerConfig{Poll: -1}})
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(server.Config{Chat: e.Chat, Tokens: e.Tokens, Loaders: e.Store, Uploads: up, Lifecycle: api.life})
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(h.Shutdown)
	return api
}

func minioStore(t *testing.T) (blob.Store, func(t *testing.T) int) {
	endpoint := os.Getenv("MESSENGER_S3_ENDPOINT")
	if endpoint == "" {
		t.Skip("MESSENGER_S3_ENDPOINT is unset: start MinIO with `eval \"$(scripts/services.sh up minio)\"`")
	}
	bucket := os.Getenv("MESSENGER_S3_BUCKET")
	if bucket == "" {
		bucket = "messenger"
	}
	prefix := "test-" + uuid.NewString() + "/"
	s, err := s3blob.Open(context.Background(), s3blob.Config{
		Endpoint: endpoint, Bucket: bucket, Region: os.Getenv("MESSENGER_S3_REGION"), Prefix: prefix,
		AccessKey: os.Getenv("MESSENGER_S3_ACCESS_KEY"), SecretKey: os.Getenv("MESSENGER_S3_SECRET_KEY"),
		CreateBucket: true, TempDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	list := func() []string {
		var keys []string
		out, err := s.Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			keys = append(keys, *o.Key)
		}
		return keys
	}
	t.Cleanup(func() {
		for _, k := range list() {
			_ = s.Delete(context.Background(), strings.TrimPrefix(k, prefix))
		}
	})
	return s, func(t *testing.T) int { return len(list()) }
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func countFiles(t *testing.T, dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// uploadFile posts a GraphQL multipart request (the spec's operations, map
// and file parts) and returns the response.
func uploadFile(t *testing.T, c *apitest.Client, filename string, data []byte, preflight bool) apitest.Response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	ops, _ := json.Marshal(map[string]any{
		"query":     `mutation($f: Upload!) { uploadFile(file: $f) { id filename contentType kind size width height durationMs ready } }`,
		"variables": map[string]any{"f": nil},
	})
	_ = w.WriteField("operations", string(ops))
	_ = w.WriteField("map", `{"0":["variables.f"]}`)
	fw, _ := w.CreateFormFile("0", filename)
	_, _ = fw.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.URL+"/graphql", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if preflight {
		req.Header.Set("GraphQL-Require-Preflight", "1")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r apitest.Response
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	r.Status = resp.StatusCode
	return r
}

type uploaded struct {
	ID, Filename, ContentType, Kind string
	Size                            int
	Width, Height, DurationMs       *int
	Ready                           bool
}

func mustUpload(t *testing.T, c *apitest.Client, name string, data []byte) uploaded {
	t.Helper()
	r := uploadFile(t, c, name, data, true)
	if len(r.Errors) > 0 {
		t.Fatalf("uploadFile(%s): %+v", name, r.Errors)
	}
	var out struct{ UploadFile uploaded }
	_ = json.Unmarshal(r.Data, &out)
	return out.UploadFile
}

func refusedUpload(t *testing.T, api *mediaAPI, c *apitest.Client, name string, data []byte, why string) {
	t.Helper()
	r := uploadFile(t, c, name, data, true)
	if r.Code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, why) {
		t.Fatalf("uploadFile(%s) = %s %+v, want BAD_USER_INPUT mentioning %q", name, r.Data, r.Errors, why)
	}
	if n := api.blobCount(t); n != 0 {
		t.Fatalf("a refused upload left %d objects behind", n)
	}
}

const sendWithFiles = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id attachments { id filename contentType size url width height } } }`

func conversation(t *testing.T, a, b *apitest.Client) string {
	var out struct{ CreateDirectConversation struct{ ID string } }
	a.Must(t, `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`, map[string]any{"u": b.UserID}, &out)
	return out.CreateDirectConversation.ID
}

func sendFiles(conv string, ids ...string) map[string]any {
	return map[string]any{"i": map[string]any{"conversationId": conv, "clientMessageId": uuid.NewString(), "body": "files", "attachmentIds": ids}}
}

func TestMultipartRequestWithoutPreflightHeaderIsRefused(t *testing.T) {
	api := newMediaAPI(t, false)
	a := apitest.SignUp(t, api.url, "pf")
	r := uploadFile(t, a, "a.png", mediatest.PNG(2, 2), false)
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Errors[0].Message, "Preflight") {
		t.Fatalf("status %d %+v", r.Status, r.Errors)
	}
	if api.blobCount(t) != 0 {
		t.Fatal("a refused request stored a file")
	}
}

func TestRefusedUploadsLeaveNothingBehind(t *testing.T) {
	api := newMediaAPI(t, false)
	a := apitest.SignUp(t, api.url, "bad")
	big := append(mediatest.PNG(2, 2), make([]byte, media.MaxFileBytes)...)
	refusedUpload(t, api, a, "big.png", big[:media.MaxFileBytes+1], "larger than 5242880 bytes")
	refusedUpload(t, api, a, "setup.png", mediatest.EXE(), "not accepted")
	refusedUpload(t, api, a, "page.png", mediatest.HTML(), "HTML")
	refusedUpload(t, api, a, "x.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "<script>")
	refusedUpload(t, api, a, "y.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>`), "event handlers")
	refusedUpload(t, api, a, "bomb.docx", mediatest.DOCXBomb(16), "zip bomb")
	refusedUpload(t, api, a, "cut.mp4", mediatest.TruncatedMP4(10*time.Second), "truncated")
}

func TestAttachmentRules(t *testing.T) {
	api := newMediaAPI(t, false)
	a, b := apitest.SignUp(t, api.url, "ra"), apitest.SignUp(t, api.url, "rb")
	conv := conversation(t, a, b)
	var six []string
	for i := 0; i < 6; i++ {
		six = append(six, mustUpload(t, a, fmt.Sprintf("p%d.png", i), mediatest.PNG(2, 2)).ID)
	}
	e := a.Refused(t, "BAD_USER_INPUT", sendWithFiles, sendFiles(conv, six...))
	if !strings.Contains(e.Message, "at most 5") {
		t.Fatal(e.Message)
	}
	// Someone else's upload.
	theirs := mustUpload(t, b, "b.png", mediatest.PNG(2, 2)).ID
	a.Refused(t, "FORBIDDEN", sendWithFiles, sendFiles(conv, theirs))
	// Nothing was sent by the refused calls.
	var hist struct {
		Messages struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	a.Must(t, `query($c: ID!) { messages(conversationId: $c, last: 10) { edges { node { id } } } }`, map[string]any{"c": conv}, &hist)
	if len(hist.Messages.Edges) != 0 {
		t.Fatalf("refused sends wrote %d messages", len(hist.Messages.Edges))
	}
	// Five is fine; each upload once.
	var out struct {
		SendMessage struct{ Attachments []struct{ ID string } }
	}
	a.Must(t, sendWithFiles, sendFiles(conv, six[:5]...), &out)
	if len(out.SendMessage.Attachments) != 5 {
		t.Fatalf("attachments = %+v", out.SendMessage.Attachments)
	}
	a.Refused(t, "BAD_USER_INPUT", sendWithFiles, sendFiles(conv, six[0]))
}

func TestPresignedUploadThatExceedsItsSizeIsRefused(t *testing.T) {
	api := newMediaAPI(t, false)
	a := apitest.SignUp(t, api.url, "ps")
	png := mediatest.PNG(3, 3)
	var out struct {
		CreateUpload struct {
			Upload    struct{ ID string }
			URL       string
			Fields    []struct{ Name, Value string }
			ExpiresAt time.Time
		}
	}
	a.Must(t, `mutation($i: CreateUploadInput!) { createUpload(input: $i) { upload { id } url fields { name value } expiresAt } }`,
		map[string]any{"i": map[string]any{"filename": "a.png", "contentType": "image/png", "size": len(png) - 1}}, &out)
	form := blob.PostForm{URL: out.CreateUpload.URL, Fields: map[string]string{}}
	for _, f := range out.CreateUpload.Fields {
		form.Fields[f.Name] = f.Value
	}
	if status, body := blobtest.PostForm(t, form, "a.png", png); status/100 == 2 {
		t.Fatalf("a body larger than declared was accepted: %d %s", status, body)
	}
	a.Refused(t, "BAD_USER_INPUT", `mutation($id: ID!) { confirmUpload(id: $id) { id } }`, map[string]any{"id": out.CreateUpload.Upload.ID})
	if api.blobCount(t) != 0 {
		t.Fatal("the refused presigned upload left an object")
	}
}

func TestStoryRules(t *testing.T) {
	api := newMediaAPI(t, false)
	a, b := apitest.SignUp(t, api.url, "sa"), apitest.SignUp(t, api.url, "sb")
	conversation(t, a, b)
	post := `mutation($u: ID!) { postStory(uploadId: $u, caption: "hi") { id durationMs } }`
	png := mustUpload(t, a, "p.png", mediatest.PNG(2, 2))
	a.Refused(t, "BAD_USER_INPUT", post, map[string]any{"u": png.ID})
	long := mustUpload(t, a, "long.mp4", mediatest.MP4(61*time.Second, 64, false))
	if long.Kind != "VIDEO" || *long.DurationMs != 61000 {
		t.Fatalf("video = %+v", long)
	}
	e := a.Refused(t, "BAD_USER_INPUT", post, map[string]any{"u": long.ID})
	if !strings.Contains(e.Message, "at most 60 s") {
		t.Fatal(e.Message)
	}
	var first string
	for i := 0; i < 10; i++ {
		v := mustUpload(t, a, "v.mp4", mediatest.MP4(5*time.Second, 64, i%2 == 0))
		var out struct{ PostStory struct{ ID string } }
		a.Must(t, post, map[string]any{"u": v.ID}, &out)
		if i == 0 {
			first = out.PostStory.ID
		}
		api.clock.Add(time.Minute)
	}
	v := mustUpload(t, a, "v.mp4", mediatest.MP4(5*time.Second, 64, false))
	e = a.Refused(t, "RATE_LIMITED", post, map[string]any{"u": v.ID})
	retry, err := time.Parse(time.RFC3339Nano, fmt.Sprint(e.Extensions["retryAt"]))
	if err != nil || retry.Before(api.clock.Now().Add(23*time.Hour)) {
		t.Fatalf("retryAt = %v (%v)", e.Extensions["retryAt"], err)
	}
	// The contact sees the stories, views one, reacts; the poster sees it.
	var feed struct {
		StoryFeed struct {
			Edges []struct {
				Node struct {
					Author    struct{ ID string }
					HasUnseen bool
					Stories   []struct {
						ID       string
						SeenByMe bool
						URL      string
					}
				}
			}
		}
	}
	feedQ := `{ storyFeed { edges { node { author { id } hasUnseen stories { id seenByMe url } } } } }`
	b.Must(t, feedQ, nil, &feed)
	if len(feed.StoryFeed.Edges) != 1 || len(feed.StoryFeed.Edges[0].Node.Stories) != 10 || feed.StoryFeed.Edges[0].Node.Author.ID != a.UserID {
		t.Fatalf("feed = %+v", feed)
	}
	b.Must(t, `mutation($s: ID!) { viewStory(id: $s) { id } reactToStory(id: $s, emoji: "🔥") { id } }`, map[string]any{"s": first}, nil)
	b.Refused(t, "BAD_USER_INPUT", `mutation($s: ID!) { reactToStory(id: $s, emoji: "ab") { id } }`, map[string]any{"s": first})
	var mine struct {
		Story struct {
			ViewCount int
			Viewers   struct {
				Edges []struct {
					Node struct{ User struct{ ID string } }
				}
			}
			Reactions []struct {
				Emoji string
				Count int
			}
		}
	}
	a.Must(t, `query($s: ID!) { story(id: $s) { viewCount viewers { edges { node { user { id } } } } reactions { emoji count } } }`, map[string]any{"s": first}, &mine)
	if mine.Story.ViewCount != 1 || mine.Story.Viewers.Edges[0].Node.User.ID != b.UserID || mine.Story.Reactions[0].Emoji != "🔥" {
		t.Fatalf("story = %+v", mine)
	}
	b.Refused(t, "FORBIDDEN", `query($s: ID!) { story(id: $s) { viewers { edges { cursor } } } }`, map[string]any{"s": first})
	// A stranger sees nothing; after 24 h nobody does, and the sweeper
	// removes the videos.
	c := apitest.SignUp(t, api.url, "sc")
	var none struct{ Story *struct{ ID string } }
	c.Must(t, `query($s: ID!) { story(id: $s) { id } }`, map[string]any{"s": first}, &none)
	if none.Story != nil {
		t.Fatal("a stranger sees the story")
	}
	api.clock.Add(25 * time.Hour) // every story expired, every unused upload a day old
	b.Must(t, feedQ, nil, &feed)
	if len(feed.StoryFeed.Edges) != 0 {
		t.Fatalf("expired stories still in the feed: %+v", feed)
	}
	if _, _, err := api.media.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := api.blobCount(t); n != 0 {
		t.Fatalf("%d objects left after expiry and sweep", n)
	}
}

func TestAttachmentsEndToEnd(t *testing.T) {
	for _, backend := range []string{"folder", "minio"} {
		t.Run(backend, func(t *testing.T) {
			api := newMediaAPI(t, backend == "minio")
			a, b := apitest.SignUp(t, api.url, "ea"), apitest.SignUp(t, api.url, "eb")
			conv := conversation(t, a, b)
			img := mustUpload(t, a, "photo.png", mediatest.PNG(7, 5))
			doc := mustUpload(t, a, "notes.docx", mediatest.DOCX())
			if img.ContentType != "image/png" || *img.Width != 7 || doc.Kind != "DOCUMENT" {
				t.Fatalf("uploads = %+v %+v", img, doc)
			}
			var sent struct {
				SendMessage struct {
					ID          string
					Attachments []struct {
						ID, Filename, ContentType, URL string
						Size                           int
					}
				}
			}
			a.Must(t, sendWithFiles, sendFiles(conv, img.ID, doc.ID), &sent)
			var got struct {
				Node struct {
					Attachments []struct{ ContentType, URL string }
				}
			}
			b.Must(t, `query($m: ID!) { node(id: $m) { ... on Message { attachments { contentType url } } } }`, map[string]any{"m": sent.SendMessage.ID}, &got)
			if len(got.Node.Attachments) != 2 {
				t.Fatalf("receiver sees %+v", got)
			}
			resp, err := http.Get(got.Node.Attachments[1].URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Equal(body, mediatest.DOCX()) ||
				!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
				resp.Header.Get("Content-Type") != doc.ContentType {
				t.Fatalf("download: %d %v", resp.StatusCode, resp.Header)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("no nosniff: %v", resp.Header)
			}
			if backend == "minio" && strings.Contains(got.Node.Attachments[0].URL, "/blobs/") {
				t.Fatalf("an image is relayed, not served by S3: %s", got.Node.Attachments[0].URL)
			}
			docURL := got.Node.Attachments[1].URL
			if status := getStatus(t, strings.Replace(docURL, "attachment", "inline", 1)); status != http.StatusForbidden {
				t.Fatalf("a tampered document URL answers %d", status)
			}
			api.clock.Add(time.Hour)
			if status := getStatus(t, docURL); status != http.StatusForbidden {
				t.Fatalf("an expired document URL answers %d", status)
			}
			api.clock.Add(-time.Hour)
			a.Must(t, `mutation($m: ID!) { deleteMessage(messageId: $m, forEveryone: true) { id } }`, map[string]any{"m": sent.SendMessage.ID}, nil)
			resp, err = http.Get(got.Node.Attachments[0].URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("an attachment of a message deleted for everyone answers %d", resp.StatusCode)
			}
			b.Must(t, `query($m: ID!) { node(id: $m) { ... on Message { attachments { contentType url } } } }`, map[string]any{"m": sent.SendMessage.ID}, &got)
			if len(got.Node.Attachments) != 0 {
				t.Fatalf("deleted message still lists %+v", got)
			}
		})
	}
}

func TestUnattachedUploadsAreRemovedAfterADay(t *testing.T) {
	api := newMediaAPI(t, false)
	a := apitest.SignUp(t, api.url, "sw")
	mustUpload(t, a, "p.png", mediatest.PNG(2, 2))
	api.clock.Add(23 * time.Hour)
	if u, _, _ := api.media.Sweep(context.Background()); u != 0 {
		t.Fatal("swept a fresh upload")
	}
	api.clock.Add(2 * time.Hour)
	if u, _, err := api.media.Sweep(context.Background()); u != 1 || err != nil {
		t.Fatalf("swept %d, %v", u, err)
	}
	if api.blobCount(t) != 0 {
		t.Fatal("bytes left behind")
	}
}

// presign opens a presigned upload slot of the given size and returns the
// upload's id and the form.
func presign(t *testing.T, c *apitest.Client, filename string, size int) (string, blob.PostForm) {
	t.Helper()
	var out struct {
		CreateUpload struct {
			Upload struct{ ID string }
			URL    string
			Fields []struct{ Name, Value string }
		}
	}
	c.Must(t, `mutation($i: CreateUploadInput!) { createUpload(input: $i) { upload { id } url fields { name value } } }`,
		map[string]any{"i": map[string]any{"filename": filename, "contentType": "application/octet-stream", "size": size}}, &out)
	form := blob.PostForm{URL: out.CreateUpload.URL, Fields: map[string]string{}}
	for _, f := range out.CreateUpload.Fields {
		form.Fields[f.Name] = f.Value
	}
	return out.CreateUpload.Upload.ID, form
}

func mustPost(t *testing.T, form blob.PostForm, data []byte) {
	t.Helper()
	if status, body := blobtest.PostForm(t, form, "f", data); status/100 != 2 {
		t.Fatalf("POST to the slot = %d %s", status, body)
	}
}

func confirm(t *testing.T, c *apitest.Client, id string) uploaded {
	t.Helper()
	var out struct{ ConfirmUpload uploaded }
	c.Must(t, `mutation($id: ID!) { confirmUpload(id: $id) { id filename contentType kind size ready } }`, map[string]any{"id": id}, &out)
	return out.ConfirmUpload
}

// attachmentURL is the URL the recipient b gets for the one file of message.
func attachmentURL(t *testing.T, b *apitest.Client, message string) string {
	t.Helper()
	var got struct {
		Node struct{ Attachments []struct{ URL string } }
	}
	b.Must(t, `query($m: ID!) { node(id: $m) { ... on Message { attachments { url } } } }`, map[string]any{"m": message}, &got)
	if len(got.Node.Attachments) != 1 {
		t.Fatalf("message has %d attachments", len(got.Node.Attachments))
	}
	return got.Node.Attachments[0].URL
}

func download(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
	}
	return body
}

// After confirmUpload, and after the file was sent, posting other bytes
// to the same presigned form again does not change what recipients
// download: it is byte for byte what was inspected. The leftovers of such
// posts are swept once no form can reach them.
func TestConfirmedUploadCannotBeReplaced(t *testing.T) {
	for _, backend := range []string{"folder", "minio"} {
		t.Run(backend, func(t *testing.T) {
			api := newMediaAPI(t, backend == "minio")
			a, b := apitest.SignUp(t, api.url, "ia"), apitest.SignUp(t, api.url, "ib")
			conv := conversation(t, a, b)
			png := mediatest.PNG(4, 4)
			evil := mediatest.HTML()
			id, form := presign(t, a, "photo.png", 4096)
			mustPost(t, form, png)
			if u := confirm(t, a, id); u.ContentType != "image/png" || u.Size != len(png) {
				t.Fatalf("confirmed %+v", u)
			}
			mustPost(t, form, evil) // after confirmation
			if u := confirm(t, a, id); u.ContentType != "image/png" {
				t.Fatalf("confirming again gives %+v", u)
			}
			var sent struct{ SendMessage struct{ ID string } }
			a.Must(t, sendWithFiles, sendFiles(conv, id), &sent)
			url := attachmentURL(t, b, sent.SendMessage.ID)
			if got := download(t, url); !bytes.Equal(got, png) {
				t.Fatalf("after a POST following confirmation, the recipient downloads %q", got)
			}
			mustPost(t, form, evil) // after sending
			if got := download(t, attachmentURL(t, b, sent.SendMessage.ID)); !bytes.Equal(got, png) {
				t.Fatalf("after a POST following the send, the recipient downloads %q", got)
			}
			if n := api.blobCount(t); n != 2 {
				t.Fatalf("%d objects, want the file and the slot's leftover", n)
			}
			api.clock.Add(26 * time.Hour)
			if _, _, err := api.media.Sweep(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := api.blobCount(t); n != 1 {
				t.Fatalf("%d objects after the sweep, want only the sent file", n)
			}
			if got := download(t, attachmentURL(t, b, sent.SendMessage.ID)); !bytes.Equal(got, png) {
				t.Fatalf("after the sweep the recipient downloads %q", got)
			}
		})
	}
}

// postAfterInspection re-posts to a slot the moment confirmUpload has
// read and inspected it, before the bytes are stored for good: the
// narrowest window a re-post could aim at.
type postAfterInspection struct {
	blob.Store
	post func()
}

func (s postAfterInspection) Get(ctx context.Context, key string) (io.ReadCloser, blob.Info, error) {
	rc, info, err := s.Store.Get(ctx, key)
	if err != nil || !strings.HasPrefix(key, "incoming/") {
		return rc, info, err
	}
	return closeHook{rc, s.post}, info, nil
}

type closeHook struct {
	io.ReadCloser
	hook func()
}

func (c closeHook) Close() error {
	err := c.ReadCloser.Close()
	c.hook()
	return err
}

func TestRePostBetweenInspectionAndStoringIsNotServed(t *testing.T) {
	for _, backend := range []string{"folder", "minio"} {
		t.Run(backend, func(t *testing.T) {
			var form blob.PostForm
			var reposted int
			api := newMediaAPIWith(t, backend == "minio", func(s blob.Store) blob.Store {
				return postAfterInspection{s, func() {
					mustPost(t, form, mediatest.HTML())
					reposted++
				}}
			})
			a, b := apitest.SignUp(t, api.url, "ra"), apitest.SignUp(t, api.url, "rb")
			conv := conversation(t, a, b)
			pdf := mediatest.PDF()
			var id string
			id, form = presign(t, a, "report.pdf", 4096)
			mustPost(t, form, pdf)
			if u := confirm(t, a, id); u.ContentType != "application/pdf" || reposted != 1 {
				t.Fatalf("confirmed %+v after %d re-posts", u, reposted)
			}
			var sent struct{ SendMessage struct{ ID string } }
			a.Must(t, sendWithFiles, sendFiles(conv, id), &sent)
			if got := download(t, attachmentURL(t, b, sent.SendMessage.ID)); !bytes.Equal(got, pdf) {
				t.Fatalf("the recipient downloads %q, not the inspected PDF", got)
			}
		})
	}
}

// A PDF/HTML polyglot named invoice.html is a PDF by its bytes: it is
// listed and downloads as invoice.pdf, never as an .html file, whichever
// way it was uploaded. A name whose extension already fits stays as it is.
func TestDownloadNameFollowsTheDetectedType(t *testing.T) {
	api := newMediaAPI(t, false)
	a, b := apitest.SignUp(t, api.url, "na"), apitest.SignUp(t, api.url, "nb")
	conv := conversation(t, a, b)
	polyglot := []byte("%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF\n")
	viaAPI := mustUpload(t, a, "invoice.html", polyglot)
	id, form := presign(t, a, "invoice.html", 4096)
	mustPost(t, form, polyglot)
	viaForm := confirm(t, a, id)
	jpeg := mustUpload(t, a, "holiday.JPEG", mediatest.JPEG(2, 2))
	for _, tc := range []struct {
		u    uploaded
		want string
	}{{viaAPI, "invoice.pdf"}, {viaForm, "invoice.pdf"}, {jpeg, "holiday.JPEG"}} {
		if tc.u.Filename != tc.want {
			t.Fatalf("uploaded %+v, want the name %s", tc.u, tc.want)
		}
		var sent struct{ SendMessage struct{ ID string } }
		a.Must(t, sendWithFiles, sendFiles(conv, tc.u.ID), &sent)
		resp, err := http.Get(attachmentURL(t, b, sent.SendMessage.ID))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cd := resp.Header.Get("Content-Disposition")
		if !strings.Contains(cd, `filename="`+tc.want+`"`) || strings.Contains(cd, "html") {
			t.Fatalf("%s downloads with Content-Disposition %q", tc.want, cd)
		}
	}
}

// File names with a right-to-left override ("invoice<RLO>fdp.exe" shows as
// "invoiceexe.pdf"), other bidirectional controls or control characters are
// refused on both upload paths, and nothing is stored.
func TestMisleadingFilenamesAreRefused(t *testing.T) {
	api := newMediaAPI(t, false)
	a := apitest.SignUp(t, api.url, "fn")
	for _, name := range []string{"invoice\u202Efdp.exe", "a\u202Db.png", "a\u2067b.png", "a\u200Fb.png", "a\u061Cb.png",
		"tab\there.png", "nel\u0085.png", "line\u2028sep.png", "bom\uFEFF.png"} {
		r := uploadFile(t, a, name, mediatest.PNG(2, 2), true)
		if r.Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "filename" {
			t.Errorf("uploadFile(%q) = %s %+v, want BAD_USER_INPUT on filename", name, r.Data, r.Errors)
		}
		e := a.Refused(t, "BAD_USER_INPUT", `mutation($i: CreateUploadInput!) { createUpload(input: $i) { upload { id } } }`,
			map[string]any{"i": map[string]any{"filename": name, "contentType": "image/png", "size": 100}})
		if e.Extensions["field"] != "filename" {
			t.Errorf("createUpload(%q) refused on %v", name, e.Extensions["field"])
		}
	}
	// (DEL cannot even reach uploadFile: the multipart parser refuses it.)
	a.Refused(t, "BAD_USER_INPUT", `mutation($i: CreateUploadInput!) { createUpload(input: $i) { upload { id } } }`,
		map[string]any{"i": map[string]any{"filename": "del\u007f.png", "contentType": "image/png", "size": 100}})
	if n := api.blobCount(t); n != 0 {
		t.Fatalf("refused names left %d objects", n)
	}
	// Letters of right-to-left scripts and emoji joiners are fine.
	for _, name := range []string{"فاتورة.png", "👩‍👩‍👧.png"} {
		if u := mustUpload(t, a, name, mediatest.PNG(2, 2)); u.Filename != name {
			t.Fatalf("%q stored as %q", name, u.Filename)
		}
	}
}

// withHost posts one operation as c with a forged Host and
// X-Forwarded-Proto, and returns the response's data.
func withHost(t *testing.T, c *apitest.Client, host, query string, vars map[string]any) json.RawMessage {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.URL+"/graphql", bytes.NewReader(body))
	req.Host = host
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r apitest.Response
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || len(r.Errors) > 0 {
		t.Fatalf("status %d: %v %+v", resp.StatusCode, err, r.Errors)
	}
	return r.Data
}

// Signed URLs start with the configured public URL, whatever Host header
// the request came with: a forged Host cannot make the API hand out links
// to another site (nor poison a cache in front of it).
func TestSignedURLsIgnoreTheHostHeader(t *testing.T) {
	for _, backend := range []string{"folder", "minio"} {
		t.Run(backend, func(t *testing.T) {
			api := newMediaAPI(t, backend == "minio")
			a, b := apitest.SignUp(t, api.url, "ha"), apitest.SignUp(t, api.url, "hb")
			conv := conversation(t, a, b)
			img := mustUpload(t, a, "p.png", mediatest.PNG(2, 2))
			doc := mustUpload(t, a, "d.pdf", mediatest.PDF())
			var sent struct{ SendMessage struct{ ID string } }
			a.Must(t, sendWithFiles, sendFiles(conv, img.ID, doc.ID), &sent)
			var got struct {
				Node struct{ Attachments []struct{ URL string } }
			}
			data := withHost(t, b, "evil.example", `query($m: ID!) { node(id: $m) { ... on Message { attachments { url } } } }`, map[string]any{"m": sent.SendMessage.ID})
			if err := json.Unmarshal(data, &got); err != nil || len(got.Node.Attachments) != 2 {
				t.Fatalf("attachments %s: %v", data, err)
			}
			for i, f := range got.Node.Attachments {
				if strings.Contains(f.URL, "evil.example") {
					t.Fatalf("a signed URL follows the Host header: %s", f.URL)
				}
				if (backend == "folder" || i == 1) && !strings.HasPrefix(f.URL, api.url+"/blobs/") {
					t.Fatalf("a URL the API serves does not start with the public URL %s: %s", api.url, f.URL)
				}
			}
			data = withHost(t, a, "evil.example", `mutation($i: CreateUploadInput!) { createUpload(input: $i) { url } }`,
				map[string]any{"i": map[string]any{"filename": "a.png", "contentType": "image/png", "size": 10}})
			if strings.Contains(string(data), "evil.example") {
				t.Fatalf("the upload form follows the Host header: %s", data)
			}
		})
	}
}
