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
