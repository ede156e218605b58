package mediatest

import (
	"context"
	"slices"
	"testing"
	"time"

	"messenger/media"
)

// testThumbnailJobs: a queued job is listed (when queued before the
// cut-off) and reads as pending until its result is put, which removes
// it from the queue; a rerun's result replaces the first; deleting
// forgets both.
func testThumbnailJobs(t *testing.T, s media.Store) {
	ctx := context.Background()
	a, b, never := id(), id(), id()
	t0 := now()
	for _, u := range []string{a, b} {
		if err := s.QueueThumbnails(ctx, u, t0); err != nil {
			t.Fatal(err)
		}
	}
	queued := func(before time.Time) []string {
		t.Helper()
		ids, err := s.QueuedThumbnails(ctx, before, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var mine []string
		for _, x := range ids {
			if x == a || x == b {
				mine = append(mine, x)
			}
		}
		slices.Sort(mine)
		return mine
	}
	want := []string{a, b}
	slices.Sort(want)
	if got := queued(t0.Add(time.Second)); !slices.Equal(got, want) {
		t.Fatalf("queued before t0+1s = %v, want %v", got, want)
	}
	if got := queued(t0); len(got) != 0 {
		t.Fatalf("queued before t0 = %v, want none (they were queued at t0)", got)
	}
	states, err := s.ThumbnailStates(ctx, []string{a, b, never})
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 2 || !states[a].Pending() || !states[b].Pending() || states[a].UploadID != a {
		t.Fatalf("states of two queued jobs and an unknown id = %+v", states)
	}
	set := media.ThumbnailSet{UploadID: a, Blurhash: "LEHV6nWB2yk8pyo0adR*.7kCMdnj", MadeAt: t0,
		Images: []media.ThumbnailImage{{Key: "uploads/" + a + ".160.jpg", Width: 160, Height: 120}, {Key: "uploads/" + a + ".320.jpg", Width: 320, Height: 240}}}
	if err := s.PutThumbnails(ctx, set); err != nil {
		t.Fatal(err)
	}
	if err := s.PutThumbnails(ctx, set); err != nil { // a rerun after a crash
		t.Fatal(err)
	}
	failed := media.ThumbnailSet{UploadID: b, Failed: "too many pixels", MadeAt: t0}
	if err := s.PutThumbnails(ctx, failed); err != nil {
		t.Fatal(err)
	}
	if got := queued(t0.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("jobs with results still queued: %v", got)
	}
	states, err = s.ThumbnailStates(ctx, []string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	got := states[a]
	if got.Pending() || got.Blurhash != set.Blurhash || !got.MadeAt.Equal(t0) || !slices.Equal(got.Images, set.Images) {
		t.Fatalf("result = %+v, want %+v", got, set)
	}
	if st := states[b]; st.Pending() || st.Failed != failed.Failed || len(st.Images) != 0 {
		t.Fatalf("failed result = %+v", st)
	}
	if err := s.DeleteThumbnails(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteThumbnails(ctx, never); err != nil {
		t.Fatal(err)
	}
	if states, err = s.ThumbnailStates(ctx, []string{a}); err != nil || len(states) != 0 {
		t.Fatalf("after delete: %+v, %v", states, err)
	}
}

// testThumbnailJobDrop: a dropped job is neither queued nor pending.
func testThumbnailJobDrop(t *testing.T, s media.Store) {
	ctx := context.Background()
	u := id()
	if err := s.QueueThumbnails(ctx, u, now()); err != nil {
		t.Fatal(err)
	}
	if err := s.DropThumbnailJob(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.DropThumbnailJob(ctx, id()); err != nil {
		t.Fatal(err)
	}
	ids, err := s.QueuedThumbnails(ctx, now().Add(time.Hour), 1000)
	if err != nil || slices.Contains(ids, u) {
		t.Fatalf("dropped job listed: %v, %v", ids, err)
	}
	states, err := s.ThumbnailStates(ctx, []string{u})
	if err != nil || len(states) != 0 {
		t.Fatalf("dropped job has state %+v, %v", states, err)
	}
}
