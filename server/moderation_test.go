package server_test

import (
	"testing"
	"time"

	"messenger/apitest"
	"messenger/server"
)

// Invite links, join requests, bans, posting rules and the moderation log,
// through GraphQL: the wiring, the permission matrix and bad input. The
// rules themselves are tested beside the domain (chat/moderation_*_test.go).

const (
	createInviteOp = `mutation($c: ID!, $i: CreateInviteLinkInput!) { createInviteLink(conversationId: $c, input: $i) {
		code uses maxUses expiresAt requireApproval revokedAt conversation { id } createdBy { id } } }`
	revokeInviteOp  = `mutation($code: String!) { revokeInviteLink(code: $code) { code revokedAt } }`
	inviteLinksOp   = `query($c: ID!) { inviteLinks(conversationId: $c) { code uses revokedAt } }`
	previewInviteOp = `query($code: String!) { previewInvite(code: $code) { title memberCount requireApproval } }`
	joinByInviteOp  = `mutation($code: String!) { joinByInvite(code: $code) { status conversation { id memberCount } } }`
	joinRequestsOp  = `query($c: ID!) { joinRequests(conversationId: $c) { user { id } requestedAt } }`
	approveOp       = `mutation($c: ID!, $u: ID!) { approveJoinRequest(conversationId: $c, userId: $u) { id memberCount } }`
	declineOp       = `mutation($c: ID!, $u: ID!) { declineJoinRequest(conversationId: $c, userId: $u) }`
	banOp           = `mutation($c: ID!, $u: ID!, $until: Time) { banMember(conversationId: $c, userId: $u, until: $until) { user { id } bannedBy { id } bannedAt until } }`
	unbanOp         = `mutation($c: ID!, $u: ID!) { unbanMember(conversationId: $c, userId: $u) }`
	bannedOp        = `query($c: ID!) { bannedMembers(conversationId: $c) { user { id } until } }`
	slowModeOp      = `mutation($c: ID!, $s: Int!) { setSlowMode(conversationId: $c, slowModeSeconds: $s) { id slowModeSeconds } }`
	announceOp      = `mutation($c: ID!, $on: Boolean!) { setAnnouncementOnly(conversationId: $c, announcementOnly: $on) { id announcementOnly } }`
	modLogOp        = `query($c: ID!, $first: Int, $after: String) { moderationLog(conversationId: $c, first: $first, after: $after) {
		edges { cursor node { action actor { id } targetUser { id } messageId detail at } } pageInfo { hasNextPage endCursor } } }`
	modSendOp = `mutation($c: ID!, $k: String!, $b: String!) { sendMessage(input: {conversationId: $c, clientMessageId: $k, body: $b}) { id } }`
)

// modGroup is a group with an admin, a member, a message of the target, an
// approval link with one pending request and one banned user.
type modGroup struct {
	id, code, msg                                           string
	owner, admin, member, target, outsider, requester, gone *apitest.Client
}

func newModGroup(t *testing.T, api *testAPI) *modGroup {
	t.Helper()
	us := api.signUpMany(t, "mod", 7)
	g := &modGroup{owner: us[0], admin: us[1], member: us[2], target: us[3], outsider: us[4], requester: us[5], gone: us[6]}
	g.id = createGroup(t, g.owner, "moderated", g.admin, g.member, g.target)
	g.owner.Must(t, setRoleOp, map[string]any{"c": g.id, "u": g.admin.UserID, "r": "ADMIN"}, nil)
	var sent struct{ SendMessage struct{ ID string } }
	g.target.Must(t, modSendOp, map[string]any{"c": g.id, "k": "k1", "b": "hello"}, &sent)
	g.msg = sent.SendMessage.ID
	var l struct{ CreateInviteLink struct{ Code string } }
	g.owner.Must(t, createInviteOp, map[string]any{"c": g.id, "i": map[string]any{"requireApproval": true}}, &l)
	g.code = l.CreateInviteLink.Code
	var j struct{ JoinByInvite struct{ Status string } }
	g.requester.Must(t, joinByInviteOp, map[string]any{"code": g.code}, &j)
	if j.JoinByInvite.Status != "REQUESTED" {
		t.Fatalf("join by an approval link: %s", j.JoinByInvite.Status)
	}
	g.owner.Must(t, banOp, map[string]any{"c": g.id, "u": g.gone.UserID}, nil)
	return g
}

// snapshot is what a refused mutation must leave as it was, read by the
// owner.
func (g *modGroup) snapshot(t *testing.T) string {
	t.Helper()
	r := g.owner.Do(t, `query($c: ID!, $m: ID!) {
		conversation(id: $c) { memberCount slowModeSeconds announcementOnly }
		inviteLinks(conversationId: $c) { code uses revokedAt }
		joinRequests(conversationId: $c) { user { id } }
		bannedMembers(conversationId: $c) { user { id } until }
		node(id: $m) { ... on Message { body deletedAt } }
		moderationLog(conversationId: $c, first: 100) { edges { node { action } } }
	}`, map[string]any{"c": g.id, "m": g.msg})
	if len(r.Errors) > 0 {
		t.Fatalf("snapshot: %+v", r.Errors)
	}
	return string(r.Data)
}

// TestModerationPermissionMatrixOverGraphQL: owner/admin/member/outsider ×
// every moderation operation. Owners and admins may; members get
// FORBIDDEN; to outsiders the group does not exist (NOT_FOUND). A refusal
// changes nothing.
func TestModerationPermissionMatrixOverGraphQL(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	ops := []struct {
		name, doc string
		vars      func(g *modGroup) map[string]any
	}{
		{"createInviteLink", createInviteOp, func(g *modGroup) map[string]any { return map[string]any{"c": g.id, "i": map[string]any{}} }},
		{"revokeInviteLink", revokeInviteOp, func(g *modGroup) map[string]any { return map[string]any{"code": g.code} }},
		{"inviteLinks", inviteLinksOp, func(g *modGroup) map[string]any { return map[string]any{"c": g.id} }},
		{"joinRequests", joinRequestsOp, func(g *modGroup) map[string]any { return map[string]any{"c": g.id} }},
		{"approveJoinRequest", approveOp, func(g *modGroup) map[string]any { return map[string]any{"c": g.id, "u": g.requester.UserID} }},
		{"declineJoinRequest", declineOp, func(g *modGroup) map[string]any { return map[string]any{"c": g.id, "u": g.requester.UserID} }},
		{"banMember", banOp, func(g *modGroup) map[string]any { return map[string]any{"c": g.id, "u": g.target.UserID} }},
		{"unbanMember", unbanOp, func(g *modGroup) map[string]any { return map[string]any{"c": g.id, "u": g.gone.UserID} }},
		{"bannedMembers", bannedOp, func(g *modGroup) map[string]any { return map[string]any{"c": g.id} }},
		{"setSlowMode", slowModeOp, func(g *modGroup) map[string]any { return map[string]any{"c": g.id, "s": 30} }},
		{"setAnnouncementOnly", announceOp, func(g *modGroup) map[string]any { return map[string]any{"c": g.id, "on": true} }},
		{"moderationLog", modLogOp, func(g *modGroup) map[string]any { return map[string]any{"c": g.id} }},
		{"deleteOthersMessage", deleteOp, func(g *modGroup) map[string]any { return map[string]any{"m": g.msg, "e": true} }},
	}
	want := map[string]string{"owner": "", "admin": "", "member": "FORBIDDEN", "outsider": "NOT_FOUND"}
	for _, role := range []string{"owner", "admin", "member", "outsider"} {
		for _, op := range ops {
			t.Run(role+"/"+op.name, func(t *testing.T) {
				g := newModGroup(t, api)
				actor := map[string]*apitest.Client{"owner": g.owner, "admin": g.admin, "member": g.member, "outsider": g.outsider}[role]
				before := g.snapshot(t)
				r := actor.Do(t, op.doc, op.vars(g))
				if r.Code() != want[role] {
					t.Fatalf("%s %s: got %q %+v, want %q", role, op.name, r.Code(), r.Errors, want[role])
				}
				if want[role] != "" {
					if after := g.snapshot(t); after != before {
						t.Fatalf("a refused %s changed the group:\n before %s\n after  %s", op.name, before, after)
					}
				}
			})
		}
	}
}

// TestModerationBadInputIsRefusedAndChangesNothing: every new mutation
// with a bad argument answers with extensions.code and leaves the group
// as it was. A malformed global id is NOT_FOUND, as everywhere in the API.
func TestModerationBadInputIsRefusedAndChangesNothing(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	g := newModGroup(t, api)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	cases := []struct {
		name, code, doc string
		vars            map[string]any
	}{
		{"maxUses 0", "BAD_USER_INPUT", createInviteOp, map[string]any{"c": g.id, "i": map[string]any{"maxUses": 0}}},
		{"maxUses too many", "BAD_USER_INPUT", createInviteOp, map[string]any{"c": g.id, "i": map[string]any{"maxUses": 1_000_000}}},
		{"expiresAt in the past", "BAD_USER_INPUT", createInviteOp, map[string]any{"c": g.id, "i": map[string]any{"expiresAt": past}}},
		{"link to a malformed id", "NOT_FOUND", createInviteOp, map[string]any{"c": "nope", "i": map[string]any{}}},
		{"revoke a malformed code", "BAD_USER_INPUT", revokeInviteOp, map[string]any{"code": "x"}},
		{"revoke an unknown code", "NOT_FOUND", revokeInviteOp, map[string]any{"code": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
		{"join by a malformed code", "BAD_USER_INPUT", joinByInviteOp, map[string]any{"code": "../../etc"}},
		{"join by an unknown code", "NOT_FOUND", joinByInviteOp, map[string]any{"code": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
		{"approve nobody's request", "NOT_FOUND", approveOp, map[string]any{"c": g.id, "u": g.outsider.UserID}},
		{"approve a malformed user", "NOT_FOUND", approveOp, map[string]any{"c": g.id, "u": "nope"}},
		{"decline nobody's request", "NOT_FOUND", declineOp, map[string]any{"c": g.id, "u": g.outsider.UserID}},
		{"ban until the past", "BAD_USER_INPUT", banOp, map[string]any{"c": g.id, "u": g.target.UserID, "until": past}},
		{"ban myself", "BAD_USER_INPUT", banOp, map[string]any{"c": g.id, "u": g.owner.UserID}},
		{"ban a malformed user", "NOT_FOUND", banOp, map[string]any{"c": g.id, "u": "nope"}},
		{"unban someone not banned", "NOT_FOUND", unbanOp, map[string]any{"c": g.id, "u": g.target.UserID}},
		{"slow mode below 0", "BAD_USER_INPUT", slowModeOp, map[string]any{"c": g.id, "s": -1}},
		{"slow mode above 6 h", "BAD_USER_INPUT", slowModeOp, map[string]any{"c": g.id, "s": 21_601}},
		{"announcement-only of a malformed id", "NOT_FOUND", announceOp, map[string]any{"c": "nope", "on": true}},
	}
	before := g.snapshot(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := g.owner.Refused(t, c.code, c.doc, c.vars)
			if e.Message == "" {
				t.Fatal("a refusal without a message")
			}
			if after := g.snapshot(t); after != before {
				t.Fatalf("a refused call changed the group:\n before %s\n after  %s", before, after)
			}
		})
	}
}

func TestInviteLinksOverGraphQL(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	g := newModGroup(t, api)
	var l struct {
		CreateInviteLink struct {
			Code         string
			MaxUses      *int
			Conversation struct{ ID string }
			CreatedBy    struct{ ID string }
		}
	}
	g.admin.Must(t, createInviteOp, map[string]any{"c": g.id, "i": map[string]any{"maxUses": 1}}, &l)
	link := l.CreateInviteLink
	if len(link.Code) < 22 || link.MaxUses == nil || *link.MaxUses != 1 || link.Conversation.ID != g.id || link.CreatedBy.ID != g.admin.UserID {
		t.Fatalf("created link = %+v", link)
	}
	// A preview shows title, size and approval, and nothing else exists
	// in its type to leak.
	var p struct{ PreviewInvite map[string]any }
	g.outsider.Must(t, previewInviteOp, map[string]any{"code": link.Code}, &p)
	if p.PreviewInvite["title"] != "moderated" || p.PreviewInvite["memberCount"] != float64(4) || len(p.PreviewInvite) != 3 {
		t.Fatalf("preview = %+v", p.PreviewInvite)
	}
	anon := &apitest.Client{URL: api.URL}
	anon.Refused(t, "UNAUTHENTICATED", previewInviteOp, map[string]any{"code": link.Code})
	var j struct {
		JoinByInvite struct {
			Status       string
			Conversation struct {
				ID          string
				MemberCount int
			}
		}
	}
	g.outsider.Must(t, joinByInviteOp, map[string]any{"code": link.Code}, &j)
	if j.JoinByInvite.Status != "JOINED" || j.JoinByInvite.Conversation.MemberCount != 5 {
		t.Fatalf("join = %+v", j)
	}
	g.requester.Refused(t, "NOT_FOUND", joinByInviteOp, map[string]any{"code": link.Code}) // used up
	// The approval link's request.
	var reqs struct {
		JoinRequests []struct{ User struct{ ID string } }
	}
	g.admin.Must(t, joinRequestsOp, map[string]any{"c": g.id}, &reqs)
	if len(reqs.JoinRequests) != 1 || reqs.JoinRequests[0].User.ID != g.requester.UserID {
		t.Fatalf("requests = %+v", reqs)
	}
	g.admin.Must(t, approveOp, map[string]any{"c": g.id, "u": g.requester.UserID}, nil)
	var c struct{ Conversation struct{ MemberCount int } }
	g.requester.Must(t, `query($c: ID!) { conversation(id: $c) { memberCount } }`, map[string]any{"c": g.id}, &c)
	if c.Conversation.MemberCount != 6 {
		t.Fatalf("after approval memberCount = %d", c.Conversation.MemberCount)
	}
	g.owner.Must(t, revokeInviteOp, map[string]any{"code": g.code}, nil)
	var links struct {
		InviteLinks []struct {
			Code      string
			Uses      int
			RevokedAt *string
		}
	}
	g.owner.Must(t, inviteLinksOp, map[string]any{"c": g.id}, &links)
	if len(links.InviteLinks) != 2 {
		t.Fatalf("links = %+v", links)
	}
	for _, l := range links.InviteLinks {
		if (l.Code == g.code) != (l.RevokedAt != nil) || l.Code == link.Code && l.Uses != 1 {
			t.Fatalf("links = %+v", links)
		}
	}
}

func TestBansSlowModeAndAnnouncementsOverGraphQL(t *testing.T) {
	clk := newClock()
	api := startAPI(t, testAPIConfig{now: clk.Now})
	g := newModGroup(t, api)
	var open struct{ CreateInviteLink struct{ Code string } }
	g.owner.Must(t, createInviteOp, map[string]any{"c": g.id, "i": map[string]any{}}, &open)
	g.admin.Must(t, banOp, map[string]any{"c": g.id, "u": g.target.UserID}, nil)
	g.owner.Refused(t, "FORBIDDEN", addMembersOp, map[string]any{"c": g.id, "u": []string{g.target.UserID}})
	g.target.Refused(t, "FORBIDDEN", joinByInviteOp, map[string]any{"code": open.CreateInviteLink.Code})
	var banned struct {
		BannedMembers []struct{ User struct{ ID string } }
	}
	g.admin.Must(t, bannedOp, map[string]any{"c": g.id}, &banned)
	if len(banned.BannedMembers) != 2 {
		t.Fatalf("banned = %+v", banned)
	}
	g.admin.Must(t, unbanOp, map[string]any{"c": g.id, "u": g.target.UserID}, nil)
	g.target.Must(t, joinByInviteOp, map[string]any{"code": open.CreateInviteLink.Code}, nil)

	var sm struct{ SetSlowMode struct{ SlowModeSeconds int } }
	g.admin.Must(t, slowModeOp, map[string]any{"c": g.id, "s": 60}, &sm)
	if sm.SetSlowMode.SlowModeSeconds != 60 {
		t.Fatalf("slowModeSeconds = %d", sm.SetSlowMode.SlowModeSeconds)
	}
	g.member.Must(t, modSendOp, map[string]any{"c": g.id, "k": "s1", "b": "one"}, nil)
	e := g.member.Refused(t, "RATE_LIMITED", modSendOp, map[string]any{"c": g.id, "k": "s2", "b": "two"})
	if e.Extensions["retryAt"] == nil {
		t.Fatalf("slow mode refusal without retryAt: %+v", e)
	}
	g.admin.Must(t, modSendOp, map[string]any{"c": g.id, "k": "a1", "b": "admins are exempt"}, nil)
	g.admin.Must(t, modSendOp, map[string]any{"c": g.id, "k": "a2", "b": "still exempt"}, nil)
	clk.Advance(61 * time.Second)
	g.member.Must(t, modSendOp, map[string]any{"c": g.id, "k": "s3", "b": "three"}, nil)

	g.owner.Must(t, announceOp, map[string]any{"c": g.id, "on": true}, nil)
	g.member.Refused(t, "FORBIDDEN", modSendOp, map[string]any{"c": g.id, "k": "s4", "b": "four"})
	g.admin.Must(t, modSendOp, map[string]any{"c": g.id, "k": "a3", "b": "announcement"}, nil)
}

func TestModeratorDeletionAndTheLogOverGraphQL(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	g := newModGroup(t, api)
	ev := subscribe(t, g.member)
	g.admin.Must(t, deleteOp, map[string]any{"m": g.msg, "e": true}, nil)
	if got := ev.NextOfType(t, "MessageDeleted"); !got.ForEveryone {
		t.Fatalf("event = %+v", got)
	}
	var m struct {
		Message struct {
			Body      *string
			DeletedBy *struct{ ID string }
		} `json:"node"`
	}
	g.member.Must(t, `query($m: ID!) { node(id: $m) { ... on Message { body deletedBy { id } } } }`, map[string]any{"m": g.msg}, &m)
	if m.Message.Body != nil || m.Message.DeletedBy == nil || m.Message.DeletedBy.ID != g.admin.UserID {
		t.Fatalf("tombstone = %+v", m.Message)
	}
	var log struct {
		ModerationLog struct {
			Edges []struct {
				Cursor string
				Node   struct {
					Action    string
					Actor     struct{ ID string }
					MessageID *string
				}
			}
			PageInfo struct{ HasNextPage bool }
		}
	}
	g.owner.Must(t, modLogOp, map[string]any{"c": g.id, "first": 1}, &log)
	first := log.ModerationLog
	if len(first.Edges) != 1 || !first.PageInfo.HasNextPage || first.Edges[0].Node.Action != "DELETE_MESSAGE" ||
		first.Edges[0].Node.Actor.ID != g.admin.UserID || first.Edges[0].Node.MessageID == nil || *first.Edges[0].Node.MessageID != g.msg {
		t.Fatalf("newest log entry = %+v", first)
	}
	g.owner.Must(t, modLogOp, map[string]any{"c": g.id, "first": 100, "after": first.Edges[0].Cursor}, &log)
	if len(log.ModerationLog.Edges) < 3 || log.ModerationLog.Edges[0].Node.Action == "DELETE_MESSAGE" {
		t.Fatalf("older entries = %+v", log.ModerationLog.Edges)
	}
	g.owner.Refused(t, "BAD_USER_INPUT", modLogOp, map[string]any{"c": g.id, "after": "%%%"})
}

func TestInviteCodeGuessesAreRateLimited(t *testing.T) {
	api := startProd(t, prodOptions{config: func(c *server.Config) {
		c.Limits.Auth = slow(5)
		c.ClientIPHeader = "X-Real-IP"
	}})
	guesser := apitest.SignUp(t, api.URL, "guesser")
	codes := 0
	for i := range 10 {
		r := post(t, api, map[string]any{"query": joinByInviteOp, "variables": map[string]any{"code": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" + string(rune('A'+i))}},
			map[string]string{"X-Real-IP": "10.8.0.1", "Authorization": "Bearer " + guesser.Token})
		if r.Code() == "RATE_LIMITED" {
			codes++
		}
	}
	if codes == 0 {
		t.Fatal("10 guesses with a burst of 5 were all answered")
	}
}
