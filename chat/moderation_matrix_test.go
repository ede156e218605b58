package chat_test

import (
	"context"
	"testing"
	"time"

	"messenger/chat"
	"messenger/fault"
	"messenger/storage"
)

// modFixture is a group with an owner, an admin, a member, a target member
// with a message, an approval link with one pending request, and one
// banned user: everything every moderation action can act on.
type modFixture struct {
	e                                           *rulesEnv
	group                                       string
	owner, admin, member, target, outsider      string
	requester, banned, code, msgID, freshInvite string
}

func newModFixture(t *testing.T) *modFixture {
	t.Helper()
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	f := &modFixture{e: e, owner: e.user(t, "owner"), admin: e.user(t, "admin"), member: e.user(t, "member"),
		target: e.user(t, "target"), outsider: e.user(t, "outsider"), requester: e.user(t, "requester"), banned: e.user(t, "banned")}
	g, err := e.chat.CreateGroup(ctx, f.owner, "team", []string{f.admin, f.member, f.target})
	if err != nil {
		t.Fatal(err)
	}
	f.group = g.ID
	if _, err := e.chat.SetRole(ctx, f.owner, g.ID, f.admin, storage.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	m, err := e.chat.Send(ctx, f.target, g.ID, "c1", "hello")
	if err != nil {
		t.Fatal(err)
	}
	f.msgID = m.ID
	l, err := e.chat.CreateInviteLink(ctx, f.owner, g.ID, chat.InviteLinkInput{RequireApproval: true})
	if err != nil {
		t.Fatal(err)
	}
	f.code = l.Code
	if j, err := e.chat.JoinByInvite(ctx, f.requester, l.Code); err != nil || j.Status != chat.Requested {
		t.Fatalf("join request: %+v, %v", j, err)
	}
	if _, err := e.chat.BanMember(ctx, f.owner, g.ID, f.banned, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

// state is what a refused action must leave as it was.
type modState struct {
	members, links, requests, bans, logLen int
	revoked, deleted                       bool
	rules                                  storage.ModerationSettings
}

func (f *modFixture) state(t *testing.T) modState {
	t.Helper()
	ctx := context.Background()
	var s modState
	s.members, _ = f.e.chat.MemberCount(ctx, f.group)
	links, err := f.e.chat.InviteLinks(ctx, f.owner, f.group)
	if err != nil {
		t.Fatal(err)
	}
	s.links = len(links)
	for _, l := range links {
		s.revoked = s.revoked || !l.RevokedAt.IsZero()
	}
	reqs, _, _ := f.e.chat.JoinRequests(ctx, f.owner, f.group, 0, "")
	bans, _, _ := f.e.chat.BannedMembers(ctx, f.owner, f.group, 0, "")
	log, _, _ := f.e.chat.ModerationLog(ctx, f.owner, f.group, 100, "")
	s.requests, s.bans, s.logLen = len(reqs), len(bans), len(log)
	m, _ := f.e.chat.Message(ctx, f.owner, f.msgID)
	s.deleted = m.DeletedAt != nil
	s.rules, _ = f.e.chat.ModerationSettings(ctx, f.owner, f.group)
	return s
}

// TestModerationPermissionMatrix checks every moderation action for each
// role of the actor: owners and admins moderate, members get FORBIDDEN, and
// to an outsider the group does not exist (NOT_FOUND). A refused action
// changes nothing.
func TestModerationPermissionMatrix(t *testing.T) {
	ctx := context.Background()
	ops := []struct {
		name string
		do   func(f *modFixture, actor string) error
	}{
		{"createInviteLink", func(f *modFixture, a string) error {
			_, err := f.e.chat.CreateInviteLink(ctx, a, f.group, chat.InviteLinkInput{})
			return err
		}},
		{"revokeInviteLink", func(f *modFixture, a string) error { _, err := f.e.chat.RevokeInviteLink(ctx, a, f.code); return err }},
		{"inviteLinks", func(f *modFixture, a string) error { _, err := f.e.chat.InviteLinks(ctx, a, f.group); return err }},
		{"joinRequests", func(f *modFixture, a string) error {
			_, _, err := f.e.chat.JoinRequests(ctx, a, f.group, 0, "")
			return err
		}},
		{"approveJoinRequest", func(f *modFixture, a string) error {
			_, err := f.e.chat.ApproveJoinRequest(ctx, a, f.group, f.requester)
			return err
		}},
		{"declineJoinRequest", func(f *modFixture, a string) error { return f.e.chat.DeclineJoinRequest(ctx, a, f.group, f.requester) }},
		{"banMember", func(f *modFixture, a string) error {
			_, err := f.e.chat.BanMember(ctx, a, f.group, f.target, nil)
			return err
		}},
		{"unbanMember", func(f *modFixture, a string) error { return f.e.chat.UnbanMember(ctx, a, f.group, f.banned) }},
		{"bannedMembers", func(f *modFixture, a string) error {
			_, _, err := f.e.chat.BannedMembers(ctx, a, f.group, 0, "")
			return err
		}},
		{"setSlowMode", func(f *modFixture, a string) error { _, err := f.e.chat.SetSlowMode(ctx, a, f.group, 60); return err }},
		{"setAnnouncementOnly", func(f *modFixture, a string) error {
			_, err := f.e.chat.SetAnnouncementOnly(ctx, a, f.group, true)
			return err
		}},
		{"moderationLog", func(f *modFixture, a string) error {
			_, _, err := f.e.chat.ModerationLog(ctx, a, f.group, 0, "")
			return err
		}},
		{"deleteOthersMessage", func(f *modFixture, a string) error { _, err := f.e.chat.Delete(ctx, a, f.msgID, true); return err }},
	}
	want := map[string]fault.Code{"owner": "", "admin": "", "member": fault.Forbidden, "outsider": fault.NotFound}
	for _, role := range []string{"owner", "admin", "member", "outsider"} {
		for _, o := range ops {
			t.Run(role+"/"+o.name, func(t *testing.T) {
				f := newModFixture(t)
				actor := map[string]string{"owner": f.owner, "admin": f.admin, "member": f.member, "outsider": f.outsider}[role]
				before := f.state(t)
				err := o.do(f, actor)
				if got := code(err); got != want[role] {
					t.Fatalf("%s %s: got %q (%v), want %q", role, o.name, got, err, want[role])
				}
				if err != nil {
					if after := f.state(t); after != before {
						t.Fatalf("a refused %s changed the group:\n before %+v\n after  %+v", o.name, before, after)
					}
				}
			})
		}
	}
}

func TestBansFollowTheRoleLadder(t *testing.T) {
	ctx := context.Background()
	f := newModFixture(t)
	e := f.e
	admin2 := e.user(t, "admin")
	if _, err := e.chat.AddMembers(ctx, f.owner, f.group, []string{admin2}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.SetRole(ctx, f.owner, f.group, admin2, storage.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		actor, target string
		want          fault.Code
	}{
		{f.admin, f.owner, fault.Forbidden},
		{f.admin, admin2, fault.Forbidden},
		{f.admin, f.admin, fault.BadUserInput},
		{f.owner, admin2, ""},
		{f.admin, f.outsider, ""}, // a non-member may be banned ahead
	}
	for _, c := range cases {
		if _, err := e.chat.BanMember(ctx, c.actor, f.group, c.target, nil); code(err) != c.want {
			t.Errorf("ban %s by %s: %v, want %q", c.target, c.actor, err, c.want)
		}
	}
	if _, err := e.chat.Membership(ctx, admin2, f.group); code(err) != fault.NotFound {
		t.Fatalf("a banned admin is still a member: %v", err)
	}
}

func TestABannedUserIsNeitherAddedNorJoinsByLinkUntilUnbannedOrExpired(t *testing.T) {
	ctx := context.Background()
	f := newModFixture(t)
	e := f.e
	open, err := e.chat.CreateInviteLink(ctx, f.admin, f.group, chat.InviteLinkInput{})
	if err != nil {
		t.Fatal(err)
	}
	until := e.clock().Add(time.Hour)
	if _, err := e.chat.BanMember(ctx, f.admin, f.group, f.target, &until); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Membership(ctx, f.target, f.group); code(err) != fault.NotFound {
		t.Fatalf("banning did not remove: %v", err)
	}
	if _, err := e.chat.AddMembers(ctx, f.owner, f.group, []string{f.target}); code(err) != fault.Forbidden {
		t.Fatalf("re-adding a banned user: %v", err)
	}
	if _, err := e.chat.JoinByInvite(ctx, f.target, open.Code); code(err) != fault.Forbidden {
		t.Fatalf("a banned user joining by link: %v", err)
	}
	if _, err := e.chat.JoinByInvite(ctx, f.banned, open.Code); code(err) != fault.Forbidden {
		t.Fatalf("a banned-for-good user joining by link: %v", err)
	}
	if err := e.chat.UnbanMember(ctx, f.owner, f.group, f.banned); err != nil {
		t.Fatal(err)
	}
	if j, err := e.chat.JoinByInvite(ctx, f.banned, open.Code); err != nil || j.Status != chat.Joined {
		t.Fatalf("an unbanned user joining: %+v, %v", j, err)
	}
	e.advance(time.Hour + time.Second)
	if j, err := e.chat.JoinByInvite(ctx, f.target, open.Code); err != nil || j.Status != chat.Joined {
		t.Fatalf("joining after the ban expired: %+v, %v", j, err)
	}
	if bans, _, _ := e.chat.BannedMembers(ctx, f.owner, f.group, 0, ""); len(bans) != 0 {
		t.Fatalf("expired or lifted bans are still listed: %+v", bans)
	}
}
