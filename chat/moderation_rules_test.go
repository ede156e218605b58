package chat_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"messenger/chat"
	"messenger/fault"
	"messenger/realtime"
	"messenger/storage"
)

func TestInviteLinksPreviewJoinExpireAndRevoke(t *testing.T) {
	ctx := context.Background()
	f := newModFixture(t)
	e := f.e
	exp := e.clock().Add(time.Hour)
	two := 2
	l, err := e.chat.CreateInviteLink(ctx, f.admin, f.group, chat.InviteLinkInput{ExpiresAt: &exp, MaxUses: &two})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Code) < 22 || strings.ContainsAny(l.Code, "+/=") {
		t.Fatalf("code %q: want ≥128 bits, URL-safe", l.Code)
	}
	p, err := e.chat.PreviewInvite(ctx, f.outsider, l.Code)
	if err != nil || p.Title != "team" || p.MemberCount != 4 || p.RequireApproval {
		t.Fatalf("preview = %+v, %v", p, err)
	}
	if _, err := e.chat.Conversation(ctx, f.outsider, f.group); code(err) != fault.NotFound {
		t.Fatalf("previewing joined: %v", err)
	}
	if j, err := e.chat.JoinByInvite(ctx, f.outsider, l.Code); err != nil || j.Status != chat.Joined || j.Conversation.ID != f.group {
		t.Fatalf("join = %+v, %v", j, err)
	}
	if j, err := e.chat.JoinByInvite(ctx, f.outsider, l.Code); err != nil || j.Status != chat.AlreadyMember {
		t.Fatalf("second join = %+v, %v", j, err)
	}
	last := e.user(t, "last")
	if _, err := e.chat.JoinByInvite(ctx, last, l.Code); err != nil {
		t.Fatal(err)
	}
	late := e.user(t, "late")
	if _, err := e.chat.JoinByInvite(ctx, late, l.Code); code(err) != fault.NotFound {
		t.Fatalf("join beyond maxUses: %v", err)
	}
	if _, err := e.chat.PreviewInvite(ctx, late, l.Code); code(err) != fault.NotFound {
		t.Fatalf("preview of a used-up link: %v", err)
	}
	open, _ := e.chat.CreateInviteLink(ctx, f.admin, f.group, chat.InviteLinkInput{ExpiresAt: &exp})
	e.advance(time.Hour)
	if _, err := e.chat.JoinByInvite(ctx, late, open.Code); code(err) != fault.NotFound {
		t.Fatalf("join by an expired link: %v", err)
	}
	forever, _ := e.chat.CreateInviteLink(ctx, f.admin, f.group, chat.InviteLinkInput{})
	if r, err := e.chat.RevokeInviteLink(ctx, f.owner, forever.Code); err != nil || r.RevokedAt.IsZero() {
		t.Fatalf("revoke = %+v, %v", r, err)
	}
	if _, err := e.chat.JoinByInvite(ctx, late, forever.Code); code(err) != fault.NotFound {
		t.Fatalf("join by a revoked link: %v", err)
	}
	// A well-formed guess and a malformed code.
	guess := forever.Code[:len(forever.Code)-1] + "A"
	if guess == forever.Code {
		guess = forever.Code[:len(forever.Code)-1] + "B"
	}
	if _, err := e.chat.PreviewInvite(ctx, late, guess); code(err) != fault.NotFound {
		t.Fatalf("a guessed code: %v", err)
	}
	if _, err := e.chat.JoinByInvite(ctx, late, "short"); code(err) != fault.BadUserInput {
		t.Fatalf("a malformed code: %v", err)
	}
}

func TestConcurrentJoinsAtMaxUsesAdmitExactlyMaxUses(t *testing.T) {
	ctx := context.Background()
	f := newModFixture(t)
	e := f.e
	five := 5
	l, err := e.chat.CreateInviteLink(ctx, f.owner, f.group, chat.InviteLinkInput{MaxUses: &five})
	if err != nil {
		t.Fatal(err)
	}
	users := make([]string, 20)
	for i := range users {
		users[i] = e.user(t, "joiner")
	}
	before, _ := e.chat.MemberCount(ctx, f.group)
	var joined atomic.Int32
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, err := e.chat.JoinByInvite(ctx, u, l.Code)
			if err == nil && j.Status == chat.Joined {
				joined.Add(1)
			} else if code(err) != fault.NotFound {
				t.Errorf("join: %+v, %v", j, err)
			}
		}()
	}
	wg.Wait()
	after, _ := e.chat.MemberCount(ctx, f.group)
	if joined.Load() != 5 || after-before != 5 {
		t.Fatalf("%d joined, members %d -> %d; want exactly 5", joined.Load(), before, after)
	}
}

func TestJoinRequestsWaitForAnAdmin(t *testing.T) {
	ctx := context.Background()
	f := newModFixture(t)
	e := f.e
	if _, err := e.chat.Conversation(ctx, f.requester, f.group); code(err) != fault.NotFound {
		t.Fatalf("a requester is in before approval: %v", err)
	}
	reqs, _, err := e.chat.JoinRequests(ctx, f.admin, f.group, 0, "")
	if err != nil || len(reqs) != 1 || reqs[0].UserID != f.requester {
		t.Fatalf("requests = %+v, %v", reqs, err)
	}
	if _, err := e.chat.ApproveJoinRequest(ctx, f.admin, f.group, f.requester); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Membership(ctx, f.requester, f.group); err != nil {
		t.Fatalf("approved but not a member: %v", err)
	}
	if _, err := e.chat.ApproveJoinRequest(ctx, f.admin, f.group, f.requester); code(err) != fault.NotFound {
		t.Fatalf("approving twice: %v", err)
	}
	other := e.user(t, "other")
	if _, err := e.chat.JoinByInvite(ctx, other, f.code); err != nil {
		t.Fatal(err)
	}
	if err := e.chat.DeclineJoinRequest(ctx, f.owner, f.group, other); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Membership(ctx, other, f.group); code(err) != fault.NotFound {
		t.Fatalf("declined but a member: %v", err)
	}
}

func TestSlowModeLimitsMembersButNotAdmins(t *testing.T) {
	ctx := context.Background()
	f := newModFixture(t)
	e := f.e
	if _, err := e.chat.SetSlowMode(ctx, f.admin, f.group, 30); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Send(ctx, f.member, f.group, "s1", "first"); err != nil {
		t.Fatal(err)
	}
	e.advance(10 * time.Second)
	_, err := e.chat.Send(ctx, f.member, f.group, "s2", "too soon")
	var fe *fault.Error
	if code(err) != fault.RateLimited || !asFault(err, &fe) || fe.Extensions["retryAt"] == nil {
		t.Fatalf("second send in slow mode: %v", err)
	}
	if want := e.clock().Add(20 * time.Second).Format(time.RFC3339Nano); fe.Extensions["retryAt"] != want {
		t.Fatalf("retryAt = %v, want %s", fe.Extensions["retryAt"], want)
	}
	for i, who := range []string{f.admin, f.admin, f.owner} {
		if _, err := e.chat.Send(ctx, who, f.group, "a"+string(rune('0'+i)), "exempt"); err != nil {
			t.Fatalf("an admin in slow mode: %v", err)
		}
	}
	e.advance(20 * time.Second)
	if _, err := e.chat.Send(ctx, f.member, f.group, "s3", "on time"); err != nil {
		t.Fatalf("send after the interval: %v", err)
	}
	if _, err := e.chat.SetSlowMode(ctx, f.owner, f.group, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Send(ctx, f.member, f.group, "s4", "free again"); err != nil {
		t.Fatalf("send with slow mode off: %v", err)
	}
	for _, bad := range []int{-1, chat.MaxSlowModeSeconds + 1} {
		if _, err := e.chat.SetSlowMode(ctx, f.owner, f.group, bad); code(err) != fault.BadUserInput {
			t.Fatalf("slow mode %d: %v", bad, err)
		}
	}
}

func TestAnnouncementOnlyGroupsLetOnlyAdminsSend(t *testing.T) {
	ctx := context.Background()
	f := newModFixture(t)
	e := f.e
	if _, err := e.chat.SetAnnouncementOnly(ctx, f.owner, f.group, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Send(ctx, f.member, f.group, "m1", "hi"); code(err) != fault.Forbidden {
		t.Fatalf("a member sending: %v", err)
	}
	if _, err := e.chat.Send(ctx, f.admin, f.group, "a1", "news"); err != nil {
		t.Fatalf("an admin sending: %v", err)
	}
	if _, err := e.chat.SetAnnouncementOnly(ctx, f.admin, f.group, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Send(ctx, f.member, f.group, "m2", "hi again"); err != nil {
		t.Fatalf("a member sending after: %v", err)
	}
}

func TestModeratorDeletionRecordsWhoAndIsLogged(t *testing.T) {
	ctx := context.Background()
	f := newModFixture(t)
	e := f.e
	got := collect{events: make(chan realtime.Event, 64)}
	cancel, err := e.log.Subscribe(ctx, f.member, "", got)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	e.advance(48 * time.Hour) // moderators have no recall window
	m, err := e.chat.Delete(ctx, f.admin, f.msgID, true)
	if err != nil || m.DeletedAt == nil || m.Body != "" {
		t.Fatalf("moderator delete = %+v, %v", m, err)
	}
	var deleted *chat.MessageDeleted
	for len(got.events) > 0 {
		if ev := <-got.events; ev.Type == "MessageDeleted" {
			deleted, _ = ev.Value.(*chat.MessageDeleted)
		}
	}
	if deleted == nil || !deleted.ForEveryone || deleted.DeletedByID != f.admin {
		t.Fatalf("the members' MessageDeleted = %+v, want one naming the admin", deleted)
	}
	if by, err := e.chat.DeletedBy(ctx, m); err != nil || by != f.admin {
		t.Fatalf("DeletedBy = %q, %v; want the admin", by, err)
	}
	own, _ := e.chat.Send(ctx, f.member, f.group, "own", "mine")
	own, _ = e.chat.Delete(ctx, f.member, own.ID, true)
	if by, _ := e.chat.DeletedBy(ctx, own); by != f.member {
		t.Fatalf("a recall's DeletedBy = %q, want the sender", by)
	}
	log, _, err := e.chat.ModerationLog(ctx, f.owner, f.group, 0, "")
	if err != nil || len(log) == 0 || log[0].Action != chat.ActionDeleteMessage || log[0].ActorID != f.admin || log[0].MessageID != f.msgID {
		t.Fatalf("log = %+v, %v", log, err)
	}
	// The log pages newest first.
	first, more, _ := e.chat.ModerationLog(ctx, f.owner, f.group, 1, "")
	rest, _, _ := e.chat.ModerationLog(ctx, f.owner, f.group, 100, chat.ModerationCursor(first[0]))
	if !more || len(rest) != len(log)-1 || rest[0].ID != log[1].ID {
		t.Fatalf("paging the log: more=%v rest=%d of %d", more, len(rest), len(log))
	}
	actions := map[string]bool{}
	for _, x := range log {
		actions[x.Action] = true
	}
	for _, a := range []string{chat.ActionBan, chat.ActionInviteCreated, chat.ActionSetRole, chat.ActionDeleteMessage} {
		if !actions[a] {
			t.Errorf("the log misses %s: %+v", a, log)
		}
	}
	_ = storage.RoleAdmin
}
