// Package blobtest is the contract suite every blob.Store passes. It speaks
// to a store only through blob.Store and plain HTTP on its presigned URLs,
// so the folder store cannot pass by knowing something S3 doesn't.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/blob"
)

// Run runs the contract suite. newStore returns a store whose keys no other
// test uses (an own bucket or prefix) and whose presigned URLs are
// reachable over HTTP; it cleans up after itself with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	ctx := context.Background()
	key := func() string { return "t/" + uuid.NewString() }

	t.Run("PutThenGetReturnsTheBytes", func(t *testing.T) {
		s, k := newStore(t), key()
		n, err := s.Put(ctx, k, strings.NewReader("hello"), 5, "text/plain")
		if err != nil || n != 5 {
			t.Fatalf("Put = %d, %v", n, err)
		}
		rc, info, err := s.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		if string(b) != "hello" || info.Size != 5 || info.ContentType != "text/plain" {
			t.Fatalf("Get = %q %+v", b, info)
		}
		st, err := s.Stat(ctx, k)
		if err != nil || st.Size != 5 {
			t.Fatalf("Stat = %+v, %v", st, err)
		}
	})
	t.Run("PutOverTheLimitStoresNothing", func(t *testing.T) {
		s, k := newStore(t), key()
		_, err := s.Put(ctx, k, bytes.NewReader(make([]byte, 1025)), 1024, "")
		if !errors.Is(err, blob.ErrTooLarge) {
			t.Fatalf("Put over limit = %v, want ErrTooLarge", err)
		}
		if _, err := s.Stat(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Stat after refused Put = %v, want ErrNotFound", err)
		}
		if n, err := s.Put(ctx, k, bytes.NewReader(make([]byte, 1024)), 1024, ""); err != nil || n != 1024 {
			t.Fatalf("Put at exactly the limit = %d, %v", n, err)
		}
	})
	t.Run("PutNeverReplacesAnObject", func(t *testing.T) {
		s, k := newStore(t), key()
		if _, err := s.Put(ctx, k, strings.NewReader("first"), 0, "text/plain"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, k, strings.NewReader("second"), 0, "text/csv"); !errors.Is(err, blob.ErrExists) {
			t.Fatalf("second Put = %v, want ErrExists", err)
		}
		if b, info := read(t, s, k); b != "first" || info.ContentType != "text/plain" {
			t.Fatalf("after a refused second Put the object is %q (%s)", b, info.ContentType)
		}
	})
	t.Run("OfConcurrentPutsExactlyOneWins", func(t *testing.T) {
		s, k := newStore(t), key()
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.Put(ctx, k, strings.NewReader(fmt.Sprint("writer ", i)), 0, "")
			}()
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("writers %d and %d both won", winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, blob.ErrExists):
				t.Fatalf("writer %d: %v", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no writer won")
		}
		if b, _ := read(t, s, k); b != fmt.Sprint("writer ", winner) {
			t.Fatalf("object = %q, but writer %d won", b, winner)
		}
	})
	t.Run("ListGivesKeysWithAPrefixInByteOrder", func(t *testing.T) {
		s := newStore(t)
		for _, k := range []string{"p/b", "p/a/y", "p/a.x", "p/c/d/e", "pq", "q/x"} {
			if _, err := s.Put(ctx, k, strings.NewReader(k), 0, ""); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			prefix, after string
			limit         int
			want          string
		}{
			{"p/", "", 10, "[p/a.x p/a/y p/b p/c/d/e]"},
			{"p", "", 10, "[p/a.x p/a/y p/b p/c/d/e pq]"},
			{"p/", "", 2, "[p/a.x p/a/y]"},
			{"p/", "p/a/y", 10, "[p/b p/c/d/e]"},
			{"p/a", "", 10, "[p/a.x p/a/y]"},
			{"p/c/", "", 10, "[p/c/d/e]"},
			{"r/", "", 10, "[]"},
		} {
			got, err := s.List(ctx, tc.prefix, tc.after, tc.limit)
			if err != nil || fmt.Sprint(got) != tc.want {
				t.Errorf("List(%q, %q, %d) = %v, %v; want %s", tc.prefix, tc.after, tc.limit, got, err, tc.want)
			}
		}
	})
	t.Run("PutStopsReadingAtTheLimit", func(t *testing.T) {
		s, k := newStore(t), key()
		r := &countingReader{limit: 1 << 30}
		if _, err := s.Put(ctx, k, r, 4096, ""); !errors.Is(err, blob.ErrTooLarge) {
			t.Fatalf("Put = %v", err)
		}
		if r.n > 4096+64<<10 {
			t.Fatalf("read %d bytes of an endless stream with a 4096-byte limit", r.n)
		}
	})
	t.Run("MissingObjects", func(t *testing.T) {
		s, k := newStore(t), key()
		if _, _, err := s.Get(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Get missing = %v", err)
		}
		if _, err := s.Stat(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Stat missing = %v", err)
		}
		if err := s.Delete(ctx, k); err != nil {
			t.Fatalf("Delete missing = %v", err)
		}
	})
	t.Run("DeleteRemoves", func(t *testing.T) {
		s, k := newStore(t), key()
		if _, err := s.Put(ctx, k, strings.NewReader("x"), 0, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Get(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Get after Delete = %v", err)
		}
	})
	t.Run("MalformedKeysAreRefused", func(t *testing.T) {
		s := newStore(t)
		for _, k := range []string{"", "../x", "/abs", "a//b", "sp ace", "a/"} {
			if _, err := s.Put(ctx, k, strings.NewReader("x"), 0, ""); !errors.Is(err, blob.ErrBadKey) {
				t.Errorf("Put(%q) = %v, want ErrBadKey", k, err)
			}
		}
	})
	t.Run("PresignedGetServesWithHeaders", func(t *testing.T) {
		s, k := newStore(t), key()
		if _, err := s.Put(ctx, k, strings.NewReader("%PDF-1.4 body"), 0, "application/octet-stream"); err != nil {
			t.Fatal(err)
		}
		cd := blob.ContentDisposition("attachment", "report ü.pdf")
		u, err := s.PresignGet(ctx, k, time.Minute, blob.GetOptions{ContentType: "application/pdf", ContentDisposition: cd})
		if err != nil {
			t.Fatal(err)
		}
		resp := get(t, u)
		if resp.status != 200 || resp.body != "%PDF-1.4 body" {
			t.Fatalf("GET presigned = %d %q", resp.status, resp.body)
		}
		if resp.header.Get("Content-Type") != "application/pdf" || resp.header.Get("Content-Disposition") != cd {
			t.Fatalf("headers = %v", resp.header)
		}
		if tampered := get(t, strings.Replace(u, "attachment", "inline", 1)); tampered.status != http.StatusForbidden {
			t.Fatalf("tampered URL answered %d", tampered.status)
		}
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		if gone := get(t, u); gone.status != http.StatusNotFound {
			t.Fatalf("GET after Delete = %d", gone.status)
		}
	})
	t.Run("PresignedGetExpires", func(t *testing.T) {
		s, k := newStore(t), key()
		if _, err := s.Put(ctx, k, strings.NewReader("x"), 0, ""); err != nil {
			t.Fatal(err)
		}
		u, err := s.PresignGet(ctx, k, time.Second, blob.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2100 * time.Millisecond)
		if r := get(t, u); r.status != http.StatusForbidden {
			t.Fatalf("expired URL answered %d", r.status)
		}
	})
	t.Run("PresignedPostWithinPolicy", func(t *testing.T) {
		s, k := newStore(t), key()
		form, err := s.PresignPost(ctx, k, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if status, body := PostForm(t, form, "a.txt", []byte("uploaded")); status/100 != 2 {
			t.Fatalf("POST = %d %s", status, body)
		}
		info, err := s.Stat(ctx, k)
		if err != nil || info.Size != 8 {
			t.Fatalf("Stat after POST = %+v, %v", info, err)
		}
	})
	t.Run("PresignedPostAgainReplacesTheObject", func(t *testing.T) {
		// Not a wish, a fact callers must design for: a form is not
		// single-use (S3 has no such form), so what was checked must be
		// copied away from the form's key (see blob.Store).
		s, k := newStore(t), key()
		form, err := s.PresignPost(ctx, k, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{"one", "two"} {
			if status, resp := PostForm(t, form, "a.txt", []byte(body)); status/100 != 2 {
				t.Fatalf("POST %q = %d %s", body, status, resp)
			}
		}
		if b, _ := read(t, s, k); b != "two" {
			t.Fatalf("after two POSTs the object is %q", b)
		}
		if status, _ := PostForm(t, form, "a.bin", make([]byte, 101)); status/100 == 2 {
			t.Fatal("POST over the policy's size accepted")
		}
		if status, _ := PostForm(t, form, "a.bin", nil); status/100 == 2 {
			t.Fatal("POST of an empty file accepted")
		}
		if b, _ := read(t, s, k); b != "two" {
			t.Fatalf("refused POSTs changed the object to %q", b)
		}
	})
	t.Run("PresignedPostOverItsSizeStoresNothing", func(t *testing.T) {
		s, k := newStore(t), key()
		form, err := s.PresignPost(ctx, k, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if status, body := PostForm(t, form, "a.bin", make([]byte, 101)); status/100 == 2 {
			t.Fatalf("POST of 101 bytes under a 100-byte policy = %d %s", status, body)
		}
		if _, err := s.Stat(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Stat after refused POST = %v", err)
		}
		if status, _ := PostForm(t, form, "a.bin", nil); status/100 == 2 {
			t.Fatalf("POST of an empty file = %d", status)
		}
	})
}

func read(t *testing.T, s blob.Store, k string) (string, blob.Info) {
	t.Helper()
	rc, info, err := s.Get(context.Background(), k)
	if err != nil {
		t.Fatalf("Get %s: %v", k, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", k, err)
	}
	return string(b), info
}

type countingReader struct{ n, limit int }

func (r *countingReader) Read(p []byte) (int, error) {
	if r.n >= r.limit {
		return 0, io.EOF
	}
	r.n += len(p)
	return len(p), nil
}

type response struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, u string) response {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

// PostForm uploads data as the file of a presigned form, the way a browser
// does, and returns the status and body.
func PostForm(t testing.TB, form blob.PostForm, filename string, data []byte) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	names := make([]string, 0, len(form.Fields))
	for k := range form.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		_ = w.WriteField(k, form.Fields[k])
	}
	fw, _ := w.CreateFormFile("file", filename)
	_, _ = fw.Write(data)
	_ = w.Close()
	resp, err := http.Post(form.URL, w.FormDataContentType(), &buf)
	if err != nil {
		t.Fatalf("POST %s: %v", form.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
