package mediatest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"messenger/media"
)

func newMultipart(t *testing.T, s media.Store, created time.Time) media.MultipartUpload {
	t.Helper()
	m := media.MultipartUpload{ID: id(), OwnerID: id(), Filename: "big.pdf", ContentType: "application/pdf",
		Size: 3<<20 + 7, PartSize: 5 << 20, StoreID: "store-" + id(), CreatedAt: created}
	if err := s.PutMultipart(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

func testMultipartsRoundTrip(t *testing.T, s media.Store) {
	ctx := context.Background()
	m := newMultipart(t, s, now())
	got, err := s.Multipart(ctx, m.ID)
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("Multipart = %+v, %v; want %+v", got, err, m)
	}
	if _, err := s.Multipart(ctx, id()); !errors.Is(err, media.ErrNotFound) {
		t.Fatalf("Multipart(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteMultipart(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Multipart(ctx, m.ID); !errors.Is(err, media.ErrNotFound) {
		t.Fatalf("Multipart after delete = %v, want ErrNotFound", err)
	}
	if err := s.DeleteMultipart(ctx, m.ID); err != nil {
		t.Fatalf("deleting a missing record = %v, want nil", err)
	}
}

func testStaleMultiparts(t *testing.T, s media.Store) {
	ctx := context.Background()
	t0 := now()
	old := newMultipart(t, s, t0.Add(-30*time.Hour))
	fresh := newMultipart(t, s, t0.Add(-time.Hour))
	listed := func() map[string]media.MultipartUpload {
		ms, err := s.StaleMultiparts(ctx, t0.Add(-24*time.Hour), 1000)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]media.MultipartUpload{}
		for _, m := range ms {
			out[m.ID] = m
		}
		return out
	}
	got := listed()
	if !reflect.DeepEqual(got[old.ID], old) {
		t.Fatalf("stale multiparts lack the old one: %+v", got[old.ID])
	}
	if _, ok := got[fresh.ID]; ok {
		t.Fatal("a fresh multipart upload is listed as stale")
	}
	if _, ok := listed()[old.ID]; !ok {
		t.Fatal("a stale upload listed but not deleted is not listed again")
	}
	if err := s.DeleteMultipart(ctx, old.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := listed()[old.ID]; ok {
		t.Fatal("a deleted multipart upload is still listed")
	}
}
