package blobtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/blob"
)

// RunMultipart is the contract suite of blob.Multipart, for stores that
// offer it. Like Run it speaks only through the interfaces and plain HTTP
// on the presigned part URLs.
func RunMultipart(t *testing.T, newStore func(t *testing.T) blob.Store) {
	ctx := context.Background()
	open := func(t *testing.T) (blob.Store, blob.Multipart, string) {
		s := newStore(t)
		mp, ok := s.(blob.Multipart)
		if !ok {
			t.Fatalf("%T does not implement blob.Multipart", s)
		}
		return s, mp, "t/" + uuid.NewString()
	}
	// Two full parts and a short last one: S3's smallest real upload.
	body := make([]byte, 2*blob.MinPartSize+1000)
	for i := range body {
		body[i] = byte(i * 7)
	}
	chunks := [][]byte{body[:blob.MinPartSize], body[blob.MinPartSize : 2*blob.MinPartSize], body[2*blob.MinPartSize:]}

	t.Run("ADroppedPartIsListedMissingAndResendingItCompletes", func(t *testing.T) {
		s, mp, k := open(t)
		id, err := mp.CreateMultipart(ctx, k, "application/pdf")
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 3} {
			if code := PutPart(t, presignPart(t, mp, k, id, n, len(chunks[n-1])), chunks[n-1]); code != http.StatusOK {
				t.Fatalf("PUT part %d = %d", n, code)
			}
		}
		ps, err := mp.ListParts(ctx, k, id)
		if err != nil || len(ps) != 2 || ps[0].Number != 1 || ps[1].Number != 3 || ps[0].Size != blob.MinPartSize || ps[1].Size != 1000 || ps[0].ETag == "" {
			t.Fatalf("ListParts with part 2 dropped = %+v, %v", ps, err)
		}
		if _, err := s.Stat(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Stat before completion = %v, want ErrNotFound", err)
		}
		url2 := presignPart(t, mp, k, id, 2, len(chunks[1]))
		if code := PutPart(t, url2, chunks[1]); code != http.StatusOK {
			t.Fatalf("PUT part 2 = %d", code)
		}
		ps, err = mp.ListParts(ctx, k, id)
		if err != nil || len(ps) != 3 {
			t.Fatalf("ListParts = %+v, %v", ps, err)
		}
		info, err := mp.CompleteMultipart(ctx, k, id, ps)
		if err != nil || info.Size != int64(len(body)) {
			t.Fatalf("CompleteMultipart = %+v, %v", info, err)
		}
		if b, info := read(t, s, k); b != string(body) || info.ContentType != "application/pdf" {
			t.Fatalf("completed object: %d bytes (%s), want %d", len(b), info.ContentType, len(body))
		}
		// The upload is over: its URLs and listing are gone, the object stays.
		if code := PutPart(t, url2, chunks[1]); code < 400 {
			t.Fatalf("PUT after completion = %d, want refused", code)
		}
		if _, err := mp.ListParts(ctx, k, id); !errors.Is(err, blob.ErrNoUpload) {
			t.Fatalf("ListParts after completion = %v, want ErrNoUpload", err)
		}
		if b, _ := read(t, s, k); b != string(body) {
			t.Fatal("the object changed after completion")
		}
	})
	t.Run("APartOfAnotherLengthIsRefused", func(t *testing.T) {
		_, mp, k := open(t)
		id, err := mp.CreateMultipart(ctx, k, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = mp.AbortMultipart(ctx, k, id) })
		u := presignPart(t, mp, k, id, 1, 1000)
		if code := PutPart(t, u, make([]byte, 999)); code < 400 {
			t.Fatalf("PUT of 999 bytes to a 1000-byte part = %d, want refused", code)
		}
		if code := PutPart(t, u, make([]byte, 1001)); code < 400 {
			t.Fatalf("PUT of 1001 bytes to a 1000-byte part = %d, want refused", code)
		}
		if ps, err := mp.ListParts(ctx, k, id); err != nil || len(ps) != 0 {
			t.Fatalf("ListParts after refused PUTs = %+v, %v", ps, err)
		}
	})
	t.Run("ResendingAPartReplacesItAndItsETag", func(t *testing.T) {
		s, mp, k := open(t)
		id, err := mp.CreateMultipart(ctx, k, "")
		if err != nil {
			t.Fatal(err)
		}
		u := presignPart(t, mp, k, id, 1, 4)
		PutPart(t, u, []byte("aaaa"))
		first, _ := mp.ListParts(ctx, k, id)
		PutPart(t, u, []byte("bbbb"))
		second, err := mp.ListParts(ctx, k, id)
		if err != nil || len(first) != 1 || len(second) != 1 || first[0].ETag == second[0].ETag {
			t.Fatalf("ListParts before/after resend = %+v / %+v, %v", first, second, err)
		}
		if _, err := mp.CompleteMultipart(ctx, k, id, first); !errors.Is(err, blob.ErrBadParts) {
			t.Fatalf("CompleteMultipart with a stale ETag = %v, want ErrBadParts", err)
		}
		if _, err := mp.CompleteMultipart(ctx, k, id, second); err != nil {
			t.Fatal(err)
		}
		if b, _ := read(t, s, k); b != "bbbb" {
			t.Fatalf("object = %q", b)
		}
	})
	t.Run("AbortFreesTheParts", func(t *testing.T) {
		s, mp, k := open(t)
		id, err := mp.CreateMultipart(ctx, k, "")
		if err != nil {
			t.Fatal(err)
		}
		u := presignPart(t, mp, k, id, 1, 4)
		PutPart(t, u, []byte("aaaa"))
		if err := mp.AbortMultipart(ctx, k, id); err != nil {
			t.Fatal(err)
		}
		if _, err := mp.ListParts(ctx, k, id); !errors.Is(err, blob.ErrNoUpload) {
			t.Fatalf("ListParts after abort = %v, want ErrNoUpload", err)
		}
		if code := PutPart(t, u, []byte("aaaa")); code < 400 {
			t.Fatalf("PUT after abort = %d, want refused", code)
		}
		if _, err := mp.CompleteMultipart(ctx, k, id, []blob.Part{{Number: 1, Size: 4, ETag: "x"}}); !errors.Is(err, blob.ErrNoUpload) {
			t.Fatalf("CompleteMultipart after abort = %v, want ErrNoUpload", err)
		}
		if _, err := s.Stat(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Stat after abort = %v, want ErrNotFound", err)
		}
		if err := mp.AbortMultipart(ctx, k, id); err != nil {
			t.Fatalf("second abort = %v, want nil", err)
		}
	})
}

func presignPart(t *testing.T, mp blob.Multipart, key, id string, n, size int) string {
	t.Helper()
	u, err := mp.PresignPart(context.Background(), key, id, n, int64(size), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// PutPart PUTs data to a presigned part URL, as a client does, and returns
// the status code.
func PutPart(t testing.TB, url string, data []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}
