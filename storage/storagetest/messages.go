package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"messenger/storage"
)

func testReactions(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b, c := mustUser(t, s), mustUser(t, s), mustUser(t, s)
	conv := mustGroup(t, s, a.ID, b.ID, c.ID)
	m := mustSend(t, s, conv.ID, a.ID, "m")
	other := mustSend(t, s, conv.ID, a.ID, "n")
	t0 := now()
	add := func(user, emoji string, at time.Time, want bool) {
		t.Helper()
		added, err := s.AddReaction(ctx, conv.ID, m.Seq, user, emoji, at)
		if err != nil || added != want {
			t.Fatalf("AddReaction(%s) = %v, %v; want %v", emoji, added, err, want)
		}
	}
	add(b.ID, "👍", t0, true)
	add(b.ID, "👍", t0.Add(time.Second), false)
	add(b.ID, "❤️", t0.Add(2*time.Second), true)
	add(c.ID, "👍", t0.Add(3*time.Second), true)
	sums, err := s.Reactions(ctx, conv.ID, []int64{m.Seq, other.Seq})
	if err != nil {
		t.Fatal(err)
	}
	got := sums[m.Seq]
	if len(got) != 2 || got[0].Emoji != "👍" || got[0].Count != 2 || got[1].Emoji != "❤️" || got[1].Count != 1 {
		t.Fatalf("Reactions = %+v", got)
	}
	if len(sums[other.Seq]) != 0 {
		t.Fatalf("reactions leaked to another message: %+v", sums[other.Seq])
	}
	mine, _ := s.ReactionsBy(ctx, conv.ID, []int64{m.Seq}, b.ID)
	if len(mine[m.Seq]) != 2 {
		t.Fatalf("ReactionsBy(b) = %v", mine)
	}
	users, _ := s.ReactionUsers(ctx, conv.ID, m.Seq, "👍", "", 1)
	if len(users) != 1 {
		t.Fatalf("ReactionUsers first page = %v", users)
	}
	rest, _ := s.ReactionUsers(ctx, conv.ID, m.Seq, "👍", users[0].UserID, 10)
	if len(rest) != 1 || rest[0].UserID == users[0].UserID {
		t.Fatalf("ReactionUsers second page = %v", rest)
	}
	removed, err := s.RemoveReaction(ctx, conv.ID, m.Seq, b.ID, "👍")
	if err != nil || !removed {
		t.Fatalf("RemoveReaction = %v, %v", removed, err)
	}
	removed, _ = s.RemoveReaction(ctx, conv.ID, m.Seq, b.ID, "👍")
	if removed {
		t.Fatalf("removing twice reported a removal")
	}
	sums, _ = s.Reactions(ctx, conv.ID, []int64{m.Seq})
	if sums[m.Seq][0].Count != 1 {
		t.Fatalf("after removal: %+v", sums[m.Seq])
	}
}

func testUpdateMessage(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a := mustUser(t, s)
	c := mustGroup(t, s, a.ID)
	m := mustSend(t, s, c.ID, a.ID, "typo")
	edited := now()
	m.Body, m.EditedAt = "fixed", &edited
	if err := s.UpdateMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, _ := s.MessageByID(ctx, m.ID)
	if got.Body != "fixed" || got.EditedAt == nil || !got.EditedAt.Equal(edited) || got.Seq != m.Seq {
		t.Fatalf("after edit: %+v", got)
	}
	deleted := now()
	got.Body, got.DeletedAt = "", &deleted
	if err := s.UpdateMessage(ctx, got); err != nil {
		t.Fatal(err)
	}
	got, _ = s.MessageByID(ctx, m.ID)
	if got.Body != "" || got.DeletedAt == nil || got.SenderID != a.ID {
		t.Fatalf("tombstone: %+v", got)
	}
	// An edit that read the message before the recall and writes after it
	// (another process, say) must not bring the text back.
	late := m
	lateAt := now().Add(time.Second)
	late.Body, late.EditedAt, late.DeletedAt = "resurrected", &lateAt, nil
	if err := s.UpdateMessage(ctx, late); err != nil {
		t.Fatalf("an edit after the tombstone: %v (want nil and no change)", err)
	}
	got, _ = s.MessageByID(ctx, m.ID)
	if got.Body != "" || got.DeletedAt == nil || !got.DeletedAt.Equal(deleted) {
		t.Fatalf("an edit after the tombstone changed it: %+v", got)
	}
	missing := storage.Message{ConversationID: c.ID, Seq: 42}
	if err := s.UpdateMessage(ctx, missing); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("updating a missing message: %v", err)
	}
}

func testRenameAndRoles(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := mustUser(t, s), mustUser(t, s)
	c := mustGroup(t, s, a.ID, b.ID)
	if err := s.RenameConversation(ctx, c.ID, "new title", now()); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Conversations(ctx, []string{c.ID, id()})
	if len(got) != 1 || got[c.ID].Title != "new title" || got[c.ID].Kind != storage.Group || got[c.ID].CreatedBy != a.ID {
		t.Fatalf("after rename: %+v", got)
	}
	if err := s.SetRole(ctx, c.ID, b.ID, storage.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	m, _ := s.Member(ctx, c.ID, b.ID)
	if m.Role != storage.RoleAdmin {
		t.Fatalf("role = %s", m.Role)
	}
	if err := s.SetRole(ctx, c.ID, id(), storage.RoleAdmin); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("SetRole(non-member) = %v", err)
	}
	if err := s.RenameConversation(ctx, id(), "x", now()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("RenameConversation(unknown) = %v", err)
	}
}

func testCopies(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a := mustUser(t, s)
	c := mustGroup(t, s, a.ID)
	m := mustSend(t, s, c.ID, a.ID, "original")
	got, _ := s.MessageByID(ctx, m.ID)
	got.Body = "mutated by caller"
	again, _ := s.MessageByID(ctx, m.ID)
	if again.Body != "original" {
		t.Fatalf("caller mutation reached the store: %q", again.Body)
	}
}

func testLateJoiners(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b, late := mustUser(t, s), mustUser(t, s), mustUser(t, s)
	conv := mustGroup(t, s, a.ID, b.ID)
	mustSend(t, s, conv.ID, a.ID, "before late joined")
	if _, err := s.AddMembers(ctx, conv.ID, []storage.Member{{UserID: late.ID, Role: storage.RoleMember}}, now()); err != nil {
		t.Fatal(err)
	}
	mustSend(t, s, conv.ID, a.ID, "after late joined")
	s.AdvanceCursor(ctx, conv.ID, late.ID, storage.Read, 2, now())
	counts, err := s.ReceiptCounts(ctx, conv.ID, []int64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if counts[1].Read != 0 || counts[1].Delivered != 0 {
		t.Fatalf("message 1 counts %+v: a member who joined after it was sent never read it", counts[1])
	}
	if counts[2].Read != 1 {
		t.Fatalf("message 2 counts %+v: the late member read it", counts[2])
	}
	rs, err := s.Receipts(ctx, conv.ID, 1, storage.Read, "", 10)
	if err != nil || len(rs) != 0 {
		t.Fatalf("Receipts(read, 1) = %+v, %v; want none", rs, err)
	}
	rs, _ = s.Receipts(ctx, conv.ID, 2, storage.Read, "", 10)
	if len(rs) != 1 || rs[0].UserID != late.ID {
		t.Fatalf("Receipts(read, 2) = %+v; want the late member", rs)
	}
}
