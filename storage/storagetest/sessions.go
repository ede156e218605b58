package storagetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"messenger/storage"
)

func mustSession(t *testing.T, s storage.Store, userID string, created time.Time) storage.Session {
	t.Helper()
	ses := storage.Session{ID: id(), UserID: userID, DeviceName: "Pixel 8", Platform: "android", IP: "203.0.113.7",
		CreatedAt: created, LastSeenAt: created}
	if err := s.CreateSession(context.Background(), ses); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return ses
}

// testSessions: a session reads back as written, is listed oldest first
// among its user's only, and is gone once deleted (deleting twice is fine).
func testSessions(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u, other := mustUser(t, s), mustUser(t, s)
	if got, err := s.UserSessions(ctx, u.ID); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("no sessions: %v %v, want an empty slice", got, err)
	}
	t0 := now()
	b := mustSession(t, s, u.ID, t0.Add(time.Second))
	a := mustSession(t, s, u.ID, t0)
	mustSession(t, s, other.ID, t0)
	got, err := s.Session(ctx, u.ID, a.ID)
	if err != nil || got != a {
		t.Fatalf("Session = %+v, %v; want %+v", got, err, a)
	}
	list, err := s.UserSessions(ctx, u.ID)
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("UserSessions = %+v, %v; want a then b", list, err)
	}
	if _, err := s.Session(ctx, other.ID, a.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("another user's session: %v, want ErrNotFound", err)
	}
	for range 2 {
		if err := s.DeleteSession(ctx, u.ID, a.ID); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
	}
	if _, err := s.Session(ctx, u.ID, a.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleted session: %v, want ErrNotFound", err)
	}
	if list, _ := s.UserSessions(ctx, u.ID); len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("after delete: %+v, want only b", list)
	}
}

// testSessionRotation: a rotation moves the generation by one only from
// the expected one; of concurrent rotations from the same generation
// exactly one wins; a deleted session cannot be rotated (nor revived).
func testSessionRotation(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u := mustUser(t, s)
	ses := mustSession(t, s, u.ID, now())
	later := now().Add(time.Minute)
	if ok, err := s.RotateSession(ctx, u.ID, ses.ID, 0, later); err != nil || !ok {
		t.Fatalf("rotate 0->1: %v %v", ok, err)
	}
	if ok, err := s.RotateSession(ctx, u.ID, ses.ID, 0, later); err != nil || ok {
		t.Fatalf("rotate a stale generation: %v %v, want false", ok, err)
	}
	got, _ := s.Session(ctx, u.ID, ses.ID)
	if got.RefreshGen != 1 || !got.LastSeenAt.Equal(later) {
		t.Fatalf("after rotation: %+v", got)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.RotateSession(ctx, u.ID, ses.ID, 1, later)
			if err != nil {
				t.Errorf("concurrent rotate: %v", err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent rotations won, want 1", wins.Load())
	}
	if err := s.DeleteSession(ctx, u.ID, ses.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotateSession(ctx, u.ID, ses.ID, 2, later); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("rotate a deleted session: %v, want ErrNotFound", err)
	}
	if _, err := s.Session(ctx, u.ID, ses.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a rotation revived a deleted session: %v", err)
	}
}

// testPasswordChange: the new hash reads back; an unknown user is
// ErrNotFound and nothing is created.
func testPasswordChange(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u := mustUser(t, s)
	if err := s.SetPasswordHash(ctx, u.ID, "new-hash"); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByUsername(ctx, u.UsernameKey)
	if err != nil || got.PasswordHash != "new-hash" || got.DisplayName != u.DisplayName {
		t.Fatalf("after SetPasswordHash: %+v %v", got, err)
	}
	ghost := id()
	if err := s.SetPasswordHash(ctx, ghost, "x"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown user: %v, want ErrNotFound", err)
	}
	if us, _ := s.Users(ctx, []string{ghost}); len(us) != 0 {
		t.Fatalf("SetPasswordHash created a user: %+v", us)
	}
}
