package storagetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"messenger/storage"
)

func testLinkPreviewCacheExpires(t *testing.T, s storage.Store) {
	ctx := context.Background()
	at := now()
	url := "https://example.com/" + id()
	if _, err := s.CachedLinkPreview(ctx, url, at); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("empty cache err = %v", err)
	}
	p := &storage.LinkPreview{URL: url, Title: "Title", Description: "About", SiteName: "Example",
		Image: &storage.LinkPreviewImage{Key: "linkpreviews/x.jpg", Width: 320, Height: 200}}
	f := storage.LinkPreviewFetch{URL: url, Preview: p, ExpiresAt: at.Add(time.Hour)}
	if err := s.CacheLinkPreview(ctx, f); err != nil {
		t.Fatal(err)
	}
	got, err := s.CachedLinkPreview(ctx, url, at)
	if err != nil || !reflect.DeepEqual(got, f) {
		t.Fatalf("CachedLinkPreview = %+v, %v; want %+v", got, err, f)
	}
	if _, err := s.CachedLinkPreview(ctx, url, at.Add(time.Hour)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("expired entry err = %v", err)
	}
	// A failure is remembered as a fetch without a preview, replacing the
	// earlier result.
	failed := storage.LinkPreviewFetch{URL: url, ExpiresAt: at.Add(time.Minute)}
	if err := s.CacheLinkPreview(ctx, failed); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CachedLinkPreview(ctx, url, at); err != nil || got.Preview != nil || !got.ExpiresAt.Equal(failed.ExpiresAt) {
		t.Fatalf("failure = %+v, %v", got, err)
	}
	if _, err := s.CachedLinkPreview(ctx, url+"/other", at); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("another url err = %v", err)
	}
}

func testMessageLinkPreviewsAreReplaced(t *testing.T, s storage.Store) {
	ctx := context.Background()
	conv := id()
	if got, err := s.MessageLinkPreviews(ctx, conv, []int64{1, 2}); err != nil || len(got) != 0 {
		t.Fatalf("none = %+v, %v", got, err)
	}
	first := storage.LinkPreview{URL: "https://a.example/", Title: "A"}
	second := storage.LinkPreview{URL: "https://b.example/", SiteName: "B",
		Image: &storage.LinkPreviewImage{Key: "linkpreviews/b.jpg", Width: 10, Height: 20}}
	if err := s.SetMessageLinkPreview(ctx, conv, 2, first); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMessageLinkPreview(ctx, conv, 2, second); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMessageLinkPreview(ctx, conv, 3, first); err != nil {
		t.Fatal(err)
	}
	got, err := s.MessageLinkPreviews(ctx, conv, []int64{1, 2, 3})
	want := map[int64]storage.LinkPreview{2: second, 3: first}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("MessageLinkPreviews = %+v, %v; want %+v", got, err, want)
	}
	if got, _ := s.MessageLinkPreviews(ctx, id(), []int64{2}); len(got) != 0 {
		t.Fatalf("another conversation sees %+v", got)
	}
}
