package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"messenger/storage"
)

func mustInvite(t *testing.T, s storage.Store, conv, by string, maxUses int, expires time.Time) storage.InviteLink {
	t.Helper()
	l := storage.InviteLink{Code: "code-" + id(), CodeHash: "hash-" + id(), ConversationID: conv, CreatedBy: by, CreatedAt: now(), ExpiresAt: expires, MaxUses: maxUses}
	if err := s.CreateInviteLink(context.Background(), l); err != nil {
		t.Fatalf("CreateInviteLink: %v", err)
	}
	return l
}

func testInviteLinks(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a := mustUser(t, s)
	c := mustGroup(t, s, a.ID)
	first := mustInvite(t, s, c.ID, a.ID, 0, time.Time{})
	time.Sleep(2 * time.Millisecond)
	second := mustInvite(t, s, c.ID, a.ID, 2, now().Add(time.Hour))
	dup := second
	dup.Code = "other"
	if err := s.CreateInviteLink(ctx, dup); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("second link with the same hash: err=%v, want ErrConflict", err)
	}
	got, err := s.InviteLink(ctx, second.CodeHash)
	if err != nil || got.Code != second.Code || got.MaxUses != 2 || !got.ExpiresAt.Equal(second.ExpiresAt) || !got.RevokedAt.IsZero() {
		t.Fatalf("InviteLink = %+v, %v", got, err)
	}
	if _, err := s.InviteLink(ctx, "nope-"+id()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown link: err=%v", err)
	}
	list, err := s.InviteLinks(ctx, c.ID)
	if err != nil || len(list) != 2 || list[0].CodeHash != second.CodeHash || list[1].CodeHash != first.CodeHash {
		t.Fatalf("InviteLinks = %+v, %v (want newest first)", list, err)
	}
	for i := range 2 {
		if l, err := s.UseInviteLink(ctx, second.CodeHash, now()); err != nil || l.Uses != i+1 {
			t.Fatalf("use %d: %+v, %v", i, l, err)
		}
	}
	if _, err := s.UseInviteLink(ctx, second.CodeHash, now()); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("use beyond maxUses: err=%v, want ErrConflict", err)
	}
	if _, err := s.UseInviteLink(ctx, "nope-"+id(), now()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("use of an unknown link: err=%v", err)
	}
	expired := mustInvite(t, s, c.ID, a.ID, 0, now().Add(-time.Second))
	if _, err := s.UseInviteLink(ctx, expired.CodeHash, now()); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("use of an expired link: err=%v", err)
	}
	revokedAt := now()
	if err := s.RevokeInviteLink(ctx, first.CodeHash, revokedAt); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeInviteLink(ctx, first.CodeHash, revokedAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.InviteLink(ctx, first.CodeHash); !got.RevokedAt.Equal(revokedAt) {
		t.Fatalf("revoked at %v, want the first revocation %v", got.RevokedAt, revokedAt)
	}
	if _, err := s.UseInviteLink(ctx, first.CodeHash, now()); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("use of a revoked link: err=%v", err)
	}
	if err := s.RevokeInviteLink(ctx, "nope-"+id(), now()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("revoke unknown: err=%v", err)
	}
}

func testInviteMaxUsesUnderConcurrency(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a := mustUser(t, s)
	c := mustGroup(t, s, a.ID)
	const maxUses, callers = 5, 20
	l := mustInvite(t, s, c.ID, a.ID, maxUses, time.Time{})
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UseInviteLink(ctx, l.CodeHash, now())
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, storage.ErrConflict):
				refused.Add(1)
			default:
				t.Errorf("UseInviteLink: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != maxUses || refused.Load() != callers-maxUses {
		t.Fatalf("%d uses and %d refusals, want %d and %d", ok.Load(), refused.Load(), maxUses, callers-maxUses)
	}
	if got, _ := s.InviteLink(ctx, l.CodeHash); got.Uses != maxUses {
		t.Fatalf("uses = %d, want %d", got.Uses, maxUses)
	}
}

func testJoinRequests(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b, d := mustUser(t, s), mustUser(t, s), mustUser(t, s)
	c := mustGroup(t, s, a.ID)
	for _, u := range []string{b.ID, d.ID, b.ID} {
		if err := s.PutJoinRequest(ctx, storage.JoinRequest{ConversationID: c.ID, UserID: u, CodeHash: "h", At: now()}); err != nil {
			t.Fatal(err)
		}
	}
	reqs, err := s.JoinRequests(ctx, c.ID, "", 0)
	if err != nil || len(reqs) != 2 || reqs[0].UserID > reqs[1].UserID {
		t.Fatalf("JoinRequests = %+v, %v", reqs, err)
	}
	page, _ := s.JoinRequests(ctx, c.ID, reqs[0].UserID, 1)
	if len(page) != 1 || page[0].UserID != reqs[1].UserID {
		t.Fatalf("second page = %+v", page)
	}
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.TakeJoinRequest(ctx, c.ID, b.ID)
			if err == nil && r.UserID == b.ID && r.CodeHash == "h" {
				won.Add(1)
			} else if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("TakeJoinRequest: %+v, %v", r, err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d takers got the request, want exactly 1", won.Load())
	}
	if reqs, _ := s.JoinRequests(ctx, c.ID, "", 0); len(reqs) != 1 || reqs[0].UserID != d.ID {
		t.Fatalf("after the take: %+v", reqs)
	}
}

func testBans(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b, d := mustUser(t, s), mustUser(t, s), mustUser(t, s)
	c := mustGroup(t, s, a.ID)
	until := now().Add(time.Hour)
	if err := s.PutBan(ctx, storage.Ban{ConversationID: c.ID, UserID: b.ID, BannedBy: a.ID, At: now(), Until: until}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutBan(ctx, storage.Ban{ConversationID: c.ID, UserID: d.ID, BannedBy: a.ID, At: now()}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Ban(ctx, c.ID, b.ID)
	if err != nil || got.BannedBy != a.ID || !got.Until.Equal(until) {
		t.Fatalf("Ban = %+v, %v", got, err)
	}
	if got, _ := s.Ban(ctx, c.ID, d.ID); !got.Until.IsZero() {
		t.Fatalf("a ban for good has Until %v", got.Until)
	}
	if _, err := s.Ban(ctx, c.ID, a.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("no ban: err=%v", err)
	}
	bans, err := s.Bans(ctx, c.ID, "", 0)
	if err != nil || len(bans) != 2 || bans[0].UserID > bans[1].UserID {
		t.Fatalf("Bans = %+v, %v", bans, err)
	}
	if page, _ := s.Bans(ctx, c.ID, bans[0].UserID, 5); len(page) != 1 || page[0].UserID != bans[1].UserID {
		t.Fatalf("Bans after = %+v", page)
	}
	if err := s.DeleteBan(ctx, c.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBan(ctx, c.ID, b.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second unban: err=%v", err)
	}
	if _, err := s.Ban(ctx, c.ID, b.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unbanned still banned: %v", err)
	}
}

func testModerationSettingsAndSlowMode(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a := mustUser(t, s)
	c := mustGroup(t, s, a.ID)
	if m, err := s.ModerationSettings(ctx, c.ID); err != nil || m != (storage.ModerationSettings{}) {
		t.Fatalf("fresh settings = %+v, %v", m, err)
	}
	secs, on := 30, true
	if err := s.UpdateModerationSettings(ctx, c.ID, storage.ModerationSettingsPatch{SlowModeSeconds: &secs}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateModerationSettings(ctx, c.ID, storage.ModerationSettingsPatch{AnnouncementOnly: &on}); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.ModerationSettings(ctx, c.ID); m.SlowModeSeconds != 30 || !m.AnnouncementOnly {
		t.Fatalf("settings = %+v: a patch undid the other", m)
	}
	t0 := now()
	if retry, err := s.TakeSlowModeTurn(ctx, c.ID, a.ID, t0, 30*time.Second); err != nil || !retry.IsZero() {
		t.Fatalf("first turn: retry=%v err=%v", retry, err)
	}
	if retry, err := s.TakeSlowModeTurn(ctx, c.ID, a.ID, t0.Add(10*time.Second), 30*time.Second); err != nil || !retry.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("early turn: retry=%v err=%v, want %v", retry, err, t0.Add(30*time.Second))
	}
	if retry, err := s.TakeSlowModeTurn(ctx, c.ID, a.ID, t0.Add(30*time.Second), 30*time.Second); err != nil || !retry.IsZero() {
		t.Fatalf("turn after the interval: retry=%v err=%v", retry, err)
	}
	// Concurrent turns of one member: one wins.
	var won atomic.Int32
	var wg sync.WaitGroup
	at := t0.Add(time.Hour)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			retry, err := s.TakeSlowModeTurn(ctx, c.ID, a.ID, at, 30*time.Second)
			if err != nil {
				t.Errorf("TakeSlowModeTurn: %v", err)
			} else if retry.IsZero() {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d concurrent turns won, want 1", won.Load())
	}
}

func testModeratorDeletionsAndLog(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a := mustUser(t, s)
	c := mustGroup(t, s, a.ID)
	if err := s.RecordModeratorDeletion(ctx, c.ID, 3, a.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.ModeratorDeletions(ctx, c.ID, []int64{1, 3})
	if err != nil || len(got) != 1 || got[3] != a.ID {
		t.Fatalf("ModeratorDeletions = %v, %v", got, err)
	}
	for i := range 5 {
		e := storage.ModerationEntry{ID: fmt.Sprintf("%016x-x", i), ConversationID: c.ID, At: now(), ActorID: a.ID, Action: "BAN", TargetUserID: "u", Detail: fmt.Sprint(i)}
		if err := s.AppendModerationLog(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.ModerationLog(ctx, c.ID, "", 3)
	if err != nil || len(page) != 3 || page[0].Detail != "4" || page[2].Detail != "2" || page[0].ActorID != a.ID {
		t.Fatalf("newest page = %+v, %v", page, err)
	}
	rest, err := s.ModerationLog(ctx, c.ID, page[2].ID, 10)
	if err != nil || len(rest) != 2 || rest[0].Detail != "1" || rest[1].Detail != "0" {
		t.Fatalf("older page = %+v, %v", rest, err)
	}
}
