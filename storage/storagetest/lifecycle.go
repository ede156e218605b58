package storagetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"messenger/storage"
)

func testBanAndTombstone(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u := mustUser(t, s)
	at := now()
	if err := s.SetUserBanned(ctx, u.ID, at); err != nil {
		t.Fatalf("SetUserBanned: %v", err)
	}
	got := mustLoadUser(t, s, u.ID)
	if !got.BannedAt.Equal(at) || !got.DeletedAt.IsZero() {
		t.Fatalf("after ban: BannedAt %v DeletedAt %v, want %v and zero", got.BannedAt, got.DeletedAt, at)
	}
	if err := s.SetUserBanned(ctx, u.ID, time.Time{}); err != nil {
		t.Fatalf("unban: %v", err)
	}
	if got := mustLoadUser(t, s, u.ID); !got.BannedAt.IsZero() {
		t.Fatalf("after unban: BannedAt %v", got.BannedAt)
	}
	if err := s.SetUserBanned(ctx, id(), at); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("ban of an unknown user: %v, want ErrNotFound", err)
	}

	if err := s.TombstoneUser(ctx, u.ID, at); err != nil {
		t.Fatalf("TombstoneUser: %v", err)
	}
	if err := s.TombstoneUser(ctx, u.ID, at.Add(time.Hour)); err != nil {
		t.Fatalf("TombstoneUser again: %v", err)
	}
	got = mustLoadUser(t, s, u.ID)
	if !got.DeletedAt.Equal(at) || got.DisplayName != storage.DeletedDisplayName || got.PasswordHash != "" || got.Username != storage.DeletedUsername || got.UsernameKey != u.UsernameKey {
		t.Fatalf("tombstone: %+v", got)
	}
	if byName, err := s.UserByUsername(ctx, u.UsernameKey); err != nil || byName.ID != u.ID {
		t.Fatalf("the username is released before ReleaseUsername: %+v %v", byName, err)
	}
	if err := s.TombstoneUser(ctx, id(), at); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("tombstone of an unknown user: %v, want ErrNotFound", err)
	}
}

func testReleaseUsername(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u := mustUser(t, s)
	if err := s.ReleaseUsername(ctx, u.UsernameKey, id()); err != nil {
		t.Fatalf("ReleaseUsername by someone else: %v", err)
	}
	if _, err := s.UserByUsername(ctx, u.UsernameKey); err != nil {
		t.Fatalf("a claim of another user was released: %v", err)
	}
	for range 2 {
		if err := s.ReleaseUsername(ctx, u.UsernameKey, u.ID); err != nil {
			t.Fatalf("ReleaseUsername: %v", err)
		}
	}
	if _, err := s.UserByUsername(ctx, u.UsernameKey); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("released username still found: %v", err)
	}
	again := storage.User{ID: id(), Username: u.Username, UsernameKey: u.UsernameKey, DisplayName: "New", PasswordHash: "h", CreatedAt: now()}
	if err := s.CreateUser(ctx, again); err != nil {
		t.Fatalf("sign-up with a released username: %v", err)
	}
}

func newJob(userID string, kind storage.JobKind) storage.Job {
	return storage.Job{ID: id(), UserID: userID, Kind: kind, CreatedAt: now(), UpdatedAt: now()}
}

func testOneUnfinishedJobPerUserAndKind(t *testing.T, s storage.Store) {
	ctx := context.Background()
	user := id()
	jobs := make([]storage.Job, 8)
	created := make([]bool, len(jobs))
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			jobs[i], created[i], err = s.CreateJob(ctx, newJob(user, storage.JobExport))
			if err != nil {
				t.Errorf("CreateJob: %v", err)
			}
		}()
	}
	wg.Wait()
	winners := 0
	for i := range jobs {
		if created[i] {
			winners++
		}
		if jobs[i].ID != jobs[0].ID {
			t.Fatalf("concurrent creators got different jobs: %s and %s", jobs[0].ID, jobs[i].ID)
		}
	}
	if winners != 1 {
		t.Fatalf("%d creators created a job, want 1", winners)
	}
	first := jobs[0]
	if first.State != storage.JobPending {
		t.Fatalf("a new job is %s, want PENDING", first.State)
	}
	if _, created, err := s.CreateJob(ctx, newJob(user, storage.JobDeleteAccount)); err != nil || !created {
		t.Fatalf("a job of another kind: created %v, %v", created, err)
	}
	if latest, err := s.LatestJob(ctx, user, storage.JobExport); err != nil || latest.ID != first.ID {
		t.Fatalf("LatestJob: %+v %v", latest, err)
	}

	first.State, first.FinishedAt, first.BlobKey, first.Progress, first.Attempts = storage.JobDone, now(), "exports/x.zip", "done", 2
	if err := s.UpdateJob(ctx, first); err != nil {
		t.Fatalf("UpdateJob: %v", err)
	}
	got, err := s.Job(ctx, first.ID)
	if err != nil || got.State != storage.JobDone || got.BlobKey != "exports/x.zip" || got.Progress != "done" || got.Attempts != 2 ||
		!got.FinishedAt.Equal(first.FinishedAt) || got.UserID != user || got.Kind != storage.JobExport {
		t.Fatalf("Job after update: %+v %v", got, err)
	}
	next, created2, err := s.CreateJob(ctx, newJob(user, storage.JobExport))
	if err != nil || !created2 || next.ID == first.ID {
		t.Fatalf("after the first finished, a new job: %+v created %v %v", next, created2, err)
	}
	if latest, err := s.LatestJob(ctx, user, storage.JobExport); err != nil || latest.ID != next.ID {
		t.Fatalf("LatestJob after a second: %+v %v", latest, err)
	}
	if _, err := s.LatestJob(ctx, id(), storage.JobExport); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("LatestJob of a user without jobs: %v", err)
	}
	if err := s.UpdateJob(ctx, newJob(user, storage.JobExport)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdateJob of an unknown job: %v", err)
	}
	if _, err := s.Job(ctx, id()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Job of an unknown id: %v", err)
	}
}

func testUnfinishedJobsAreListedUntilFinished(t *testing.T, s storage.Store) {
	ctx := context.Background()
	j, _, err := s.CreateJob(ctx, newJob(id(), storage.JobDeleteAccount))
	if err != nil {
		t.Fatal(err)
	}
	listed := func() bool {
		open, err := s.UnfinishedJobs(ctx, 10000)
		if err != nil {
			t.Fatalf("UnfinishedJobs: %v", err)
		}
		for _, o := range open {
			if o.ID == j.ID {
				return true
			}
		}
		return false
	}
	if !listed() {
		t.Fatal("a pending job is not listed")
	}
	j.State, j.Progress = storage.JobRunning, "step 1"
	if err := s.UpdateJob(ctx, j); err != nil || !listed() {
		t.Fatalf("a running job is not listed (%v)", err)
	}
	j.State, j.Error, j.FinishedAt = storage.JobFailed, "boom", now()
	if err := s.UpdateJob(ctx, j); err != nil || listed() {
		t.Fatalf("a failed job is still listed (%v)", err)
	}
}

func testJobLeases(t *testing.T, s storage.Store) {
	ctx := context.Background()
	j, _, err := s.CreateJob(ctx, newJob(id(), storage.JobExport))
	if err != nil {
		t.Fatal(err)
	}
	t0 := now()
	owners := []string{"a", "b", "c", "d"}
	won := make([]bool, len(owners))
	var wg sync.WaitGroup
	for i, o := range owners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error // each claimer its own: they run at once
			won[i], err = s.ClaimJob(ctx, j.ID, o, t0, t0.Add(time.Minute))
			if err != nil {
				t.Errorf("ClaimJob: %v", err)
			}
		}()
	}
	wg.Wait()
	holder := ""
	for i, w := range won {
		if w {
			if holder != "" {
				t.Fatalf("%s and %s both hold the lease", holder, owners[i])
			}
			holder = owners[i]
		}
	}
	if holder == "" {
		t.Fatal("nobody got the lease")
	}
	if ok, err := s.ClaimJob(ctx, j.ID, holder, t0.Add(time.Second), t0.Add(2*time.Minute)); err != nil || !ok {
		t.Fatalf("renewal by the holder: %v %v", ok, err)
	}
	other := "z"
	if ok, err := s.ClaimJob(ctx, j.ID, other, t0.Add(time.Minute), t0.Add(3*time.Minute)); err != nil || ok {
		t.Fatalf("takeover of a renewed lease: %v %v", ok, err)
	}
	if ok, err := s.ClaimJob(ctx, j.ID, other, t0.Add(2*time.Minute), t0.Add(3*time.Minute)); err != nil || !ok {
		t.Fatalf("takeover of an ended lease: %v %v", ok, err)
	}
	if ok, err := s.ClaimJob(ctx, id(), other, t0, t0.Add(time.Minute)); err != nil || ok {
		t.Fatalf("claim of an unknown job: %v %v", ok, err)
	}
}

func mustLoadUser(t *testing.T, s storage.Store, userID string) storage.User {
	t.Helper()
	us, err := s.Users(context.Background(), []string{userID})
	if err != nil || us[userID].ID == "" {
		t.Fatalf("Users(%s): %v %v", userID, us, err)
	}
	return us[userID]
}
