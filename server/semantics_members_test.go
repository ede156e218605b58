package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"messenger/apitest"
)

// Membership: roles, joins and leaves, and a leaver seeing nothing new.

func TestGroupRolesDecideWhoManagesMembers(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	owner := api.signUp(t, "owner")
	us := api.signUpMany(t, "m", 5)
	alice, bob, carol, dave, erin := us[0], us[1], us[2], us[3], us[4]
	group := createGroup(t, owner, "roles", alice, bob, carol)
	vars := func(kv ...any) map[string]any {
		m := map[string]any{"c": group}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	role := func(c *apitest.Client) string {
		var out struct{ Conversation struct{ MyRole string } }
		c.Must(t, `query($c: ID!) { conversation(id: $c) { myRole } }`, vars(), &out)
		return out.Conversation.MyRole
	}
	if role(owner) != "OWNER" || role(alice) != "MEMBER" {
		t.Fatalf("roles at creation: %s %s", role(owner), role(alice))
	}

	// A plain member manages nothing.
	alice.Refused(t, "FORBIDDEN", addMembersOp, vars("u", []string{dave.UserID}))
	alice.Refused(t, "FORBIDDEN", removeMemberOp, vars("u", bob.UserID))
	alice.Refused(t, "FORBIDDEN", renameOp, vars("t", "mine now"))
	alice.Refused(t, "FORBIDDEN", setRoleOp, vars("u", alice.UserID, "r", "ADMIN"))

	owner.Must(t, setRoleOp, vars("u", alice.UserID, "r", "ADMIN"), nil)
	if role(alice) != "ADMIN" {
		t.Fatalf("alice's role is %s, want ADMIN", role(alice))
	}
	// An admin adds, removes members and renames...
	var added struct{ AddMembers struct{ MemberCount int } }
	alice.Must(t, addMembersOp, vars("u", []string{dave.UserID, dave.UserID, bob.UserID}), &added)
	if added.AddMembers.MemberCount != 5 {
		t.Fatalf("memberCount after adding dave (and bob again) = %d, want 5", added.AddMembers.MemberCount)
	}
	alice.Must(t, removeMemberOp, vars("u", bob.UserID), nil)
	var renamed struct{ RenameConversation struct{ Title string } }
	alice.Must(t, renameOp, vars("t", "  renamed  "), &renamed)
	if renamed.RenameConversation.Title != "renamed" {
		t.Fatalf("title = %q", renamed.RenameConversation.Title)
	}
	// ...but changes no roles, and removes neither the owner nor an admin.
	alice.Refused(t, "FORBIDDEN", setRoleOp, vars("u", dave.UserID, "r", "ADMIN"))
	alice.Refused(t, "FORBIDDEN", removeMemberOp, vars("u", owner.UserID))
	owner.Must(t, setRoleOp, vars("u", carol.UserID, "r", "ADMIN"), nil)
	alice.Refused(t, "FORBIDDEN", removeMemberOp, vars("u", carol.UserID))

	// The owner's own rules.
	owner.Refused(t, "BAD_USER_INPUT", setRoleOp, vars("u", dave.UserID, "r", "OWNER"))
	owner.Refused(t, "BAD_USER_INPUT", setRoleOp, vars("u", owner.UserID, "r", "MEMBER"))
	owner.Refused(t, "NOT_FOUND", setRoleOp, vars("u", erin.UserID, "r", "ADMIN"))
	owner.Refused(t, "NOT_FOUND", removeMemberOp, vars("u", erin.UserID))
	owner.Refused(t, "BAD_USER_INPUT", renameOp, vars("t", " "))
	owner.Refused(t, "NOT_FOUND", addMembersOp, vars("u", []string{"VXNlcjpub2JvZHk"}))
	owner.Must(t, removeMemberOp, vars("u", carol.UserID), nil)
	owner.Must(t, setRoleOp, vars("u", alice.UserID, "r", "MEMBER"), nil)
	alice.Refused(t, "FORBIDDEN", renameOp, vars("t", "no longer"))
	erin.Refused(t, "NOT_FOUND", renameOp, vars("t", "outsider"))

	var members struct {
		Conversation struct {
			MemberCount int
			Members     struct {
				Edges []struct {
					Role string
					Node struct{ ID string }
				}
			}
		}
	}
	owner.Must(t, `query($c: ID!) { conversation(id: $c) { memberCount members(first: 10) { edges { role node { id } } } } }`, vars(), &members)
	got := map[string]string{}
	for _, e := range members.Conversation.Members.Edges {
		got[e.Node.ID] = e.Role
	}
	want := map[string]string{owner.UserID: "OWNER", alice.UserID: "MEMBER", dave.UserID: "MEMBER"}
	if fmt.Sprint(got) != fmt.Sprint(want) || members.Conversation.MemberCount != 3 {
		t.Fatalf("members = %v (count %d), want %v", got, members.Conversation.MemberCount, want)
	}

	// Direct conversations have no one to manage and cannot be left.
	dm := startDirect(t, alice, bob)
	alice.Refused(t, "FORBIDDEN", addMembersOp, map[string]any{"c": dm, "u": []string{dave.UserID}})
	alice.Refused(t, "FORBIDDEN", leaveOp, map[string]any{"c": dm})
}

// TestWhenTheOwnerLeavesTheGroupKeepsAnOwner: the group passes to its
// longest-standing admin, or with none to its longest-standing member, who
// may then do all an owner does.
func TestWhenTheOwnerLeavesTheGroupKeepsAnOwner(t *testing.T) {
	clk := newClock()
	api := startAPI(t, testAPIConfig{now: clk.Now})
	owner := api.signUp(t, "owner")
	us := api.signUpMany(t, "m", 4)
	first, later, admin, newest := us[0], us[1], us[2], us[3]
	group := createGroup(t, owner, "succession", first)
	for _, c := range []*apitest.Client{later, admin, newest} {
		clk.Advance(time.Minute)
		owner.Must(t, addMembersOp, map[string]any{"c": group, "u": []string{c.UserID}}, nil)
	}
	owner.Must(t, setRoleOp, map[string]any{"c": group, "u": admin.UserID, "r": "ADMIN"}, nil)
	laterEv := subscribe(t, later)
	role := func(c *apitest.Client) string {
		var out struct{ Conversation struct{ MyRole string } }
		c.Must(t, `query($c: ID!) { conversation(id: $c) { myRole } }`, map[string]any{"c": group}, &out)
		return out.Conversation.MyRole
	}

	owner.Must(t, leaveOp, map[string]any{"c": group}, nil)
	if role(admin) != "OWNER" || role(first) != "MEMBER" {
		t.Fatalf("after the owner left: the admin is %s, the first member %s", role(admin), role(first))
	}
	laterEv.NextOfType(t, "MemberLeft")
	if e := laterEv.NextOfType(t, "ConversationUpdated"); e.Conversation.ID != group {
		t.Fatalf("members were not told of the new owner: %s", e.Raw)
	}
	admin.Must(t, setRoleOp, map[string]any{"c": group, "u": newest.UserID, "r": "ADMIN"}, nil)
	admin.Must(t, setRoleOp, map[string]any{"c": group, "u": newest.UserID, "r": "MEMBER"}, nil)

	admin.Must(t, leaveOp, map[string]any{"c": group}, nil)
	if role(first) != "OWNER" || role(later) != "MEMBER" || role(newest) != "MEMBER" {
		t.Fatalf("with no admin left, the longest-standing member must own the group: %s %s %s", role(first), role(later), role(newest))
	}
	first.Must(t, removeMemberOp, map[string]any{"c": group, "u": newest.UserID}, nil)
}

func TestMemberJoinedAndMemberLeftReachTheGroup(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	owner := api.signUp(t, "owner")
	us := api.signUpMany(t, "m", 3)
	alice, bob, carol := us[0], us[1], us[2]
	group := createGroup(t, owner, "joins", alice)
	ownerEv, aliceEv, bobEv := subscribe(t, owner), subscribe(t, alice), subscribe(t, bob)

	owner.Must(t, addMembersOp, map[string]any{"c": group, "u": []string{bob.UserID, carol.UserID}}, nil)
	for name, ev := range map[string]*apitest.Events{"owner": ownerEv, "alice": aliceEv, "bob": bobEv} {
		joined := map[string]bool{}
		for range 2 {
			e := ev.NextOfType(t, "MemberJoined")
			if e.Conversation.ID != group || e.Cursor == "" || !strings.Contains(string(e.Raw), group) {
				t.Fatalf("%s got %s", name, e.Raw)
			}
			joined[e.User.ID] = true
		}
		if !joined[bob.UserID] || !joined[carol.UserID] {
			t.Fatalf("%s heard of joins %v", name, joined)
		}
	}
	owner.Must(t, removeMemberOp, map[string]any{"c": group, "u": carol.UserID}, nil)
	alice.Must(t, leaveOp, map[string]any{"c": group}, nil)
	for name, ev := range map[string]*apitest.Events{"owner": ownerEv, "bob": bobEv} {
		e1, e2 := ev.NextOfType(t, "MemberLeft"), ev.NextOfType(t, "MemberLeft")
		if e1.User.ID != carol.UserID || !strings.Contains(string(e1.Raw), `"by":{"id":"`+owner.UserID) {
			t.Fatalf("%s got %s for carol's removal", name, e1.Raw)
		}
		if e2.User.ID != alice.UserID || !strings.Contains(string(e2.Raw), `"by":null`) {
			t.Fatalf("%s got %s for alice leaving", name, e2.Raw)
		}
	}
	if e := aliceEv.NextOfType(t, "MemberLeft"); e.User.ID != carol.UserID {
		t.Fatalf("alice got %s", e.Raw)
	}
	if e := aliceEv.NextOfType(t, "MemberLeft"); e.User.ID != alice.UserID {
		t.Fatalf("alice's own devices must hear that she left: %s", e.Raw)
	}
}

func TestAMemberWhoLeftSeesNothingNew(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	owner := api.signUp(t, "owner")
	us := api.signUpMany(t, "m", 3)
	alice, bob, carol := us[0], us[1], us[2]
	group := createGroup(t, owner, "leaving", alice, bob)
	old := sendMsg(t, alice, group, "1", "before").SendMessage.ID
	bobEv := subscribe(t, bob)

	bob.Must(t, leaveOp, map[string]any{"c": group}, nil)
	if e := bobEv.NextOfType(t, "MemberLeft"); e.User.ID != bob.UserID {
		t.Fatalf("bob got %s", e.Raw)
	}
	bob.Refused(t, "NOT_FOUND", leaveOp, map[string]any{"c": group})

	// Everything the group does afterwards.
	id := sendMsg(t, alice, group, "2", "after").SendMessage.ID
	alice.Must(t, editOp, map[string]any{"m": id, "b": "after, edited"}, nil)
	owner.Must(t, addReactionOp, map[string]any{"m": old, "e": "👍"}, nil)
	owner.Must(t, renameOp, map[string]any{"c": group, "t": "renamed"}, nil)
	owner.Must(t, typingOp, map[string]any{"c": group, "on": true}, nil)
	markRead(t, owner, group, 2)
	owner.Must(t, addMembersOp, map[string]any{"c": group, "u": []string{carol.UserID}}, nil)
	owner.Must(t, setRoleOp, map[string]any{"c": group, "u": alice.UserID, "r": "ADMIN"}, nil)
	alice.Must(t, deleteOp, map[string]any{"m": old, "e": true}, nil)
	alice.Must(t, leaveOp, map[string]any{"c": group}, nil)
	if evs := bobEv.Collect(t, quiet); len(evs) > 0 {
		t.Fatalf("bob left but still got %v", typesOf(evs))
	}

	bob.Refused(t, "NOT_FOUND", historyOp, map[string]any{"c": group})
	bob.Refused(t, "NOT_FOUND", `query($c: ID!) { conversation(id: $c) { id } }`, map[string]any{"c": group})
	bob.Refused(t, "NOT_FOUND", markReadOp, map[string]any{"c": group, "s": 2})
	bob.Refused(t, "NOT_FOUND", send, map[string]any{"c": group, "k": "x", "b": "let me back"})
	bob.Refused(t, "NOT_FOUND", addReactionOp, map[string]any{"m": old, "e": "👍"})
	bob.Refused(t, "NOT_FOUND", typingOp, map[string]any{"c": group, "on": true})
	if m := message(t, bob, id); m != nil {
		t.Fatalf("bob reads a message sent after he left: %+v", m)
	}
	var list struct {
		Conversations struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	bob.Must(t, `{ conversations { edges { node { id } } } }`, nil, &list)
	if len(list.Conversations.Edges) != 0 {
		t.Fatalf("bob's conversation list still has %+v", list)
	}
}

// TestASenderWhoLeftABigGroupGetsNoReceipts: in big groups a read receipt
// goes to the senders of the messages read (not to every member); a sender
// who has left must not get them.
func TestASenderWhoLeftABigGroupGetsNoReceipts(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	us := api.signUpMany(t, "m", 40)
	owner, sender, reader := us[0], us[1], us[2]
	group := createGroup(t, owner, "big", us[1:]...)
	sendMsg(t, sender, group, "1", "hello big group")
	senderEv := subscribe(t, sender)
	markRead(t, reader, group, 1)
	if e := senderEv.NextOfType(t, "ReadCursorMoved"); e.User.ID != reader.UserID {
		t.Fatalf("the sender got %s", e.Raw)
	}
	sender.Must(t, leaveOp, map[string]any{"c": group}, nil)
	senderEv.NextOfType(t, "MemberLeft")
	markRead(t, us[3], group, 1)
	if evs := senderEv.Collect(t, quiet); len(evs) > 0 {
		t.Fatalf("the sender left but got %v", typesOf(evs))
	}
}
