package lifecycle_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"messenger/fault"
	"messenger/lifecycle"
	"messenger/storage"
)

// readArchive reads the archive of a ready export from the blob store.
func readArchive(t *testing.T, e *env, userID, jobID string) map[string][]byte {
	t.Helper()
	r, _, err := e.blobs.Get(context.Background(), lifecycle.ArchiveKey(userID, jobID))
	if err != nil {
		t.Fatalf("archive: %v", err)
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("archive is not a zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

func TestExportHoldsEveryMessageISentAndNothingOfOthers(t *testing.T) {
	testExport(t, newEnv(t, nil))
}

func testExport(t *testing.T, e *env) {
	ctx := context.Background()
	a, b := e.signUp(t, "alice").User.ID, e.signUp(t, "bob").User.ID
	g, _ := e.chat.CreateGroup(ctx, a, "friends", []string{b})
	sent := map[string]bool{}
	for i := range 450 { // more than one page
		m, err := e.chat.Send(ctx, a, g.ID, "a"+strings.Repeat("x", i%7)+string(rune('A'+i%26))+time.Duration(i).String(), "alice says "+time.Duration(i).String())
		if err != nil {
			t.Fatal(err)
		}
		sent[m.ID] = true
	}
	bm, _ := e.chat.Send(ctx, b, g.ID, "b1", "bob's private words")
	if _, err := e.chat.AddReaction(ctx, a, bm.ID, "👍"); err != nil {
		t.Fatal(err)
	}

	ex, err := e.life.RequestExport(ctx, a)
	if err != nil || ex.Status != lifecycle.ExportPending || ex.URL != nil {
		t.Fatalf("RequestExport: %+v %v", ex, err)
	}
	if again, err := e.life.RequestExport(ctx, a); err != nil || again.ID != ex.ID {
		t.Fatalf("a second request while one runs: %+v %v, want the same export", again, err)
	}
	e.runJobs(t)
	got, err := e.life.LatestExport(ctx, a)
	if err != nil || got == nil || got.Status != lifecycle.ExportReady || got.URL == nil || !strings.HasPrefix(*got.URL, "http://api.test/") ||
		got.ExpiresAt == nil || got.URLExpiresAt == nil {
		t.Fatalf("LatestExport after the job: %+v %v", got, err)
	}
	files := readArchive(t, e, a, ex.ID)
	var msgs []struct{ ID, Body string }
	if err := json.Unmarshal(files["messages.json"], &msgs); err != nil {
		t.Fatalf("messages.json: %v\n%s", err, files["messages.json"])
	}
	for _, m := range msgs {
		if !sent[m.ID] {
			t.Fatalf("the archive holds a message alice did not send: %+v", m)
		}
		delete(sent, m.ID)
	}
	if len(sent) != 0 {
		t.Fatalf("%d of alice's messages are missing from the archive", len(sent))
	}
	for name, data := range files {
		if bytes.Contains(data, []byte("bob's private words")) {
			t.Fatalf("%s holds bob's message", name)
		}
	}
	var profile struct{ ID, Username string }
	if err := json.Unmarshal(files["profile.json"], &profile); err != nil || profile.ID != a || profile.Username != "alice" {
		t.Fatalf("profile.json: %s %v", files["profile.json"], err)
	}
	var reactions []struct{ Emoji string }
	if err := json.Unmarshal(files["reactions.json"], &reactions); err != nil || len(reactions) != 1 || reactions[0].Emoji != "👍" {
		t.Fatalf("reactions.json: %s %v", files["reactions.json"], err)
	}
	if !bytes.Contains(files["conversations.json"], []byte(g.ID)) {
		t.Fatalf("conversations.json lacks the group: %s", files["conversations.json"])
	}
	if none, err := e.life.LatestExport(ctx, b); err != nil || none != nil {
		t.Fatalf("bob never asked: %+v %v", none, err)
	}
}

func TestExportsAreRateLimitedAndExpire(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	a := e.signUp(t, "alice").User.ID
	first, err := e.life.RequestExport(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	e.runJobs(t)
	e.clock.Add(time.Hour)
	_, err = e.life.RequestExport(ctx, a)
	wantCode(t, err, fault.RateLimited, "")
	var fe *fault.Error
	if !asFault(err, &fe) || fe.Extensions["retryAt"] == nil {
		t.Fatalf("no retryAt: %v", err)
	}
	if got, _ := e.life.LatestExport(ctx, a); got.ID != first.ID || got.Status != lifecycle.ExportReady {
		t.Fatalf("a refused request changed the latest export: %+v", got)
	}
	e.clock.Add(8 * 24 * time.Hour)
	got, err := e.life.LatestExport(ctx, a)
	if err != nil || got.Status != lifecycle.ExportExpired || got.URL != nil {
		t.Fatalf("after its TTL: %+v %v, want EXPIRED without a URL", got, err)
	}
	if _, _, err := e.blobs.Get(ctx, lifecycle.ArchiveKey(a, first.ID)); err == nil {
		t.Fatal("an expired archive is still stored")
	}
	next, err := e.life.RequestExport(ctx, a)
	if err != nil || next.ID == first.ID {
		t.Fatalf("a request after the interval: %+v %v", next, err)
	}
}

func TestExportWithoutABlobStoreIsUnavailable(t *testing.T) {
	e := newEnv(t, func(c *lifecycle.Config) { c.Blobs = nil })
	_, err := e.life.RequestExport(context.Background(), e.signUp(t, "alice").User.ID)
	wantCode(t, err, fault.Unavailable, "")
}

// fakeFiles attaches one file to every message.
type fakeFiles struct{}

func (fakeFiles) AttachmentFiles(_ context.Context, msgs []storage.Message, fn func(name, contentType string, r io.Reader) error) error {
	for _, m := range msgs {
		if err := fn(m.ConversationID+"-"+fmt.Sprint(m.Seq)+".txt", "text/plain", strings.NewReader("file of "+m.Body)); err != nil {
			return err
		}
	}
	return nil
}

func TestExportCarriesTheFilesOfMyMessagesOnly(t *testing.T) {
	e := newEnv(t, func(c *lifecycle.Config) { c.Files = fakeFiles{} })
	ctx := context.Background()
	a, b := e.signUp(t, "alice").User.ID, e.signUp(t, "bob").User.ID
	g, _ := e.chat.CreateGroup(ctx, a, "g", []string{b})
	if _, err := e.chat.Send(ctx, a, g.ID, "1", "mine"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Send(ctx, b, g.ID, "2", "bob's"); err != nil {
		t.Fatal(err)
	}
	ex, err := e.life.RequestExport(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	e.runJobs(t)
	files := readArchive(t, e, a, ex.ID)
	if string(files["files/"+g.ID+"-1.txt"]) != "file of mine" {
		t.Fatalf("my file is missing: %v", keys(files))
	}
	if _, ok := files["files/"+g.ID+"-2.txt"]; ok {
		t.Fatal("bob's file is in my archive")
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestAnExportOfAnAccountDeletedMeanwhileWritesNoArchive(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	a := e.signUp(t, "alice").User.ID
	ex, err := e.life.RequestExport(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.life.DeleteAccount(ctx, a, "password1"); err != nil {
		t.Fatal(err)
	}
	e.runJobs(t)
	if _, _, err := e.blobs.Get(ctx, lifecycle.ArchiveKey(a, ex.ID)); err == nil {
		t.Fatal("an archive of a deleted account was written")
	}
}
