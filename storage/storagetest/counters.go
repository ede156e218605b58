package storagetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"messenger/storage"
)

// unreadOracle counts userID's unread messages after afterSeq the slow way,
// from the history userID sees: the count CountUnread must always equal.
func unreadOracle(t *testing.T, s storage.Store, conv, userID string, afterSeq int64) int {
	t.Helper()
	msgs, err := s.ListMessages(context.Background(), conv, userID, afterSeq, 0, 1_000_000, false)
	if err != nil {
		t.Fatalf("ListMessages: %v", err)
	}
	n := 0
	for _, m := range msgs {
		if m.SenderID != userID && m.DeletedAt == nil {
			n++
		}
	}
	return n
}

// checkUnread asserts CountUnread equals the oracle and want, for every
// cursor position from 0 to the conversation's end (mark-unread moves a
// cursor back anywhere, so every position must be right).
func checkUnread(t *testing.T, s storage.Store, conv, userID string, wantFromZero int) {
	t.Helper()
	ctx := context.Background()
	cs, err := s.Conversations(ctx, []string{conv})
	if err != nil {
		t.Fatal(err)
	}
	for after := int64(0); after <= cs[conv].LastSeq+1; after++ {
		got, err := s.CountUnread(ctx, conv, userID, after)
		want := unreadOracle(t, s, conv, userID, after)
		if err != nil || got != want {
			t.Fatalf("CountUnread(%s, after %d) = %d, %v; the messages say %d", userID[:8], after, got, err, want)
		}
		if after == 0 && got != wantFromZero {
			t.Fatalf("CountUnread(%s, after 0) = %d; want %d", userID[:8], got, wantFromZero)
		}
	}
}

// testUnreadConcurrentSendsAndRetries: senders racing (the reader among
// them) and every send retried with its client id count each message once.
func testUnreadConcurrentSendsAndRetries(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b, c := mustUser(t, s), mustUser(t, s), mustUser(t, s)
	conv := mustGroup(t, s, a.ID, b.ID, c.ID)
	const each = 8
	var wg sync.WaitGroup
	errs := make(chan error, 3*each*2)
	for _, sender := range []string{a.ID, b.ID, c.ID} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m := storage.Message{ConversationID: conv.ID, SenderID: sender, ClientMessageID: fmt.Sprintf("%s-%d", sender, i), Body: "x", SentAt: now()}
				for range 2 { // the retry returns the original and writes nothing new
					if _, _, err := s.AppendMessage(ctx, m); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("AppendMessage: %v", err)
	}
	checkUnread(t, s, conv.ID, a.ID, 2*each)
	checkUnread(t, s, conv.ID, b.ID, 2*each)
}

// testUnreadHiddenAndRecalled: hiding for me and recalling for everyone,
// each twice, own messages among them, never subtract a message twice.
func testUnreadHiddenAndRecalled(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := mustUser(t, s), mustUser(t, s)
	conv := mustGroup(t, s, a.ID, b.ID)
	m1 := mustSend(t, s, conv.ID, a.ID, "1")
	m2 := mustSend(t, s, conv.ID, b.ID, "2 (b's own)")
	m3 := mustSend(t, s, conv.ID, a.ID, "3")
	m4 := mustSend(t, s, conv.ID, a.ID, "4")
	mustSend(t, s, conv.ID, a.ID, "5")
	checkUnread(t, s, conv.ID, b.ID, 4)
	for range 2 {
		if err := s.HideMessage(ctx, b.ID, conv.ID, m1.Seq); err != nil {
			t.Fatal(err)
		}
	}
	checkUnread(t, s, conv.ID, b.ID, 3)
	if err := s.HideMessage(ctx, b.ID, conv.ID, m2.Seq); err != nil { // own and hidden: one exception
		t.Fatal(err)
	}
	checkUnread(t, s, conv.ID, b.ID, 3)
	del := now()
	for _, m := range []storage.Message{m3, m3, m2} { // recalled twice; an own message recalled
		m.Body, m.DeletedAt = "", &del
		if err := s.UpdateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	checkUnread(t, s, conv.ID, b.ID, 2)
	checkUnread(t, s, conv.ID, a.ID, 0)
	if err := s.HideMessage(ctx, b.ID, conv.ID, m3.Seq); err != nil { // recalled and hidden
		t.Fatal(err)
	}
	if err := s.HideMessage(ctx, b.ID, conv.ID, m4.Seq); err != nil {
		t.Fatal(err)
	}
	checkUnread(t, s, conv.ID, b.ID, 1)
	checkUnread(t, s, conv.ID, a.ID, 0)
}

// testUnreadLeaveRejoinAndUnknown: after leaving and joining again the count
// starts at the new JoinedSeq; unknown conversations and cursors past the
// end count 0.
func testUnreadLeaveRejoinAndUnknown(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := mustUser(t, s), mustUser(t, s)
	conv := mustGroup(t, s, a.ID, b.ID)
	mustSend(t, s, conv.ID, a.ID, "1")
	if err := s.RemoveMember(ctx, conv.ID, b.ID, now()); err != nil {
		t.Fatal(err)
	}
	mustSend(t, s, conv.ID, a.ID, "2 (while b was away)")
	if _, err := s.AddMembers(ctx, conv.ID, []storage.Member{{UserID: b.ID, Role: storage.RoleMember, JoinedAt: now()}}, now()); err != nil {
		t.Fatal(err)
	}
	mem, err := s.Member(ctx, conv.ID, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	after := max(mem.ReadSeq, mem.JoinedSeq)
	if n, err := s.CountUnread(ctx, conv.ID, b.ID, after); err != nil || n != 0 {
		t.Fatalf("CountUnread after rejoin = %d, %v; want 0", n, err)
	}
	mustSend(t, s, conv.ID, a.ID, "3")
	if n, err := s.CountUnread(ctx, conv.ID, b.ID, after); err != nil || n != 1 {
		t.Fatalf("CountUnread after rejoin and one send = %d, %v; want 1", n, err)
	}
	if n, err := s.CountUnread(ctx, conv.ID, b.ID, 1000); err != nil || n != 0 {
		t.Fatalf("CountUnread past the end = %d, %v; want 0", n, err)
	}
	if n, err := s.CountUnread(ctx, id(), b.ID, 0); err != nil || n != 0 {
		t.Fatalf("CountUnread of an unknown conversation = %d, %v; want 0", n, err)
	}
}
