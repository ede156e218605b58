package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/apitest"
	"messenger/cql/cqltest"
	"messenger/ids"
	"messenger/server"
	"messenger/storage/cassandra"
)

// Profiles, group details and per-member state through GraphQL, on the
// embedded store and on Cassandra.

const (
	updateMembershipOp = `mutation($c: ID!, $i: UpdateMembershipInput!) { updateMembership(conversationId: $c, input: $i) {
		archived pinned pinnedAt muted mutedUntil notificationLevel markedUnread conversation { id } } }`
	markUnreadOp         = `mutation($c: ID!) { markUnread(conversationId: $c) { id unreadCount myReadSeq } }`
	saveDraftOp          = `mutation($c: ID!, $b: String!) { saveDraft(conversationId: $c, body: $b) { body updatedAt } }`
	updateProfileOp      = `mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { id displayName bio } }`
	updateConversationOp = `mutation($c: ID!, $i: UpdateConversationInput!) { updateConversation(conversationId: $c, input: $i) { id title description } }`
	transferOp           = `mutation($c: ID!, $u: ID!) { transferOwnership(conversationId: $c, userId: $u) { id } }`
	listOp               = `query($f: ConversationFilter) { conversations(filter: $f, orderBy: LAST_ACTIVITY) { edges { node { title membership { archived pinned } } } } }`
	countsOp             = `{ conversationCounts { all archived unread pinned } }`
	deleteConversationOp = `mutation($c: ID!) { deleteConversation(conversationId: $c) }`
	changeUsernameOp     = `mutation($u: String!) { changeUsername(username: $u) { id username } }`
)

// onBothStores runs fn against the API on the embedded store and on
// Cassandra (when MESSENGER_CASSANDRA_HOSTS names one).
func onBothStores(t *testing.T, fn func(t *testing.T, api *testAPI)) {
	t.Run("pebble", func(t *testing.T) { fn(t, startAPI(t, testAPIConfig{})) })
	t.Run("cassandra", func(t *testing.T) {
		cfg := cqltest.Config(t, "test_srv_")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		st, err := cassandra.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = st.Close()
			cluster := gocql.NewCluster(cfg.Hosts...)
			if s, err := cluster.CreateSession(); err == nil {
				cqltest.DropKeyspace(t, s, cfg.Keyspace)
				s.Close()
			}
		})
		store := &countingStore{Store: st}
		_, url := newEmbedded(t, apiOptions{store: store}).serve(t, server.Config{})
		fn(t, &testAPI{URL: url, Store: store})
	})
}

type listed struct {
	Conversations struct {
		Edges []struct {
			Node struct {
				Title      string
				Membership struct{ Archived, Pinned bool }
			}
		}
	}
}

func listTitles(t *testing.T, c *apitest.Client, filter map[string]any) []string {
	t.Helper()
	var out listed
	c.Must(t, listOp, map[string]any{"f": filter}, &out)
	var titles []string
	for _, e := range out.Conversations.Edges {
		titles = append(titles, e.Node.Title)
	}
	return titles
}

func TestPerMemberStateIsPrivateAndSyncsMyDevices(t *testing.T) {
	onBothStores(t, func(t *testing.T, api *testAPI) {
		me, other := api.signUp(t, "me"), api.signUp(t, "other")
		a := createGroup(t, me, "a", other)
		b := createGroup(t, me, "b", other)
		sendMsg(t, other, a, "k1", "hello")
		myOtherDevice, theirs := subscribe(t, me), subscribe(t, other)

		var upd struct {
			UpdateMembership struct {
				Archived, Pinned, Muted bool
				MutedUntil              *string
				NotificationLevel       *string
			}
		}
		me.Must(t, updateMembershipOp, map[string]any{"c": a, "i": map[string]any{"archived": true, "muted": true, "notificationLevel": "MENTIONS"}}, &upd)
		if u := upd.UpdateMembership; !u.Archived || !u.Muted || u.MutedUntil == nil || !strings.HasPrefix(*u.MutedUntil, "9999-01-01") || *u.NotificationLevel != "MENTIONS" {
			t.Fatalf("updateMembership = %+v", u)
		}
		myOtherDevice.NextOfType(t, "MembershipUpdated")
		theirs.ExpectNone(t, "MembershipUpdated", 200*time.Millisecond)
		me.Must(t, updateMembershipOp, map[string]any{"c": b, "i": map[string]any{"pinned": true}}, nil)

		if got := listTitles(t, me, map[string]any{"archived": true}); fmt.Sprint(got) != "[a]" {
			t.Fatalf("archived list = %v", got)
		}
		if got := listTitles(t, me, map[string]any{"archived": false}); fmt.Sprint(got) != "[b]" {
			t.Fatalf("main list = %v", got)
		}
		// The other member's view of the same conversation is theirs.
		if got := listTitles(t, other, nil); len(got) != 2 {
			t.Fatalf("other's list = %v", got)
		}
		var theirState struct {
			Conversation struct {
				Membership struct{ Archived, Muted bool }
			}
		}
		other.Must(t, `query($c: ID!) { conversation(id: $c) { membership { archived muted } } }`, map[string]any{"c": a}, &theirState)
		if s := theirState.Conversation.Membership; s.Archived || s.Muted {
			t.Fatalf("other member sees my state: %+v", s)
		}

		// Muted: a new message leaves it archived.
		sendMsg(t, other, a, "k2", "still quiet")
		if got := listTitles(t, me, map[string]any{"archived": true}); fmt.Sprint(got) != "[a]" {
			t.Fatalf("archived list after a message while muted = %v", got)
		}

		// markUnread: my cursor moves back, the sender's ticks do not.
		var mu struct {
			MarkUnread struct{ UnreadCount, MyReadSeq int }
		}
		me.Must(t, `mutation($c: ID!, $s: Int!) { markRead(conversationId: $c, seq: $s) { id } }`, map[string]any{"c": a, "s": 2}, nil)
		me.Must(t, markUnreadOp, map[string]any{"c": a}, &mu)
		if mu.MarkUnread.UnreadCount < 1 || mu.MarkUnread.MyReadSeq != 1 {
			t.Fatalf("markUnread = %+v", mu.MarkUnread)
		}
		var receipts struct {
			Conversation struct{ LastMessage struct{ ReadCount int } }
		}
		other.Must(t, `query($c: ID!) { conversation(id: $c) { lastMessage { readCount } } }`, map[string]any{"c": a}, &receipts)
		if receipts.Conversation.LastMessage.ReadCount != 1 {
			t.Fatalf("sender's read count after my markUnread = %d, want still 1", receipts.Conversation.LastMessage.ReadCount)
		}
		var n struct {
			ConversationCounts struct{ All, Archived, Unread, Pinned int }
		}
		me.Must(t, countsOp, nil, &n)
		if c := n.ConversationCounts; c.All != 1 || c.Archived != 1 || c.Unread != 1 || c.Pinned != 1 {
			t.Fatalf("counts = %+v", c)
		}
		if got := listTitles(t, me, map[string]any{"unreadOnly": true}); fmt.Sprint(got) != "[a]" {
			t.Fatalf("unreadOnly = %v", got)
		}

		// Drafts sync to my devices and go when I send.
		var d struct{ SaveDraft *struct{ Body string } }
		me.Must(t, saveDraftOp, map[string]any{"c": b, "b": "half a"}, &d)
		if d.SaveDraft == nil || d.SaveDraft.Body != "half a" {
			t.Fatalf("saveDraft = %+v", d.SaveDraft)
		}
		myOtherDevice.NextOfType(t, "DraftUpdated")
		theirs.ExpectNone(t, "DraftUpdated", 200*time.Millisecond)
		sendMsg(t, me, b, "k3", "sent")
		myOtherDevice.NextOfType(t, "DraftUpdated")
		var draft struct {
			Conversation struct{ Draft *struct{ Body string } }
		}
		me.Must(t, `query($c: ID!) { conversation(id: $c) { draft { body } } }`, map[string]any{"c": b}, &draft)
		if draft.Conversation.Draft != nil {
			t.Fatalf("draft after sending = %+v", draft.Conversation.Draft)
		}
	})
}

func TestProfilesAndGroupDetailsThroughGraphQL(t *testing.T) {
	onBothStores(t, func(t *testing.T, api *testAPI) {
		owner, member := api.signUp(t, "owner"), api.signUp(t, "member")
		g := createGroup(t, owner, "team", member)
		watcher := subscribe(t, member)

		var p struct {
			UpdateProfile struct{ DisplayName, Bio string }
		}
		owner.Must(t, updateProfileOp, map[string]any{"i": map[string]any{"displayName": "The Owner", "bio": "I run this"}}, &p)
		if p.UpdateProfile.DisplayName != "The Owner" || p.UpdateProfile.Bio != "I run this" {
			t.Fatalf("updateProfile = %+v", p.UpdateProfile)
		}
		watcher.NextOfType(t, "UserUpdated") // a contact hears it

		var c struct {
			UpdateConversation struct{ Title, Description string }
		}
		owner.Must(t, updateConversationOp, map[string]any{"c": g, "i": map[string]any{"description": "what we do"}}, &c)
		if c.UpdateConversation.Title != "team" || c.UpdateConversation.Description != "what we do" {
			t.Fatalf("updateConversation = %+v", c.UpdateConversation)
		}
		watcher.NextOfType(t, "ConversationUpdated")

		owner.Must(t, transferOp, map[string]any{"c": g, "u": member.UserID}, nil)
		var roles struct{ Conversation struct{ MyRole string } }
		member.Must(t, `query($c: ID!) { conversation(id: $c) { myRole } }`, map[string]any{"c": g}, &roles)
		if roles.Conversation.MyRole != "OWNER" {
			t.Fatalf("new owner's role = %s", roles.Conversation.MyRole)
		}
		// The old owner is an admin now and may not transfer again.
		owner.Refused(t, "FORBIDDEN", transferOp, map[string]any{"c": g, "u": owner.UserID})

		// A new username, once a day; the old one stays reserved.
		var ch struct{ ChangeUsername struct{ Username string } }
		owner.Must(t, changeUsernameOp, map[string]any{"u": owner.Username + "_x"}, &ch)
		if ch.ChangeUsername.Username != owner.Username+"_x" {
			t.Fatalf("changeUsername = %+v", ch.ChangeUsername)
		}
		member.Refused(t, "CONFLICT", changeUsernameOp, map[string]any{"u": owner.Username})
		e := owner.Refused(t, "RATE_LIMITED", changeUsernameOp, map[string]any{"u": owner.Username + "_y"})
		if e.Extensions["retryAt"] == nil {
			t.Fatalf("RATE_LIMITED without retryAt: %+v", e)
		}
	})
}

// TestMembershipMutationsPermissionMatrix: owner/admin/member/outsider x
// each new mutation, through GraphQL.
func TestMembershipMutationsPermissionMatrix(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	ops := map[string]func(c *apitest.Client, g, target string) apitest.Response{
		"updateConversation": func(c *apitest.Client, g, _ string) apitest.Response {
			return c.Do(t, updateConversationOp, map[string]any{"c": g, "i": map[string]any{"description": "d"}})
		},
		"transferOwnership": func(c *apitest.Client, g, target string) apitest.Response {
			return c.Do(t, transferOp, map[string]any{"c": g, "u": target})
		},
		"updateMembership": func(c *apitest.Client, g, _ string) apitest.Response {
			return c.Do(t, updateMembershipOp, map[string]any{"c": g, "i": map[string]any{"pinned": true}})
		},
		"markUnread": func(c *apitest.Client, g, _ string) apitest.Response {
			return c.Do(t, markUnreadOp, map[string]any{"c": g})
		},
		"saveDraft": func(c *apitest.Client, g, _ string) apitest.Response {
			return c.Do(t, saveDraftOp, map[string]any{"c": g, "b": "x"})
		},
		"deleteConversation": func(c *apitest.Client, g, _ string) apitest.Response {
			return c.Do(t, deleteConversationOp, map[string]any{"c": g})
		},
	}
	want := map[string]map[string]string{
		"owner":    {"updateConversation": "", "transferOwnership": "", "updateMembership": "", "markUnread": "", "saveDraft": "", "deleteConversation": ""},
		"admin":    {"updateConversation": "", "transferOwnership": "FORBIDDEN", "updateMembership": "", "markUnread": "", "saveDraft": "", "deleteConversation": "FORBIDDEN"},
		"member":   {"updateConversation": "FORBIDDEN", "transferOwnership": "FORBIDDEN", "updateMembership": "", "markUnread": "", "saveDraft": "", "deleteConversation": "FORBIDDEN"},
		"outsider": {"updateConversation": "NOT_FOUND", "transferOwnership": "NOT_FOUND", "updateMembership": "NOT_FOUND", "markUnread": "NOT_FOUND", "saveDraft": "NOT_FOUND", "deleteConversation": "NOT_FOUND"},
	}
	for role, byOp := range want {
		for name, code := range byOp {
			t.Run(role+"/"+name, func(t *testing.T) {
				us := api.signUpMany(t, "p", 5)
				owner, admin, member, target, outsider := us[0], us[1], us[2], us[3], us[4]
				g := createGroup(t, owner, "team", admin, member, target)
				owner.Must(t, `mutation($c: ID!, $u: ID!) { setMemberRole(conversationId: $c, userId: $u, role: ADMIN) { id } }`, map[string]any{"c": g, "u": admin.UserID}, nil)
				sendMsg(t, target, g, "k", "something to mark unread")
				actor := map[string]*apitest.Client{"owner": owner, "admin": admin, "member": member, "outsider": outsider}[role]
				if got := ops[name](actor, g, target.UserID).Code(); got != code {
					t.Fatalf("%s %s: code %q, want %q", role, name, got, code)
				}
			})
		}
	}
}

// TestBadMembershipInputThroughGraphQL: each new mutation refuses bad input
// with BAD_USER_INPUT and changes nothing.
func TestBadMembershipInputThroughGraphQL(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	me, other := api.signUp(t, "me"), api.signUp(t, "other")
	g := createGroup(t, me, "team", other)
	long := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name, query string
		vars        map[string]any
	}{
		{"bio over 160", updateProfileOp, map[string]any{"i": map[string]any{"bio": long(161)}}},
		{"empty display name", updateProfileOp, map[string]any{"i": map[string]any{"displayName": " "}}},
		{"description over 255", updateConversationOp, map[string]any{"c": g, "i": map[string]any{"description": long(256)}}},
		{"transfer to myself", transferOp, map[string]any{"c": g, "u": me.UserID}},
		{"mute until the past", updateMembershipOp, map[string]any{"c": g, "i": map[string]any{"archived": true, "mutedUntil": "2000-01-01T00:00:00Z"}}},
		{"unknown level", updateMembershipOp, map[string]any{"c": g, "i": map[string]any{"notificationLevel": "LOUD"}}},
		{"nothing to mark unread", markUnreadOp, map[string]any{"c": g}},
		{"draft too long", saveDraftOp, map[string]any{"c": g, "b": long(4001)}},
		{"username with a space", changeUsernameOp, map[string]any{"u": "no spaces"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if code := me.Do(t, tc.query, tc.vars).Code(); code != "BAD_USER_INPUT" && code != "GRAPHQL_VALIDATION_FAILED" {
				t.Fatalf("code = %q, want BAD_USER_INPUT", code)
			}
			var now struct {
				Me           struct{ DisplayName, Bio string }
				Conversation struct {
					Description *string
					Draft       *struct{ Body string }
					Membership  struct{ Archived, Muted bool }
				}
			}
			me.Must(t, `query($c: ID!) { me { displayName bio } conversation(id: $c) { description draft { body } membership { archived muted } } }`, map[string]any{"c": g}, &now)
			if now.Me.Bio != "" || now.Conversation.Description == nil || *now.Conversation.Description != "" || now.Conversation.Draft != nil || now.Conversation.Membership.Archived || now.Conversation.Membership.Muted {
				t.Fatalf("refused input changed something: %+v", now)
			}
		})
	}
}

func TestDeleteConversationThroughGraphQL(t *testing.T) {
	onBothStores(t, func(t *testing.T, api *testAPI) {
		owner, member := api.signUp(t, "owner"), api.signUp(t, "member")
		g := createGroup(t, owner, "doomed", member)
		for i := 0; i < 3; i++ {
			sendMsg(t, member, g, fmt.Sprintf("k%d", i), "soon gone")
		}
		events := subscribe(t, member)
		owner.Must(t, deleteConversationOp, map[string]any{"c": g}, nil)
		events.NextOfType(t, "ConversationDeleted")
		conv, _ := ids.DecodeAs(ids.Conversation, g)
		deadline := time.Now().Add(20 * time.Second)
		for {
			msgs, err := api.Store.Messages(context.Background(), conv, []int64{1, 2, 3})
			if err != nil {
				t.Fatal(err)
			}
			gone := 0
			for _, m := range msgs {
				if m.DeletedAt != nil && m.Body == "" {
					gone++
				}
			}
			if gone == 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("history still there: %+v", msgs)
			}
			time.Sleep(50 * time.Millisecond)
		}
		member.Refused(t, "NOT_FOUND", `query($c: ID!) { conversation(id: $c) { id } }`, map[string]any{"c": g})
		owner.Refused(t, "NOT_FOUND", deleteConversationOp, map[string]any{"c": g})
	})
}
