package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"messenger/apitest"
	"messenger/blob/blobtest"
	"messenger/media"
)

func TestLargeFileBadInputIsRefusedAndChangesNothing(t *testing.T) {
	api := newMediaAPI(t, false)
	a := apitest.SignUp(t, api.url, "lbi")
	ok := map[string]any{"filename": "r.pdf", "contentType": "application/pdf", "size": 20 << 20}
	with := func(k string, v any) map[string]any {
		in := map[string]any{}
		for kk, vv := range ok {
			in[kk] = vv
		}
		in[k] = v
		return in
	}
	for _, tc := range []struct {
		name  string
		input map[string]any
		says  string
	}{
		{"over the total limit", with("size", 2<<30+1), "larger than"},
		{"zero bytes", with("size", 0), "positive"},
		{"negative size", with("size", -5), "positive"},
		{"parts below 5 MiB", with("partSize", media.MinPartBytes-1), "partSize"},
		{"parts above 64 MiB", with("partSize", media.MaxPartBytes+1), "partSize"},
		{"a type the API never accepts", with("contentType", "text/html"), "not accepted"},
		{"a malformed type", with("contentType", "pdf please"), "media type"},
		{"no file name", with("filename", ""), ""},
	} {
		e := a.Refused(t, "BAD_USER_INPUT", createLarge, map[string]any{"i": tc.input})
		if !strings.Contains(e.Message, tc.says) {
			t.Errorf("%s: %q", tc.name, e.Message)
		}
	}
	for _, op := range []string{completeLarge, abortLarge} {
		a.Refused(t, "NOT_FOUND", op, map[string]any{"id": "nonsense"})
	}
	if st := largeUploadStatus(t, a, "nonsense"); st != nil {
		t.Fatalf("multipartUpload(nonsense) = %+v", st)
	}
	if n := api.blobCount(t); n != 0 {
		t.Fatalf("refused calls stored %d objects", n)
	}
	// A part URL whose signature was tampered with stores nothing.
	up := createLargeUpload(t, a, ok)
	bad := strings.Replace(up.Parts[0].UploadURL, "n=1", "n=2", 1)
	if code := blobtest.PutPart(t, bad, make([]byte, up.Parts[1].Size)); code != http.StatusForbidden {
		t.Fatalf("a tampered part URL answers %d", code)
	}
	if st := largeUploadStatus(t, a, up.ID); len(st.UploadedParts) != 0 {
		t.Fatalf("a tampered URL stored %+v", st.UploadedParts)
	}
}

// TestOnlyTheUploaderSeesCompletesOrAbortsALargeFile is the permission
// table: uploader, another user and an anonymous caller, times each
// operation on an upload in progress.
func TestOnlyTheUploaderSeesCompletesOrAbortsALargeFile(t *testing.T) {
	api := newMediaAPI(t, false)
	owner := apitest.SignUp(t, api.url, "lpo")
	other := apitest.SignUp(t, api.url, "lpx")
	anon := &apitest.Client{URL: api.url}
	data := largePDF(1000)
	type op struct {
		name string
		run  func(c *apitest.Client, id string) string // the error code, "" when allowed
	}
	code := func(c *apitest.Client, q, id string) string {
		r := c.Do(t, q, map[string]any{"id": id})
		return r.Code()
	}
	ops := []op{
		{"view", func(c *apitest.Client, id string) string {
			r := c.Do(t, largeStatus, map[string]any{"id": id})
			if r.Code() == "" && strings.Contains(string(r.Data), `"multipartUpload":null`) {
				return "NOT_FOUND"
			}
			return r.Code()
		}},
		{"complete", func(c *apitest.Client, id string) string { return code(c, completeLarge, id) }},
		{"abort", func(c *apitest.Client, id string) string { return code(c, abortLarge, id) }},
	}
	for _, o := range ops {
		for _, role := range []struct {
			name   string
			client *apitest.Client
			want   string
		}{
			{"another user", other, "NOT_FOUND"},
			{"anonymous", anon, "UNAUTHENTICATED"},
			{"uploader", owner, ""},
		} {
			up := createLargeUpload(t, owner, map[string]any{"filename": "r.pdf", "contentType": "application/pdf", "size": len(data)})
			blobtest.PutPart(t, up.Parts[0].UploadURL, data)
			if got := o.run(role.client, up.ID); got != role.want {
				t.Errorf("%s by %s: %q, want %q", o.name, role.name, got, role.want)
			}
			if role.want != "" && largeUploadStatus(t, owner, up.ID) == nil {
				t.Errorf("%s by %s changed the upload", o.name, role.name)
			}
		}
	}
}

func TestConcurrentCompletionsAgreeOnOneFile(t *testing.T) {
	for _, backend := range []string{"folder", "minio"} {
		t.Run(backend, func(t *testing.T) {
			api := newMediaAPI(t, backend == "minio")
			a := apitest.SignUp(t, api.url, "lcc")
			data := largePDF(media.MinPartBytes + 100)
			up := createLargeUpload(t, a, map[string]any{"filename": "r.pdf", "contentType": "application/pdf", "size": len(data), "partSize": media.MinPartBytes})
			for _, p := range up.Parts {
				if code := blobtest.PutPart(t, p.UploadURL, chunk(data, up.PartSize, p.Number)); code != http.StatusOK {
					t.Fatalf("PUT part %d = %d", p.Number, code)
				}
			}
			const n = 4
			results := make([]apitest.Response, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = a.Do(t, completeLarge, map[string]any{"id": up.ID})
				}()
			}
			wg.Wait()
			var first string
			for i, r := range results {
				var out struct{ CompleteMultipartUpload struct{ ID string } }
				if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil {
					t.Fatalf("completion %d: %+v", i, r.Errors)
				}
				if first == "" {
					first = out.CompleteMultipartUpload.ID
				}
				if out.CompleteMultipartUpload.ID != first {
					t.Fatalf("completions disagree: %s vs %s", out.CompleteMultipartUpload.ID, first)
				}
			}
			if n := api.blobCount(t); n != 1 {
				t.Fatalf("%d objects after concurrent completions, want 1", n)
			}
		})
	}
}
