package mediatest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/media"
)

// StoreFactory returns a media.Store for one test; closing it is the
// factory's job (t.Cleanup).
type StoreFactory func(t *testing.T) media.Store

// RunStore is the contract suite every media.Store passes. It uses only the
// interface, and every test makes its own random ids, so backends may share
// one server (one keyspace) between tests.
func RunStore(t *testing.T, newStore StoreFactory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s media.Store)
	}{
		{"UploadsRoundTrip", testUploadsRoundTrip},
		{"ClaimIsAllOrNone", testClaimAllOrNone},
		{"ClaimIsExclusiveUnderConcurrency", func(t *testing.T, s media.Store) { RaceClaims(t, s) }},
		{"AttachmentsKeepOrderAndComeInOneCall", testAttachments},
		{"StaleUploadsAreOldAndUnclaimed", testStaleUploads},
		{"QuotaCountsARollingWindow", testQuotaWindow},
		{"QuotaHoldsUnderConcurrentPosts", func(t *testing.T, s media.Store) { RacePosts(t, s) }},
		{"PostedSinceListsAnAuthorsPostsInTheWindow", testPostedSince},
		{"StoriesReachTheirAudienceOnly", testAudience},
		{"ViewsAreRecordedOnceAndPaged", testViews},
		{"StoryReactionsCountPerEmoji", testStoryReactions},
		{"ExpiredStoriesAreListedUntilSwept", testExpiredStories},
		{"ThumbnailJobsArePendingUntilTheirResult", testThumbnailJobs},
		{"DroppedThumbnailJobsAreGone", testThumbnailJobDrop},
		{"WaveformsAreKeptBesideTheirUploads", testWaveforms},
		{"MultipartsRoundTrip", testMultipartsRoundTrip},
		{"StaleMultipartsAreOldAndListedUntilDeleted", testStaleMultiparts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func id() string { return uuid.NewString() }

// now is truncated to milliseconds: the precision every backend keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func newUpload(t *testing.T, s media.Store, owner string, created time.Time) media.Upload {
	t.Helper()
	u := media.Upload{ID: id(), OwnerID: owner, Filename: "photo.png", Kind: media.Image, ContentType: "image/png",
		Width: 7, Height: 5, Size: 1234, Ready: true, CreatedAt: created}
	if err := s.PutUpload(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func claims(t *testing.T, s media.Store, ids ...string) []string {
	t.Helper()
	us, err := s.Uploads(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = us[id].Claim
	}
	return out
}

func testUploadsRoundTrip(t *testing.T, s media.Store) {
	ctx := context.Background()
	v := media.Upload{ID: id(), OwnerID: id(), Filename: "clip.mp4", Kind: media.Video, ContentType: "video/mp4",
		Duration: 12500 * time.Millisecond, Size: 99, Ready: true, CreatedAt: now()}
	if err := s.PutUpload(ctx, v); err != nil {
		t.Fatal(err)
	}
	slot := media.Upload{ID: id(), OwnerID: v.OwnerID, Filename: "later.pdf", Size: 500, CreatedAt: now()}
	if err := s.PutUpload(ctx, slot); err != nil {
		t.Fatal(err)
	}
	got, err := s.Uploads(ctx, []string{v.ID, slot.ID, id()})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !reflect.DeepEqual(got[v.ID], v) || !reflect.DeepEqual(got[slot.ID], slot) {
		t.Fatalf("Uploads = %+v\nwant %+v and %+v", got, v, slot)
	}
	// Confirming replaces the description but keeps a claim.
	if err := s.Claim(ctx, []string{slot.ID}, "m:c|u|1"); err != nil {
		t.Fatal(err)
	}
	slot.Ready, slot.Kind, slot.ContentType, slot.Size = true, media.Document, "application/pdf", 480
	if err := s.PutUpload(ctx, slot); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Uploads(ctx, []string{slot.ID})
	slot.Claim = "m:c|u|1"
	if !reflect.DeepEqual(got[slot.ID], slot) {
		t.Fatalf("after replace: %+v, want %+v", got[slot.ID], slot)
	}
	if err := s.DeleteUpload(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUpload(ctx, v.ID); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if got, _ := s.Uploads(ctx, []string{v.ID}); len(got) != 0 {
		t.Fatalf("deleted upload still there: %+v", got)
	}
}

func testClaimAllOrNone(t *testing.T, s media.Store) {
	ctx := context.Background()
	owner := id()
	a, b, c := newUpload(t, s, owner, now()), newUpload(t, s, owner, now()), newUpload(t, s, owner, now())
	if err := s.Claim(ctx, []string{a.ID, id()}, "m:1"); !errors.Is(err, media.ErrNotFound) {
		t.Fatalf("claim with a missing upload = %v, want ErrNotFound", err)
	}
	if err := s.Claim(ctx, []string{b.ID}, "s:story"); err != nil {
		t.Fatal(err)
	}
	if err := s.Claim(ctx, []string{a.ID, b.ID, c.ID}, "m:2"); !errors.Is(err, media.ErrClaimed) {
		t.Fatalf("claim over someone else's = %v, want ErrClaimed", err)
	}
	if got := claims(t, s, a.ID, b.ID, c.ID); !reflect.DeepEqual(got, []string{"", "s:story", ""}) {
		t.Fatalf("claims after refused claims = %q: a refused claim changed something", got)
	}
	if err := s.Claim(ctx, []string{c.ID, a.ID}, "m:3"); err != nil {
		t.Fatal(err)
	}
	if err := s.Claim(ctx, []string{a.ID, c.ID}, "m:3"); err != nil {
		t.Fatalf("a retried claim = %v, want nil", err)
	}
	if got := claims(t, s, a.ID, c.ID); !reflect.DeepEqual(got, []string{"m:3", "m:3"}) {
		t.Fatalf("claims = %q", got)
	}
}

// RaceClaims has 8 claimants race for the same three uploads, and 8 more
// for one shared upload plus one of their own each, spread over stores
// (several stores sharing one backend stand for several API processes).
// Exactly one claimant wins each race, and the losers change nothing.
func RaceClaims(t *testing.T, stores ...media.Store) {
	t.Helper()
	ctx := context.Background()
	owner := id()
	s := stores[0]
	var shared []string
	for range 3 {
		shared = append(shared, newUpload(t, s, owner, now()).ID)
	}
	race := func(n int, ids func(i int) []string) []error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = stores[i%len(stores)].Claim(ctx, ids(i), fmt.Sprintf("m:claimant%d", i))
			}()
		}
		wg.Wait()
		return errs
	}
	winner := func(errs []error) int {
		w := -1
		for i, err := range errs {
			switch {
			case err == nil && w >= 0:
				t.Fatalf("claimants %d and %d both won", w, i)
			case err == nil:
				w = i
			case !errors.Is(err, media.ErrClaimed):
				t.Fatalf("claimant %d: %v, want ErrClaimed", i, err)
			}
		}
		if w < 0 {
			t.Fatal("nobody won the claim")
		}
		return w
	}
	errs := race(8, func(i int) []string {
		if i%2 == 1 { // another order
			return []string{shared[2], shared[0], shared[1]}
		}
		return shared
	})
	w := fmt.Sprintf("m:claimant%d", winner(errs))
	if got := claims(t, s, shared...); !reflect.DeepEqual(got, []string{w, w, w}) {
		t.Fatalf("claims = %q, want all %q", got, w)
	}

	one := newUpload(t, s, owner, now()).ID
	own := make([]string, 8)
	for i := range own {
		own[i] = newUpload(t, s, owner, now()).ID
	}
	errs = race(8, func(i int) []string { return []string{own[i], one} })
	wi := winner(errs)
	got := claims(t, s, own...)
	for i, c := range got {
		if want := map[bool]string{true: fmt.Sprintf("m:claimant%d", wi), false: ""}[i == wi]; c != want {
			t.Fatalf("claimant %d's own upload has claim %q, want %q", i, c, want)
		}
	}
}

func testAttachments(t *testing.T, s media.Store) {
	ctx := context.Background()
	owner := id()
	a, b := newUpload(t, s, owner, now()), newUpload(t, s, owner, now())
	m1, m2 := id(), id()
	if err := s.Claim(ctx, []string{a.ID, b.ID}, "m:x"); err != nil {
		t.Fatal(err)
	}
	if err := s.Attach(ctx, m1, []string{b.ID, a.ID}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Attachments(ctx, []string{m1, m2})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{m1: {b.ID, a.ID}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Attachments = %v, want %v", got, want)
	}
	us, _ := s.Uploads(ctx, []string{a.ID, b.ID})
	if us[a.ID].MessageID != m1 || us[b.ID].MessageID != m1 {
		t.Fatalf("uploads not bound to the message: %+v", us)
	}
	if got, err := s.Attachments(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("Attachments(none) = %v, %v", got, err)
	}
}

func testStaleUploads(t *testing.T, s media.Store) {
	ctx := context.Background()
	owner := id()
	t0 := now()
	old := newUpload(t, s, owner, t0.Add(-48*time.Hour))
	oldUsed := newUpload(t, s, owner, t0.Add(-47*time.Hour))
	fresh := newUpload(t, s, owner, t0.Add(-time.Hour))
	if err := s.Claim(ctx, []string{oldUsed.ID}, "m:used"); err != nil {
		t.Fatal(err)
	}
	listed := func() map[string]bool {
		us, err := s.StaleUploads(ctx, t0.Add(-24*time.Hour), 1000)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, u := range us {
			out[u.ID] = true
		}
		return out
	}
	got := listed()
	if !got[old.ID] || got[oldUsed.ID] || got[fresh.ID] {
		t.Fatalf("stale = %v; want the old unclaimed %s only (not claimed %s, not fresh %s)", got, old.ID, oldUsed.ID, fresh.ID)
	}
	if !listed()[old.ID] {
		t.Fatal("an upload listed but not removed is not listed again")
	}
	if err := s.DeleteUpload(ctx, old.ID); err != nil {
		t.Fatal(err)
	}
	if listed()[old.ID] {
		t.Fatal("a removed upload is still listed")
	}
	if us, _ := s.Uploads(ctx, []string{oldUsed.ID}); us[oldUsed.ID].Claim != "m:used" {
		t.Fatal("the sweep's listing touched a claimed upload")
	}
}
