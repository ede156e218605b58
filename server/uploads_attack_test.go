package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/blob"
	"messenger/media/mediatest"
)

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
