package server_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"messenger/apitest"
	"messenger/blob/folder"
	"messenger/media"
	"messenger/media/mediatest"
	mediapebble "messenger/media/pebble"
	"messenger/server"
)

// countingMediaStore counts the media store's lookups of attachments and
// uploads.
type countingMediaStore struct {
	media.Store
	attachments, uploads atomic.Int64
}

func (s *countingMediaStore) Attachments(ctx context.Context, messageIDs []string) (map[string][]string, error) {
	s.attachments.Add(1)
	return s.Store.Attachments(ctx, messageIDs)
}

func (s *countingMediaStore) Uploads(ctx context.Context, ids []string) (map[string]media.Upload, error) {
	s.uploads.Add(1)
	return s.Store.Uploads(ctx, ids)
}

// startCountedMediaAPI starts the API with attachments on embedded
// backends, its media store counting lookups.
func startCountedMediaAPI(t *testing.T) (string, *countingMediaStore) {
	t.Helper()
	dir := t.TempDir()
	e := newEmbedded(t, apiOptions{})
	blobs, err := folder.Open(folder.Config{Dir: filepath.Join(dir, "blobs"), Secret: []byte(strings.Repeat("b", 32))})
	if err != nil {
		t.Fatal(err)
	}
	pebbleMeta, err := mediapebble.Open(mediapebble.Config{Dir: filepath.Join(dir, "media")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pebbleMeta.Close() })
	meta := &countingMediaStore{Store: pebbleMeta}
	m, err := media.New(media.Config{Chat: e.Chat, Store: meta, Members: e.Store, Blobs: blobs, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	_, url := e.serve(t, server.Config{Uploads: server.Uploads{Media: m, Blobs: blobs.Handler()}})
	return url, meta
}

// A page of 50 messages, half of them with files, shows every file in
// order with one lookup of the messages' attachments and one of the
// uploads, not one per message.
func TestHistoryPageLoadsAttachmentsInOneLookup(t *testing.T) {
	url, meta := startCountedMediaAPI(t)
	a, b := apitest.SignUp(t, url, "pa"), apitest.SignUp(t, url, "pb")
	conv := conversation(t, a, b)
	want := map[string][]string{}
	for i := range 50 {
		body := fmt.Sprint("message ", i)
		vars := map[string]any{"i": map[string]any{"conversationId": conv, "clientMessageId": uuid.NewString(), "body": body}}
		if i%2 == 0 {
			first := mustUpload(t, a, fmt.Sprintf("p%d.png", i), mediatest.PNG(2, 2)).ID
			second := mustUpload(t, a, fmt.Sprintf("d%d.pdf", i), mediatest.PDF()).ID
			vars["i"].(map[string]any)["attachmentIds"] = []string{second, first}
			want[body] = []string{fmt.Sprintf("d%d.pdf", i), fmt.Sprintf("p%d.png", i)}
		}
		a.Must(t, sendWithFiles, vars, nil)
	}
	meta.attachments.Store(0)
	meta.uploads.Store(0)
	var page struct {
		Messages struct {
			Edges []struct {
				Node struct {
					Body        string
					Attachments []struct{ Filename, URL string }
				}
			}
		}
	}
	b.Must(t, `query($c: ID!) { messages(conversationId: $c, last: 50) { edges { node { body attachments { filename url } } } } }`,
		map[string]any{"c": conv}, &page)
	if len(page.Messages.Edges) != 50 {
		t.Fatalf("page has %d messages, want 50", len(page.Messages.Edges))
	}
	for _, e := range page.Messages.Edges {
		var got []string
		for _, f := range e.Node.Attachments {
			if f.URL == "" {
				t.Fatalf("%q: a file without a URL", e.Node.Body)
			}
			got = append(got, f.Filename)
		}
		if fmt.Sprint(got) != fmt.Sprint(want[e.Node.Body]) {
			t.Fatalf("%q has files %v, want %v", e.Node.Body, got, want[e.Node.Body])
		}
	}
	if n, u := meta.attachments.Load(), meta.uploads.Load(); n != 1 || u != 1 {
		t.Fatalf("a page of 50 messages made %d attachment lookups and %d upload lookups, want 1 and 1", n, u)
	}
}
