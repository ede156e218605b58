package server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/blob"
	"messenger/blob/blobtest"
	"messenger/ids"
	"messenger/media"
	"messenger/media/mediatest"
)

const (
	createLarge = `mutation($i: CreateMultipartUploadInput!) { createMultipartUpload(input: $i) {
		id filename contentType size partSize partCount parts { number size uploadUrl } missingParts urlsExpireAt expiresAt } }`
	largeStatus = `query($id: ID!) { multipartUpload(id: $id) {
		id partCount parts { number size uploadUrl } uploadedParts { number size etag } missingParts } }`
	completeLarge = `mutation($id: ID!) { completeMultipartUpload(id: $id) { id filename contentType kind size ready } }`
	abortLarge    = `mutation($id: ID!) { abortMultipartUpload(id: $id) }`
)

type largeUpload struct {
	ID, Filename, ContentType string
	Size, PartSize, PartCount int
	Parts                     []struct {
		Number, Size int
		UploadURL    string
	}
	UploadedParts []struct {
		Number, Size int
		Etag         string
	}
	MissingParts []int
	URLsExpireAt time.Time
	ExpiresAt    time.Time
}

// largePDF is a valid PDF of exactly n bytes (padding in a comment).
func largePDF(n int) []byte {
	head := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%")
	tail := []byte("\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	b := make([]byte, 0, n)
	b = append(b, head...)
	for len(b) < n-len(tail) {
		b = append(b, byte('a'+len(b)%26))
	}
	return append(b, tail...)
}

func createLargeUpload(t *testing.T, c *apitest.Client, input map[string]any) largeUpload {
	t.Helper()
	var out struct{ CreateMultipartUpload largeUpload }
	c.Must(t, createLarge, map[string]any{"i": input}, &out)
	return out.CreateMultipartUpload
}

func largeUploadStatus(t *testing.T, c *apitest.Client, id string) *largeUpload {
	t.Helper()
	var out struct{ MultipartUpload *largeUpload }
	c.Must(t, largeStatus, map[string]any{"id": id}, &out)
	return out.MultipartUpload
}

// chunk is part n (1-based) of data cut in parts of size each.
func chunk(data []byte, size, n int) []byte {
	return data[(n-1)*size : min(n*size, len(data))]
}

func TestLargeFileResumesAfterADroppedPart(t *testing.T) {
	for _, backend := range []string{"folder", "minio"} {
		t.Run(backend, func(t *testing.T) {
			api := newMediaAPI(t, backend == "minio")
			a, b := apitest.SignUp(t, api.url, "la"), apitest.SignUp(t, api.url, "lb")
			data := largePDF(2*media.MinPartBytes + 1000)
			up := createLargeUpload(t, a, map[string]any{"filename": "report.pdf", "contentType": "application/pdf", "size": len(data), "partSize": media.MinPartBytes})
			if up.PartCount != 3 || len(up.Parts) != 3 || up.Parts[2].Size != 1000 || up.PartSize != media.MinPartBytes ||
				!up.URLsExpireAt.After(time.Now()) || !up.ExpiresAt.After(up.URLsExpireAt) || len(up.MissingParts) != 3 {
				t.Fatalf("created %+v", up)
			}
			// Part 2 is lost on the way.
			for _, n := range []int{1, 3} {
				if code := blobtest.PutPart(t, up.Parts[n-1].UploadURL, chunk(data, up.PartSize, n)); code != http.StatusOK {
					t.Fatalf("PUT part %d = %d", n, code)
				}
			}
			st := largeUploadStatus(t, a, up.ID)
			if len(st.UploadedParts) != 2 || st.UploadedParts[0].Number != 1 || st.UploadedParts[1].Number != 3 ||
				st.UploadedParts[1].Size != 1000 || st.UploadedParts[0].Etag == "" || len(st.MissingParts) != 1 || st.MissingParts[0] != 2 {
				t.Fatalf("status with part 2 dropped = %+v", st)
			}
			e := a.Refused(t, "BAD_USER_INPUT", completeLarge, map[string]any{"id": up.ID})
			if !strings.Contains(e.Message, "part 2") {
				t.Fatalf("completion without part 2: %s", e.Message)
			}
			// Resume: send only what is missing, with a fresh URL.
			if code := blobtest.PutPart(t, st.Parts[1].UploadURL, chunk(data, up.PartSize, 2)); code != http.StatusOK {
				t.Fatalf("PUT part 2 = %d", code)
			}
			var done struct {
				CompleteMultipartUpload struct {
					ID, Filename, ContentType, Kind string
					Size                            int
					Ready                           bool
				}
			}
			a.Must(t, completeLarge, map[string]any{"id": up.ID}, &done)
			f := done.CompleteMultipartUpload
			if !f.Ready || f.Kind != "DOCUMENT" || f.ContentType != "application/pdf" || f.Size != len(data) {
				t.Fatalf("completed %+v", f)
			}
			if largeUploadStatus(t, a, up.ID) != nil {
				t.Fatal("a completed multipart upload is still listed")
			}
			var again struct{ CompleteMultipartUpload struct{ ID string } }
			a.Must(t, completeLarge, map[string]any{"id": up.ID}, &again)
			if again.CompleteMultipartUpload.ID != f.ID {
				t.Fatalf("completing again gave %s, want %s", again.CompleteMultipartUpload.ID, f.ID)
			}
			// The file is an attachment like any other.
			var sent struct {
				SendMessage struct {
					Attachments []struct {
						URL  string
						Size int
					}
				}
			}
			a.Must(t, sendWithFiles, sendFiles(conversation(t, a, b), f.ID), &sent)
			if len(sent.SendMessage.Attachments) != 1 {
				t.Fatalf("sent %+v", sent)
			}
			resp, err := http.Get(sent.SendMessage.Attachments[0].URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
				t.Fatalf("download: %d, %d bytes, want %d", resp.StatusCode, len(body), len(data))
			}
			// Part URLs of a completed upload change nothing.
			if code := blobtest.PutPart(t, st.Parts[1].UploadURL, chunk(data, up.PartSize, 2)); code < 400 {
				t.Fatalf("PUT after completion = %d", code)
			}
		})
	}
}

func TestLargeFilePartOfTheWrongSizeIsRefused(t *testing.T) {
	for _, backend := range []string{"folder", "minio"} {
		t.Run(backend, func(t *testing.T) {
			api := newMediaAPI(t, backend == "minio")
			a := apitest.SignUp(t, api.url, "lw")
			data := largePDF(media.MinPartBytes + 10)
			up := createLargeUpload(t, a, map[string]any{"filename": "r.pdf", "contentType": "application/pdf", "size": len(data), "partSize": media.MinPartBytes})
			short := chunk(data, up.PartSize, 1)[:up.PartSize-1]
			if code := blobtest.PutPart(t, up.Parts[0].UploadURL, short); code < 400 {
				t.Fatalf("a part one byte short was accepted: %d", code)
			}
			if code := blobtest.PutPart(t, up.Parts[1].UploadURL, []byte("0123456789x")); code < 400 {
				t.Fatalf("a last part one byte long was accepted: %d", code)
			}
			st := largeUploadStatus(t, a, up.ID)
			if len(st.UploadedParts) != 0 || len(st.MissingParts) != 2 {
				t.Fatalf("status after refused parts = %+v", st)
			}
			a.Refused(t, "BAD_USER_INPUT", completeLarge, map[string]any{"id": up.ID})
			a.Must(t, abortLarge, map[string]any{"id": up.ID}, nil)
			if n := api.blobCount(t); n != 0 {
				t.Fatalf("%d objects left after abort", n)
			}
		})
	}
}

func TestLargeFileWhoseBytesAreNotTheDeclaredTypeIsRefused(t *testing.T) {
	for _, backend := range []string{"folder", "minio"} {
		t.Run(backend, func(t *testing.T) {
			api := newMediaAPI(t, backend == "minio")
			a := apitest.SignUp(t, api.url, "lt")
			for _, tc := range []struct {
				name, declared string
				data           []byte
				says           string
			}{
				{"a PNG declared as a PDF", "application/pdf", mediatest.PNG(4, 4), "image/png"},
				{"a program declared as a PDF", "application/pdf", mediatest.EXE(), ""},
				{"a truncated PDF", "application/pdf", largePDF(3000)[:2000], "truncated"},
			} {
				up := createLargeUpload(t, a, map[string]any{"filename": "x.pdf", "contentType": tc.declared, "size": len(tc.data)})
				if code := blobtest.PutPart(t, up.Parts[0].UploadURL, tc.data); code != http.StatusOK {
					t.Fatalf("%s: PUT = %d", tc.name, code)
				}
				e := a.Refused(t, "BAD_USER_INPUT", completeLarge, map[string]any{"id": up.ID})
				if !strings.Contains(e.Message, tc.says) {
					t.Fatalf("%s: %s", tc.name, e.Message)
				}
				if largeUploadStatus(t, a, up.ID) != nil {
					t.Fatalf("%s: the refused upload is still listed", tc.name)
				}
				raw, _ := ids.DecodeAs("MultipartUpload", up.ID)
				var u struct{ Upload *struct{ ID string } }
				a.Must(t, `query($id: ID!) { upload(id: $id) { id } }`, map[string]any{"id": ids.Encode("Upload", raw)}, &u)
				if u.Upload != nil {
					t.Fatalf("%s: the refused file is an upload", tc.name)
				}
			}
			if n := api.blobCount(t); n != 0 {
				t.Fatalf("refused files left %d objects", n)
			}
		})
	}
}

func TestAbandonedLargeFilesAreSwept(t *testing.T) {
	for _, backend := range []string{"folder", "minio"} {
		t.Run(backend, func(t *testing.T) {
			api := newMediaAPI(t, backend == "minio")
			a := apitest.SignUp(t, api.url, "ls")
			data := largePDF(media.MinPartBytes + 10)
			up := createLargeUpload(t, a, map[string]any{"filename": "r.pdf", "contentType": "application/pdf", "size": len(data), "partSize": media.MinPartBytes})
			blobtest.PutPart(t, up.Parts[0].UploadURL, chunk(data, up.PartSize, 1))
			me, _ := ids.DecodeAs(ids.User, a.UserID)
			raw, _ := ids.DecodeAs("MultipartUpload", up.ID)
			m, err := api.media.MultipartUpload(context.Background(), me, raw)
			if err != nil {
				t.Fatal(err)
			}
			mp := api.blobs.(blob.Multipart)
			if _, _, err := api.media.Sweep(context.Background()); err != nil {
				t.Fatal(err)
			}
			if ps, err := mp.ListParts(context.Background(), media.BlobKey(raw), m.StoreID); err != nil || len(ps) != 1 {
				t.Fatalf("a fresh upload was swept: %+v, %v", ps, err)
			}
			api.clock.Add(25 * time.Hour)
			if _, _, err := api.media.Sweep(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := mp.ListParts(context.Background(), media.BlobKey(raw), m.StoreID); !errors.Is(err, blob.ErrNoUpload) {
				t.Fatalf("the abandoned upload's parts after the sweep: %v, want ErrNoUpload", err)
			}
			if largeUploadStatus(t, a, up.ID) != nil {
				t.Fatal("the abandoned upload is still listed")
			}
		})
	}
}
