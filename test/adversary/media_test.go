package adversary

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/media/mediatest"
)

// upload sends one file with the GraphQL multipart request spec and
// returns the response.
func upload(t testing.TB, c *apitest.Client, filename string, data []byte) apitest.Response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	ops, _ := json.Marshal(op(`mutation($f: Upload!) { uploadFile(file: $f) { id contentType } }`, map[string]any{"f": nil}))
	_ = w.WriteField("operations", string(ops))
	_ = w.WriteField("map", `{"f":["variables.f"]}`)
	part, _ := w.CreateFormFile("f", filename)
	_, _ = part.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.URL+"/graphql", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("GraphQL-Require-Preflight", "1")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("uploading %s: %v", filename, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r apitest.Response
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("uploading %s: status %d, body %.300q", filename, resp.StatusCode, raw)
	}
	r.Status = resp.StatusCode
	return r
}

// mustUpload uploads a file that must be accepted and returns its id.
func mustUpload(t testing.TB, c *apitest.Client, filename string, data []byte) string {
	t.Helper()
	r := upload(t, c, filename, data)
	var out struct{ UploadFile struct{ ID string } }
	if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil || out.UploadFile.ID == "" {
		t.Fatalf("uploading %s: %s %+v", filename, r.Data, r.Errors)
	}
	return out.UploadFile.ID
}

// refusedUpload uploads a file that must be refused as bad input.
func refusedUpload(t *testing.T, c *apitest.Client, filename string, data []byte) {
	t.Helper()
	r := upload(t, c, filename, data)
	if r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("%s was not refused: %s %+v", filename, r.Data, r.Errors)
	}
}

// lyingZip is a docx whose document part declares 1,000 bytes in both its
// local header and the central directory but inflates to inflated bytes.
func lyingZip(t *testing.T, inflated int) []byte {
	t.Helper()
	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, flate.BestCompression)
	zeros := make([]byte, 1<<20)
	for n := 0; n < inflated; n += len(zeros) {
		_, _ = fw.Write(zeros)
	}
	_ = fw.Close()
	types := []byte(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	f, _ := zw.Create("[Content_Types].xml")
	_, _ = f.Write(types)
	raw, err := zw.CreateRaw(&zip.FileHeader{
		Name: "word/document.xml", Method: zip.Deflate,
		CRC32:            crc32.ChecksumIEEE(make([]byte, 1000)),
		CompressedSize64: uint64(deflated.Len()), UncompressedSize64: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = raw.Write(deflated.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// A docx whose headers understate what an entry inflates to (1,000 bytes
// declared, 100 MiB real) is refused: the check counts inflated bytes.
func TestZipBombWithLyingSizesIsRefused(t *testing.T) {
	t.Parallel()
	in := shared(t)
	c := signUp(t, in, "bomber")
	mustUpload(t, c, "honest.docx", mediatest.DOCX()) // the control
	refusedUpload(t, c, "report.docx", lyingZip(t, 100<<20))
}

// SVG filter bypasses: an element inside <style> must not end the style
// check, and CSS escapes must not hide url( or @import.
func TestSVGStyleBypassesAreRefused(t *testing.T) {
	t.Parallel()
	in := shared(t)
	c := signUp(t, in, "svg")
	mustUpload(t, c, "plain.svg", mediatest.SVG()) // the control
	const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">%s<rect width="10" height="10"/></svg>`
	for name, body := range map[string]string{
		"element inside style then @import": `<style><x/>@import url(https://evil.example/a.css);</style>`,
		"element inside style then url(":    `<style><x/>rect { fill: url(https://evil.example/p.svg#x) }</style>`,
		"escaped url( in a style element":   `<style>rect { fill: u\72l(https://evil.example/p.svg#x) }</style>`,
		"escaped url( in a style attribute": `<g style="fill: u\72 l(https://evil.example/p.svg#x)"/>`,
		"escaped @import":                   `<style>@\69mport "https://evil.example/a.css";</style>`,
	} {
		t.Run(name, func(t *testing.T) {
			refusedUpload(t, c, "logo.svg", []byte(fmt.Sprintf(svg, body)))
		})
	}
}

type slot struct {
	Upload struct{ ID string }
	URL    string
	Fields []struct{ Name, Value string }
}

// postToSlot posts data to a presigned upload form and returns the status.
func postToSlot(t *testing.T, s slot, filename string, data []byte) int {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range s.Fields {
		_ = w.WriteField(f.Name, f.Value)
	}
	part, _ := w.CreateFormFile("file", filename)
	_, _ = part.Write(data)
	_ = w.Close()
	resp, err := http.Post(s.URL, w.FormDataContentType(), &buf)
	if err != nil {
		t.Fatalf("POST to the upload slot: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// download fetches a message's first attachment through a fresh URL.
func download(t *testing.T, c *apitest.Client, messageID string) []byte {
	t.Helper()
	var out struct {
		Node struct{ Attachments []struct{ URL string } }
	}
	c.Must(t, `query($m: ID!) { node(id: $m) { ... on Message { attachments { url } } } }`, map[string]any{"m": messageID}, &out)
	if len(out.Node.Attachments) != 1 {
		t.Fatalf("the message has %d attachments", len(out.Node.Attachments))
	}
	resp, err := http.Get(out.Node.Attachments[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download: status %d %s", resp.StatusCode, b)
	}
	return b
}

// Once confirmed, a presigned upload's bytes are what recipients download:
// posting again to the same slot, before or after the file was sent,
// changes nothing they get.
func TestConfirmedUploadCannotBeReplaced(t *testing.T) {
	t.Parallel()
	in := shared(t)
	a, b := signUp(t, in, "swap"), signUp(t, in, "swap")
	conv := direct(t, a, b)
	png := mediatest.PNG(6, 4)
	var out struct{ CreateUpload slot }
	a.Must(t, `mutation($i: CreateUploadInput!) { createUpload(input: $i) { upload { id } url fields { name value } } }`,
		map[string]any{"i": map[string]any{"filename": "cat.png", "contentType": "image/png", "size": len(png)}}, &out)
	s := out.CreateUpload
	if st := postToSlot(t, s, "cat.png", png); st/100 != 2 {
		t.Fatalf("the first POST to the slot answered %d", st)
	}
	a.Must(t, `mutation($id: ID!) { confirmUpload(id: $id) { id } }`, map[string]any{"id": s.Upload.ID}, nil)
	swapped := bytes.Repeat([]byte("A"), len(png))

	st := postToSlot(t, s, "cat.png", swapped)
	var sent struct{ SendMessage struct{ ID string } }
	a.Must(t, `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }`, map[string]any{"i": map[string]any{
		"conversationId": conv, "clientMessageId": "cat", "body": "look", "attachmentIds": []string{s.Upload.ID}}}, &sent)
	if got := download(t, b, sent.SendMessage.ID); !bytes.Equal(got, png) {
		t.Fatalf("a POST after confirmUpload (status %d) replaced the confirmed bytes: the recipient downloads %.40q", st, got)
	}

	st = postToSlot(t, s, "cat.png", swapped)
	if got := download(t, b, sent.SendMessage.ID); !bytes.Equal(got, png) {
		t.Fatalf("a POST after the file was sent (status %d) replaced it: the recipient downloads %.40q", st, got)
	}
}

// A message sent with attachments reaches every subscriber with them: it
// is delivered whole or not at all. Two members send photos at once to a
// group whose other members listen (on the other instance, in a fleet).
func TestMessagesArriveOverTheSubscriptionWithTheirAttachments(t *testing.T) {
	t.Parallel()
	t.Run("embedded", func(t *testing.T) {
		photosToAGroup(t, []*instance{shared(t)})
	})
	t.Run("cassandra+redis, two instances", func(t *testing.T) {
		photosToAGroup(t, fleet(t))
	})
}

func photosToAGroup(t *testing.T, fleet []*instance) {
	const senders, listeners, each = 2, 3, 10
	var users []*apitest.Client
	for i := 0; i < senders+listeners; i++ {
		users = append(users, signUp(t, fleet[0], "photo"))
	}
	conv := group(t, users[0], users[1:]...)
	var streams []*stream
	for _, u := range users[senders:] {
		s, err := subscribe(context.Background(), fleet[len(fleet)-1].URL, u.Token, attachmentsQuery, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		streams = append(streams, s)
	}
	awaitLive(t, users[0], conv, streams)
	want := map[string]bool{}
	uploads := make([][]string, senders)
	for i := range senders {
		for k := range each {
			uploads[i] = append(uploads[i], mustUpload(t, users[i], fmt.Sprintf("p%d.png", k), mediatest.PNG(2+k, 2+i)))
			want[fmt.Sprintf("photo-%d-%d", i, k)] = true
		}
	}
	errs := make(chan error, senders)
	for i := range senders {
		go func() {
			for k, id := range uploads[i] {
				r, err := post(context.Background(), users[i].URL, users[i].Token, nil, op(sendMutation, map[string]any{"i": map[string]any{
					"conversationId": conv, "clientMessageId": fmt.Sprintf("photo-%d-%d", i, k), "body": "photo", "attachmentIds": []string{id}}}))
				if err == nil && len(r.Errors) > 0 {
					err = fmt.Errorf("%+v", r.Errors)
				}
				if err != nil {
					errs <- fmt.Errorf("sending photo %d-%d: %w", i, k, err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range senders {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for li, s := range streams {
		if err := s.await(20*time.Second, hasMessages(conv, want)); err != nil {
			t.Fatalf("listener %d: %v", li, err)
		}
		bare := 0
		for _, e := range s.messages(conv) {
			if want[e.Message.ClientMessageID] && len(e.Message.Attachments) != 1 {
				bare++
			}
		}
		if bare > 0 {
			t.Errorf("listener %d: %d of %d messages sent with a photo arrived without it", li, bare, len(want))
		}
	}
}
