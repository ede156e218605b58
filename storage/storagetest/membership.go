package storagetest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"messenger/storage"
)

func testMemberStates(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := mustUser(t, s), mustUser(t, s)
	c1 := mustGroup(t, s, a.ID, b.ID)
	c2 := mustGroup(t, s, a.ID)
	outsider := mustUser(t, s)

	st, err := s.MemberState(ctx, c1.ID, a.ID)
	if err != nil || st != (storage.MemberState{ConversationID: c1.ID}) {
		t.Fatalf("untouched state = %+v, %v; want the zero state", st, err)
	}
	until := now().Add(time.Hour)
	want := storage.MemberState{ConversationID: c1.ID, Archived: true, ArchivedSeq: 3, PinnedAt: now(),
		MutedUntil: until, NotificationLevel: storage.NotifyMentions, UnreadMark: 2}
	if err := s.SetMemberState(ctx, a.ID, want); err != nil {
		t.Fatal(err)
	}
	forever := storage.MemberState{ConversationID: c2.ID, MutedUntil: storage.MutedForever}
	if err := s.SetMemberState(ctx, a.ID, forever); err != nil {
		t.Fatal(err)
	}
	if got, err := s.MemberState(ctx, c1.ID, a.ID); err != nil || got != want {
		t.Fatalf("MemberState = %+v, %v; want %+v", got, err, want)
	}
	all, err := s.MemberStates(ctx, a.ID)
	if err != nil || len(all) != 2 || all[c1.ID] != want || all[c2.ID] != forever {
		t.Fatalf("MemberStates = %+v, %v", all, err)
	}
	// The membership carries mute and level; the other member's does not.
	m, err := s.Member(ctx, c1.ID, a.ID)
	if err != nil || !m.MutedUntil.Equal(until) || m.NotificationLevel != storage.NotifyMentions {
		t.Fatalf("Member = %+v, %v; want mute and level copied", m, err)
	}
	ms, err := s.Members(ctx, c1.ID, "", 0)
	if err != nil || len(ms) != 2 {
		t.Fatalf("Members = %v, %v", ms, err)
	}
	for _, m := range ms {
		if m.UserID == b.ID && (!m.MutedUntil.IsZero() || m.NotificationLevel != "") {
			t.Fatalf("b's membership shows a's state: %+v", m)
		}
	}
	if other, err := s.MemberStates(ctx, b.ID); err != nil || len(other) != 0 {
		t.Fatalf("b's states = %+v, %v; want none", other, err)
	}
	// Unmuting clears the copy too.
	if err := s.SetMemberState(ctx, a.ID, storage.MemberState{ConversationID: c1.ID}); err != nil {
		t.Fatal(err)
	}
	if m, err := s.Member(ctx, c1.ID, a.ID); err != nil || !m.MutedUntil.IsZero() || m.NotificationLevel != "" {
		t.Fatalf("after reset Member = %+v, %v", m, err)
	}
	if err := s.SetMemberState(ctx, outsider.ID, want); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("SetMemberState by a non-member err = %v, want ErrNotFound", err)
	}
	if got, _ := s.MemberStates(ctx, outsider.ID); len(got) != 0 {
		t.Fatalf("a refused state was written: %+v", got)
	}
}

func testDrafts(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := mustUser(t, s), mustUser(t, s)
	c := mustGroup(t, s, a.ID, b.ID)
	d := storage.Draft{ConversationID: c.ID, Body: "half a thought", UpdatedAt: now()}
	if err := s.SaveDraft(ctx, a.ID, d); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Drafts(ctx, a.ID); err != nil || len(got) != 1 || got[c.ID] != d {
		t.Fatalf("Drafts = %+v, %v", got, err)
	}
	if got, _ := s.Drafts(ctx, b.ID); len(got) != 0 {
		t.Fatalf("b sees a's draft: %+v", got)
	}
	if err := s.SaveDraft(ctx, a.ID, storage.Draft{ConversationID: c.ID, UpdatedAt: now()}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Drafts(ctx, a.ID); len(got) != 0 {
		t.Fatalf("an empty draft was kept: %+v", got)
	}
	if err := s.SaveDraft(ctx, mustUser(t, s).ID, d); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("draft by a non-member err = %v", err)
	}
}

func testProfilesAndGroupDetails(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a := mustUser(t, s)
	at := now()
	avatar := &storage.Avatar{Key: "avatars/x/full.jpg", Width: 512, Height: 384,
		Thumbnails: []storage.AvatarImage{{Key: "avatars/x/64.jpg", Width: 64, Height: 48}}}
	want := storage.Profile{UserID: a.ID, Bio: "bio text", Avatar: avatar, UpdatedAt: at}
	if err := s.UpdateProfile(ctx, "New Name", want); err != nil {
		t.Fatal(err)
	}
	us, err := s.Users(ctx, []string{a.ID})
	if err != nil || us[a.ID].DisplayName != "New Name" || us[a.ID].Username != a.Username {
		t.Fatalf("user after UpdateProfile = %+v, %v", us[a.ID], err)
	}
	ps, err := s.Profiles(ctx, []string{a.ID, "nobody"})
	if err != nil || len(ps) != 1 || !reflect.DeepEqual(ps[a.ID], want) {
		t.Fatalf("Profiles = %+v, %v", ps, err)
	}
	if err := s.UpdateProfile(ctx, "x", storage.Profile{UserID: "nobody", UpdatedAt: at}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdateProfile(unknown) err = %v", err)
	}

	c := mustGroup(t, s, a.ID)
	later := now().Add(time.Minute)
	if err := s.UpdateGroupDetails(ctx, "New title", storage.GroupDetails{ConversationID: c.ID, Description: "what we do", Avatar: avatar, UpdatedAt: later}); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Conversations(ctx, []string{c.ID})
	if err != nil || cs[c.ID].Title != "New title" || !cs[c.ID].LastActivityAt.Equal(later) {
		t.Fatalf("conversation after UpdateGroupDetails = %+v, %v", cs[c.ID], err)
	}
	ds, err := s.GroupDetails(ctx, []string{c.ID, "nothing"})
	if err != nil || len(ds) != 1 || ds[c.ID].Description != "what we do" || !reflect.DeepEqual(ds[c.ID].Avatar, avatar) {
		t.Fatalf("GroupDetails = %+v, %v", ds, err)
	}
	if err := s.UpdateGroupDetails(ctx, "t", storage.GroupDetails{ConversationID: "nothing", UpdatedAt: later}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdateGroupDetails(unknown) err = %v", err)
	}
}

// testOwnershipTransfers: racing transfers by the owner to two different
// members leave exactly one new owner.
func testOwnershipTransfers(t *testing.T, s storage.Store) {
	ctx := context.Background()
	o, b, c, outsider := mustUser(t, s), mustUser(t, s), mustUser(t, s), mustUser(t, s)
	g := mustGroup(t, s, o.ID, b.ID, c.ID)
	if err := s.TransferOwnership(ctx, g.ID, o.ID, outsider.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("transfer to a non-member err = %v", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, to := range []string{b.ID, c.ID} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.TransferOwnership(ctx, g.ID, o.ID, to)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, storage.ErrConflict):
			t.Fatalf("transfer err = %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d transfers won, want 1 (%v)", won, errs)
	}
	ms, err := s.Members(ctx, g.ID, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	owners := 0
	for _, m := range ms {
		if m.Role == storage.RoleOwner {
			owners++
		}
		if m.UserID == o.ID && m.Role != storage.RoleAdmin {
			t.Fatalf("old owner's role = %s, want ADMIN", m.Role)
		}
	}
	if owners != 1 {
		t.Fatalf("%d owners after racing transfers, want 1", owners)
	}
}

func testDeletions(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mine := func() map[string]storage.Deletion {
		ds, err := s.PendingDeletions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]storage.Deletion{}
		for _, d := range ds {
			out[d.ConversationID] = d
		}
		return out
	}
	a, b := id(), id()
	da := storage.Deletion{ConversationID: a, By: id(), RequestedAt: now()}
	db := storage.Deletion{ConversationID: b, By: id(), RequestedAt: now().Add(time.Second)}
	for _, d := range []storage.Deletion{da, db} {
		if err := s.SaveDeletion(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	da.MembersRemoved, da.PurgedSeq = true, 42
	if err := s.SaveDeletion(ctx, da); err != nil {
		t.Fatal(err)
	}
	got := mine()
	if got[a] != da || got[b] != db {
		t.Fatalf("pending = %+v, want %+v and %+v", got, da, db)
	}
	if err := s.DeletionDone(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletionDone(ctx, "never"); err != nil {
		t.Fatalf("DeletionDone(unknown) = %v", err)
	}
	if got := mine(); len(got[a].ConversationID) != 0 || got[b] != db {
		t.Fatalf("pending after done = %+v", got)
	}
	_ = s.DeletionDone(ctx, b)
}

func testUsernameChanges(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := mustUser(t, s), mustUser(t, s)
	suffix := strings.ReplaceAll(id(), "-", "")[:12]
	newName := "New" + suffix
	at := now()
	if err := s.ChangeUsername(ctx, a.ID, newName, strings.ToLower(newName), at, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if u, err := s.UserByUsername(ctx, strings.ToLower(newName)); err != nil || u.ID != a.ID || u.Username != newName {
		t.Fatalf("UserByUsername(new) = %+v, %v", u, err)
	}
	if ps, _ := s.Profiles(ctx, []string{a.ID}); !ps[a.ID].UsernameChangedAt.Equal(at) {
		t.Fatalf("profile after change = %+v", ps[a.ID])
	}
	// The old name is reserved: nobody else signs up with it or takes it.
	taker := storage.User{ID: id(), Username: a.Username, UsernameKey: a.UsernameKey, DisplayName: "x", PasswordHash: "h", CreatedAt: now()}
	if err := s.CreateUser(ctx, taker); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("sign-up with a reserved name err = %v", err)
	}
	if err := s.ChangeUsername(ctx, b.ID, a.Username, a.UsernameKey, now(), now().Add(time.Hour)); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("taking a reserved name err = %v", err)
	}
	if err := s.ChangeUsername(ctx, b.ID, newName, strings.ToLower(newName), now(), now().Add(time.Hour)); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("taking a used name err = %v", err)
	}
	if u, _ := s.Users(ctx, []string{b.ID}); u[b.ID].UsernameKey != b.UsernameKey {
		t.Fatalf("a refused change moved b: %+v", u[b.ID])
	}
	// Its owner takes it back; the name they leave is held only until now.
	if err := s.ChangeUsername(ctx, a.ID, a.Username, a.UsernameKey, now(), now()); err != nil {
		t.Fatalf("taking back my reserved name: %v", err)
	}
	taker.Username, taker.UsernameKey, taker.CreatedAt = newName, strings.ToLower(newName), now().Add(time.Second)
	if err := s.CreateUser(ctx, taker); err != nil {
		t.Fatalf("sign-up with a name whose hold passed: %v", err)
	}
	if err := s.ChangeUsername(ctx, "nobody", "x"+suffix, "x"+suffix, now(), now()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("ChangeUsername(unknown) err = %v", err)
	}
}
