package chat_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"messenger/chat"
	"messenger/fault"
	"messenger/storage"
)

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

func mustSend(t *testing.T, e *rulesEnv, me, conv string) storage.Message {
	t.Helper()
	userSeq.Lock()
	userSeq.n++
	n := userSeq.n
	userSeq.Unlock()
	m, err := e.chat.Send(context.Background(), me, conv, fmt.Sprintf("c%d", n), "hello")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func titles(t *testing.T, e *rulesEnv, me string, f chat.ConversationFilter) []string {
	t.Helper()
	p, err := e.chat.Conversations(context.Background(), me, chat.ConversationArgs{Filter: f})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range p.Conversations {
		out = append(out, c.Title)
	}
	return out
}

func TestANewMessageUnarchivesUnlessMuted(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	me, other := e.user(t, "me"), e.user(t, "other")
	loud, _ := e.chat.CreateGroup(ctx, me, "loud", []string{other})
	quiet, _ := e.chat.CreateGroup(ctx, me, "quiet", []string{other})
	if _, err := e.chat.UpdateMembership(ctx, me, loud.ID, chat.MembershipChange{Archived: yes()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.UpdateMembership(ctx, me, quiet.ID, chat.MembershipChange{Archived: yes(), Muted: yes()}); err != nil {
		t.Fatal(err)
	}
	if got := titles(t, e, me, chat.ConversationFilter{Archived: yes()}); len(got) != 2 {
		t.Fatalf("archived = %v, want both", got)
	}
	e.advance(time.Second)
	mustSend(t, e, other, loud.ID)
	mustSend(t, e, other, quiet.ID)
	if got := titles(t, e, me, chat.ConversationFilter{Archived: yes()}); len(got) != 1 || got[0] != "quiet" {
		t.Fatalf("archived after new messages = %v, want [quiet] (muted stays archived)", got)
	}
	if m, _ := e.chat.MyMembership(ctx, me, loud.ID); m.Archived {
		t.Fatal("loud still archived after a message")
	}
	// Muting later does not bring back an archive a message undid.
	if m, _ := e.chat.UpdateMembership(ctx, me, loud.ID, chat.MembershipChange{Muted: yes()}); m.Archived {
		t.Fatal("muting re-archived the conversation")
	}
}

func TestMuteUntilATimeOrForeverReachesTheMembership(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	me, other := e.user(t, "me"), e.user(t, "other")
	g, _ := e.chat.CreateGroup(ctx, me, "g", []string{other})
	until := e.clock().Add(8 * time.Hour)
	level := storage.NotifyMentions
	m, err := e.chat.UpdateMembership(ctx, me, g.ID, chat.MembershipChange{MutedUntil: &until, NotificationLevel: &level})
	if err != nil || !m.Muted(e.clock()) || !m.MutedUntil.Equal(until) {
		t.Fatalf("muted until = %+v, %v", m, err)
	}
	mem, _ := e.chat.Membership(ctx, me, g.ID)
	if !mem.MutedUntil.Equal(until) || mem.NotificationLevel != storage.NotifyMentions {
		t.Fatalf("membership (what push reads) = %+v", mem)
	}
	e.advance(9 * time.Hour)
	if m, _ := e.chat.MyMembership(ctx, me, g.ID); m.Muted(e.clock()) {
		t.Fatal("still muted after mutedUntil")
	}
	m, _ = e.chat.UpdateMembership(ctx, me, g.ID, chat.MembershipChange{Muted: yes()})
	if !m.MutedUntil.Equal(storage.MutedForever) {
		t.Fatalf("muted: true gave %v, want forever", m.MutedUntil)
	}
	m, _ = e.chat.UpdateMembership(ctx, me, g.ID, chat.MembershipChange{Muted: no()})
	if !m.MutedUntil.IsZero() {
		t.Fatalf("unmute left %v", m.MutedUntil)
	}
	if theirs, _ := e.chat.Membership(ctx, other, g.ID); !theirs.MutedUntil.IsZero() || theirs.NotificationLevel != "" {
		t.Fatalf("the other member's membership shows my state: %+v", theirs)
	}
}

func TestAtMostFivePinnedListedFirst(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	me := e.user(t, "me")
	var ids []string
	for i := 0; i < 7; i++ {
		e.advance(time.Second)
		g, err := e.chat.CreateGroup(ctx, me, fmt.Sprintf("g%d", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, g.ID)
	}
	for i := 0; i < 5; i++ {
		e.advance(time.Second)
		if _, err := e.chat.UpdateMembership(ctx, me, ids[i], chat.MembershipChange{Pinned: yes()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.chat.UpdateMembership(ctx, me, ids[5], chat.MembershipChange{Pinned: yes()}); code(err) != "BAD_USER_INPUT" {
		t.Fatalf("sixth pin: %v, want BAD_USER_INPUT", err)
	}
	// Re-pinning a pinned one is no new pin.
	if _, err := e.chat.UpdateMembership(ctx, me, ids[4], chat.MembershipChange{Pinned: yes()}); err != nil {
		t.Fatal(err)
	}
	got := titles(t, e, me, chat.ConversationFilter{})
	want := []string{"g4", "g3", "g2", "g1", "g0", "g6", "g5"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("list = %v, want pinned first (latest pin on top) then by activity %v", got, want)
	}
	// Paging through the list with cursors keeps the order.
	first := 3
	p, _ := e.chat.Conversations(ctx, me, chat.ConversationArgs{First: &first})
	after := p.Cursors[len(p.Cursors)-1]
	p2, _ := e.chat.Conversations(ctx, me, chat.ConversationArgs{First: &first, After: &after})
	if len(p2.Conversations) != 3 || p2.Conversations[0].Title != "g1" || p2.Conversations[2].Title != "g6" {
		t.Fatalf("second page = %+v", p2.Conversations)
	}
	if _, err := e.chat.UpdateMembership(ctx, me, ids[0], chat.MembershipChange{Pinned: no()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.UpdateMembership(ctx, me, ids[5], chat.MembershipChange{Pinned: yes()}); err != nil {
		t.Fatalf("pin after unpinning one: %v", err)
	}
	n, err := e.chat.ConversationCounts(ctx, me)
	if err != nil || n.Pinned != 5 || n.All != 7 {
		t.Fatalf("counts = %+v, %v", n, err)
	}
}

func TestMarkUnreadMovesOnlyMyCursorBack(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	me, other := e.user(t, "me"), e.user(t, "other")
	g, _ := e.chat.CreateGroup(ctx, me, "g", []string{other})
	mustSend(t, e, other, g.ID)
	last := mustSend(t, e, other, g.ID)
	mustSend(t, e, me, g.ID) // my own message is not what gets marked
	if _, err := e.chat.MarkRead(ctx, me, g.ID, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.MarkUnread(ctx, me, g.ID); err != nil {
		t.Fatal(err)
	}
	mem, _ := e.chat.Membership(ctx, me, g.ID)
	n, _ := e.chat.UnreadCount(ctx, me, mem)
	if mem.ReadSeq != last.Seq-1 || n < 1 {
		t.Fatalf("after markUnread readSeq=%d unread=%d, want %d and >= 1", mem.ReadSeq, n, last.Seq-1)
	}
	// The sender still sees it read.
	r, err := e.chat.ReceiptOf(ctx, last, me)
	if err != nil || r.ReadAt == nil {
		t.Fatalf("receipt others see = %+v, %v; want still read", r, err)
	}
	if got := titles(t, e, me, chat.ConversationFilter{UnreadOnly: true}); len(got) != 1 {
		t.Fatalf("unreadOnly = %v", got)
	}
	if _, err := e.chat.MarkRead(ctx, me, g.ID, 3); err != nil {
		t.Fatal(err)
	}
	mem, _ = e.chat.Membership(ctx, me, g.ID)
	if n, _ := e.chat.UnreadCount(ctx, me, mem); mem.ReadSeq != 3 || n != 0 {
		t.Fatalf("after reading again readSeq=%d unread=%d", mem.ReadSeq, n)
	}
	if got := titles(t, e, me, chat.ConversationFilter{UnreadOnly: true}); len(got) != 0 {
		t.Fatalf("unreadOnly after reading = %v", got)
	}
}

func TestSendingClearsMyDraft(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	me, other := e.user(t, "me"), e.user(t, "other")
	g, _ := e.chat.CreateGroup(ctx, me, "g", []string{other})
	if d, err := e.chat.SaveDraft(ctx, me, g.ID, "half"); err != nil || d.Body != "half" {
		t.Fatalf("SaveDraft = %+v, %v", d, err)
	}
	if d, _ := e.chat.Draft(ctx, other, g.ID); d != nil {
		t.Fatalf("other member sees my draft: %+v", d)
	}
	mustSend(t, e, me, g.ID)
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := e.chat.Draft(ctx, me, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("draft still there after sending")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDeletingAGroupEndsEveryMembershipAndTombstonesItsHistory(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	owner, admin, member := e.user(t, "owner"), e.user(t, "admin"), e.user(t, "member")
	g, _ := e.chat.CreateGroup(ctx, owner, "doomed", []string{admin, member})
	if _, err := e.chat.SetRole(ctx, owner, g.ID, admin, storage.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	var sent []storage.Message
	for i := 0; i < 5; i++ {
		sent = append(sent, mustSend(t, e, member, g.ID))
	}
	if err := e.chat.DeleteConversation(ctx, admin, g.ID); code(err) != "FORBIDDEN" {
		t.Fatalf("admin deletes: %v, want FORBIDDEN", err)
	}
	if err := e.chat.DeleteConversation(ctx, owner, g.ID); err != nil {
		t.Fatal(err)
	}
	// The job runs in the background; the sweep finishes whatever is left.
	if _, err := e.chat.ResumeDeletions(ctx); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{owner, admin, member} {
		if _, err := e.chat.Conversation(ctx, u, g.ID); code(err) != "NOT_FOUND" {
			t.Fatalf("after deletion, %s reads the group: %v", u, err)
		}
	}
	if _, err := e.chat.Message(ctx, member, sent[0].ID); code(err) != "NOT_FOUND" {
		t.Fatalf("after deletion a message reads: %v", err)
	}
}

func TestUsernameChangesAreRateLimitedAndTheOldNameReserved(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	a, b := e.user(t, "alice"), e.user(t, "bob")
	old, _ := e.chat.User(ctx, a)
	u, err := e.chat.ChangeUsername(ctx, a, "alice_new"+old.ID[:4])
	if err != nil || u.Username != "alice_new"+old.ID[:4] {
		t.Fatalf("ChangeUsername = %+v, %v", u, err)
	}
	if _, err := e.chat.ChangeUsername(ctx, b, old.Username); code(err) != "CONFLICT" {
		t.Fatalf("taking a reserved name: %v, want CONFLICT", err)
	}
	_, err = e.chat.ChangeUsername(ctx, a, "alice_again"+old.ID[:4])
	var fe *fault.Error
	if code(err) != "RATE_LIMITED" || !errors.As(err, &fe) || fe.Extensions["retryAt"] == nil {
		t.Fatalf("second change within a day: %v, want RATE_LIMITED with retryAt", err)
	}
	// Only the case: always allowed.
	if _, err := e.chat.ChangeUsername(ctx, a, strings.ToUpper(u.Username[:1])+u.Username[1:]); err != nil {
		t.Fatalf("case-only change: %v", err)
	}
	if _, err := e.chat.ChangeUsername(ctx, a, "no spaces"); code(err) != "BAD_USER_INPUT" {
		t.Fatalf("bad username: %v", err)
	}
	e.advance(chat.UsernameChangeEvery)
	if _, err := e.chat.ChangeUsername(ctx, a, old.Username); err != nil {
		t.Fatalf("taking back my reserved name a day later: %v", err)
	}
	if s, err := e.chat.LogIn(ctx, old.Username, "correct horse battery"); err != nil || s.User.ID != a {
		t.Fatalf("log in with the name taken back: %+v, %v", s.User, err)
	}
}
