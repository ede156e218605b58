package mediatest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"messenger/media"
)

func testQuotaWindow(t *testing.T, s media.Store) {
	ctx := context.Background()
	author, day := id(), 24*time.Hour
	t0 := now()
	for i := range 3 {
		if err := s.ReservePost(ctx, author, fmt.Sprint("s", i), t0.Add(time.Duration(i)*time.Minute), day, 3); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	var q *media.QuotaError
	err := s.ReservePost(ctx, author, "s3", t0.Add(time.Hour), day, 3)
	if !errors.As(err, &q) || !errors.Is(err, media.ErrQuota) || !q.RetryAt.Equal(t0.Add(day)) {
		t.Fatalf("4th post = %v, want a QuotaError until %s", err, t0.Add(day))
	}
	// Releasing a reservation (its story was never stored) gives it back.
	if err := s.ReleasePost(ctx, author, "s2", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.ReservePost(ctx, author, "s4", t0.Add(time.Hour), day, 3); err != nil {
		t.Fatalf("post after a release: %v", err)
	}
	if err := s.ReservePost(ctx, author, "s5", t0.Add(day-time.Millisecond), day, 3); !errors.As(err, &q) || !q.RetryAt.Equal(t0.Add(day)) {
		t.Fatalf("post just before the first one leaves the window = %v", err)
	}
	// At RetryAt the first post has left the window: one more is allowed.
	if err := s.ReservePost(ctx, author, "s6", t0.Add(day), day, 3); err != nil {
		t.Fatalf("post at RetryAt: %v", err)
	}
	if err := s.ReservePost(ctx, author, "s7", t0.Add(day), day, 3); !errors.As(err, &q) || !q.RetryAt.Equal(t0.Add(time.Minute+day)) {
		t.Fatalf("the next post = %v, want a QuotaError until %s", err, t0.Add(time.Minute+day))
	}
	if err := s.ReservePost(ctx, id(), "other", t0, day, 3); err != nil {
		t.Fatalf("another author's quota is their own: %v", err)
	}
}

// RacePosts has 24 posts by one author race for a quota of 10, spread over
// stores (standing for API processes): exactly 10 are reserved, and every
// other one is refused with ErrQuota.
func RacePosts(t *testing.T, stores ...media.Store) {
	t.Helper()
	ctx := context.Background()
	author, at := id(), now()
	errs := make([]error, 24)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = stores[i%len(stores)].ReservePost(ctx, author, fmt.Sprint("story", i), at.Add(time.Duration(i)*time.Millisecond), 24*time.Hour, 10)
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, media.ErrQuota):
			t.Fatalf("post %d: %v, want nil or ErrQuota", i, err)
		}
	}
	if ok != 10 {
		t.Fatalf("%d concurrent posts were reserved, want exactly 10", ok)
	}
	if err := stores[0].ReservePost(ctx, author, "late", at.Add(time.Second), 24*time.Hour, 10); !errors.Is(err, media.ErrQuota) {
		t.Fatalf("a post after the race = %v, want ErrQuota", err)
	}
}

func newStory(t *testing.T, s media.Store, posted time.Time, audience ...string) media.Story {
	t.Helper()
	st := media.Story{ID: id(), AuthorID: id(), UploadID: id(), Caption: "hi", PostedAt: posted, ExpiresAt: posted.Add(24 * time.Hour)}
	if err := s.PutStory(context.Background(), st, audience); err != nil {
		t.Fatal(err)
	}
	return st
}

func feedIDs(t *testing.T, s media.Store, viewer string) map[string]media.Story {
	t.Helper()
	sts, err := s.Feed(context.Background(), viewer)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]media.Story{}
	for _, st := range sts {
		out[st.ID] = st
	}
	return out
}

func testAudience(t *testing.T, s media.Store) {
	ctx := context.Background()
	b, c, stranger := id(), id(), id()
	st := newStory(t, s, now(), b, c)
	other := newStory(t, s, now(), c)
	got, err := s.Story(ctx, st.ID)
	if err != nil || !reflect.DeepEqual(got, st) {
		t.Fatalf("Story = %+v, %v; want %+v", got, err, st)
	}
	if _, err := s.Story(ctx, id()); !errors.Is(err, media.ErrNotFound) {
		t.Fatalf("unknown story: %v", err)
	}
	if f := feedIDs(t, s, b); len(f) != 1 || !reflect.DeepEqual(f[st.ID], st) {
		t.Fatalf("b's feed = %+v", f)
	}
	if f := feedIDs(t, s, c); len(f) != 2 {
		t.Fatalf("c's feed = %+v", f)
	}
	if f := feedIDs(t, s, stranger); len(f) != 0 {
		t.Fatalf("a stranger's feed = %+v", f)
	}
	for user, want := range map[string]bool{b: true, c: true, stranger: false} {
		if in, err := s.InAudience(ctx, st.ID, user); err != nil || in != want {
			t.Fatalf("InAudience(%s) = %v, %v; want %v", user, in, err, want)
		}
	}
	if _, err := s.AddView(ctx, st.ID, b, now()); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteStory(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Story(ctx, st.ID); !errors.Is(err, media.ErrNotFound) {
		t.Fatalf("deleted story: %v", err)
	}
	if f := feedIDs(t, s, c); len(f) != 1 || f[other.ID].ID != other.ID {
		t.Fatalf("c's feed after the delete = %+v", f)
	}
	if in, _ := s.InAudience(ctx, st.ID, b); in {
		t.Fatal("the audience outlived the story")
	}
	if n, _ := s.CountViews(ctx, st.ID); n != 0 {
		t.Fatal("the views outlived the story")
	}
}

func testViews(t *testing.T, s media.Store) {
	ctx := context.Background()
	b, c, d := id(), id(), id()
	t0 := now()
	st := newStory(t, s, t0, b, c, d)
	other := newStory(t, s, t0, b)
	for i, u := range []string{b, c, d} {
		if first, err := s.AddView(ctx, st.ID, u, t0.Add(time.Duration(i+1)*time.Second)); err != nil || !first {
			t.Fatalf("first view by %d = %v, %v", i, first, err)
		}
	}
	if first, err := s.AddView(ctx, st.ID, b, t0.Add(time.Minute)); err != nil || first {
		t.Fatalf("second view = %v, %v; want a no-op", first, err)
	}
	page, err := s.Views(ctx, st.ID, "", 2)
	if err != nil || len(page) != 2 || page[0].UserID != b || page[1].UserID != c || !page[0].At.Equal(t0.Add(time.Second)) {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	rest, err := s.Views(ctx, st.ID, page[1].Cursor, 2)
	if err != nil || len(rest) != 1 || rest[0].UserID != d {
		t.Fatalf("second page = %+v, %v", rest, err)
	}
	if _, err := s.Views(ctx, st.ID, "not a cursor", 2); !errors.Is(err, media.ErrBadCursor) {
		t.Fatalf("bad cursor: %v, want ErrBadCursor", err)
	}
	if n, err := s.CountViews(ctx, st.ID); err != nil || n != 3 {
		t.Fatalf("CountViews = %d, %v", n, err)
	}
	seen, err := s.Seen(ctx, b, []string{st.ID, other.ID})
	if err != nil || !seen[st.ID] || seen[other.ID] {
		t.Fatalf("Seen = %v, %v", seen, err)
	}
}

func testStoryReactions(t *testing.T, s media.Store) {
	ctx := context.Background()
	b, c := id(), id()
	t0 := now()
	st := newStory(t, s, t0, b, c)
	for i, r := range []struct {
		user, emoji string
		added       bool
	}{{b, "🔥", true}, {b, "🔥", false}, {c, "🔥", true}, {b, "👍", true}} {
		added, err := s.AddStoryReaction(ctx, st.ID, r.user, r.emoji, t0.Add(time.Duration(i)*time.Second))
		if err != nil || added != r.added {
			t.Fatalf("reaction %d = %v, %v; want %v", i, added, err, r.added)
		}
	}
	got, err := s.StoryReactions(ctx, st.ID, c)
	if err != nil {
		t.Fatal(err)
	}
	want := []media.ReactionCount{{Emoji: "🔥", Count: 2, FirstAt: t0, Mine: true}, {Emoji: "👍", Count: 1, FirstAt: t0.Add(3 * time.Second)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("StoryReactions = %+v, want %+v", got, want)
	}
}

func testExpiredStories(t *testing.T, s media.Store) {
	ctx := context.Background()
	t0 := now()
	expired := newStory(t, s, t0.Add(-25*time.Hour), id())
	deleted := newStory(t, s, t0.Add(-26*time.Hour), id())
	live := newStory(t, s, t0, id())
	if err := s.DeleteStory(ctx, deleted.ID); err != nil {
		t.Fatal(err)
	}
	listed := func() map[string]media.Story {
		sts, err := s.ExpiredStories(ctx, t0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]media.Story{}
		for _, st := range sts {
			out[st.ID] = st
		}
		return out
	}
	got := listed()
	e, ok := got[expired.ID]
	if !ok || e.UploadID != expired.UploadID || e.AuthorID != expired.AuthorID || !e.ExpiresAt.Equal(expired.ExpiresAt) {
		t.Fatalf("expired story listed as %+v (%v), want %+v", e, ok, expired)
	}
	if _, ok := got[deleted.ID]; !ok {
		t.Fatal("a deleted story's leftovers are not listed for the sweeper")
	}
	if _, ok := got[live.ID]; ok {
		t.Fatal("a live story is listed as expired")
	}
	for _, st := range []media.Story{expired, deleted} {
		if err := s.SweepStory(ctx, got[st.ID]); err != nil {
			t.Fatal(err)
		}
	}
	got = listed()
	if _, ok := got[expired.ID]; ok {
		t.Fatal("a swept story is still listed")
	}
	if _, err := s.Story(ctx, expired.ID); !errors.Is(err, media.ErrNotFound) {
		t.Fatalf("swept story: %v", err)
	}
	if _, err := s.Story(ctx, live.ID); err != nil {
		t.Fatalf("the live story was swept too: %v", err)
	}
}

func testPostedSince(t *testing.T, s media.Store) {
	ctx := context.Background()
	author, day := id(), 24*time.Hour
	t0 := now()
	for i, at := range []time.Time{t0.Add(-2 * time.Hour), t0.Add(-time.Hour), t0} {
		if err := s.ReservePost(ctx, author, fmt.Sprint("p", i), at, day, 10); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	if err := s.ReservePost(ctx, id(), "someone-else", t0, day, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleasePost(ctx, author, "p2", t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.PostedSince(ctx, author, t0.Add(-90*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "p1" {
		t.Fatalf("PostedSince(90 min ago) = %v, want [p1]: p0 is older, p2 was released, the other author's is theirs", got)
	}
	if got, err := s.PostedSince(ctx, author, t0.Add(-day)); err != nil || len(got) != 2 {
		t.Fatalf("PostedSince(a day ago) = %v %v, want p0 and p1", got, err)
	}
}
