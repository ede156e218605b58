package server_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Blocking, privacy settings and reports: the GraphQL wiring (the rules
// themselves are tested in chat/privacy*_test.go).

const (
	blockOp         = `mutation($u: ID!) { blockUser(userId: $u) { id blockedByMe } }`
	unblockOp       = `mutation($u: ID!) { unblockUser(userId: $u) { id blockedByMe } }`
	updatePrivacyOp = `mutation($i: PrivacyInput!) { updatePrivacy(input: $i) { lastSeen readReceipts typing directConversations } }`
	reportUserOp    = `mutation($i: ReportUserInput!) { reportUser(input: $i) { id reason note createdAt } }`
	reportMessageOp = `mutation($i: ReportMessageInput!) { reportMessage(input: $i) { id reason note createdAt } }`
	directOp        = `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`
)

func TestBlockingOverGraphQL(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	alice, bob := api.signUp(t, "alice"), api.signUp(t, "bob")
	dm := startDirect(t, alice, bob)
	var out struct {
		BlockUser struct {
			ID          string
			BlockedByMe bool
		}
	}
	alice.Must(t, blockOp, map[string]any{"u": bob.UserID}, &out)
	if out.BlockUser.ID != bob.UserID || !out.BlockUser.BlockedByMe {
		t.Fatalf("blockUser = %+v", out.BlockUser)
	}
	var me struct {
		Me struct {
			BlockedUsers struct {
				Edges    []struct{ Node struct{ ID string } }
				PageInfo struct{ HasNextPage bool }
			}
		}
		Bob struct {
			BlockedByMe  bool
			BlockedUsers *struct{ Edges []any }
		}
	}
	alice.Must(t, `query($b: ID!) { me { blockedUsers(first: 10) { edges { node { id } } pageInfo { hasNextPage } } }
		bob: user(id: $b) { blockedByMe blockedUsers { edges { cursor } } } }`, map[string]any{"b": bob.UserID}, &me)
	if e := me.Me.BlockedUsers.Edges; len(e) != 1 || e[0].Node.ID != bob.UserID || me.Me.BlockedUsers.PageInfo.HasNextPage {
		t.Fatalf("me.blockedUsers = %+v", me.Me.BlockedUsers)
	}
	if !me.Bob.BlockedByMe || me.Bob.BlockedUsers != nil {
		t.Fatalf("user(bob) = %+v: blockedByMe true, blockedUsers only on me", me.Bob)
	}
	if e := bob.Refused(t, "FORBIDDEN", send, map[string]any{"c": dm, "k": "k1", "b": "hi"}); !strings.Contains(e.Message, "does not accept") {
		t.Fatalf("bob's send: %+v", e)
	}
	alice.Refused(t, "FORBIDDEN", send, map[string]any{"c": dm, "k": "k2", "b": "hi"})
	bob.Refused(t, "FORBIDDEN", directOp, map[string]any{"u": alice.UserID})
	alice.Must(t, unblockOp, map[string]any{"u": bob.UserID}, nil)
	sendMsg(t, bob, dm, "k3", "friends again")
	alice.Refused(t, "BAD_USER_INPUT", blockOp, map[string]any{"u": alice.UserID})
	alice.Refused(t, "BAD_USER_INPUT", unblockOp, map[string]any{"u": alice.UserID})
}

func TestABlockedUserLeavesTheBlockersSearch(t *testing.T) {
	a := startSearchAPI(t, searchAPIConfig{backend: "bleve"})
	tag := fmt.Sprintf("blk%04d", rand.IntN(10000))
	me, other := a.signUp(t, "me"), a.signUp(t, tag+"x")
	query := `query($q: String!) { searchUsers(query: $q) { edges { node { id } } } }`
	var res struct {
		SearchUsers struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(res.SearchUsers.Edges) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the user never became searchable")
		}
		time.Sleep(20 * time.Millisecond)
		me.Must(t, query, map[string]any{"q": tag}, &res)
	}
	me.Must(t, blockOp, map[string]any{"u": other.UserID}, nil)
	me.Must(t, query, map[string]any{"q": tag}, &res)
	if len(res.SearchUsers.Edges) != 0 {
		t.Fatalf("the blocker still finds the blocked user: %+v", res)
	}
}

func TestPrivacySettingsOverGraphQL(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	alice, bob := api.signUp(t, "alice"), api.signUp(t, "bob")
	group := createGroup(t, alice, "privacy", bob)
	var out struct {
		UpdatePrivacy struct {
			LastSeen, DirectConversations string
			ReadReceipts, Typing          bool
		}
	}
	alice.Must(t, updatePrivacyOp, map[string]any{"i": map[string]any{"lastSeen": "NOBODY", "typing": false}}, &out)
	if p := out.UpdatePrivacy; p.LastSeen != "NOBODY" || p.Typing || !p.ReadReceipts || p.DirectConversations != "EVERYONE" {
		t.Fatalf("updatePrivacy = %+v", p)
	}
	var q struct {
		Me    struct{ Privacy struct{ LastSeen string } }
		Alice struct{ Privacy *struct{ LastSeen string } }
	}
	bob.Must(t, `query($a: ID!) { me { privacy { lastSeen } } alice: user(id: $a) { privacy { lastSeen } } }`, map[string]any{"a": alice.UserID}, &q)
	if q.Me.Privacy.LastSeen != "EVERYONE" || q.Alice.Privacy != nil {
		t.Fatalf("privacy is only shown on me: %+v", q)
	}
	bobEv := subscribe(t, bob)
	alice.Subscribe(t.Context(), t, "")
	time.Sleep(quiet)
	var pres struct {
		User struct{ Presence struct{ Online bool } }
	}
	bob.Must(t, `query($u: ID!) { user(id: $u) { presence { online } } }`, map[string]any{"u": alice.UserID}, &pres)
	if pres.User.Presence.Online {
		t.Fatal("bob sees alice online although her lastSeen is NOBODY")
	}
	alice.Must(t, typingOp, map[string]any{"c": group, "on": true}, nil)
	evs := bobEv.Collect(t, quiet)
	if len(ofType(evs, "TypingUpdated")) != 0 {
		t.Fatalf("bob got alice's typing: %v", typesOf(evs))
	}
	for _, e := range ofType(evs, "PresenceUpdated") {
		if e.Online {
			t.Fatalf("bob was told alice is online: %s", e.Raw)
		}
	}
	alice.Refused(t, "BAD_USER_INPUT", updatePrivacyOp, map[string]any{"i": map[string]any{"directConversations": "NOBODY"}})
}

func TestReportsOverGraphQL(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	alice, bob := api.signUp(t, "alice"), api.signUp(t, "bob")
	group := createGroup(t, alice, "reports", bob)
	m := sendMsg(t, bob, group, "k", "buy cheap watches")
	own := sendMsg(t, alice, group, "own", "mine")
	var out struct {
		ReportMessage struct {
			ID, Reason, CreatedAt string
			Note                  *string
		}
	}
	alice.Must(t, reportMessageOp, map[string]any{"i": map[string]any{"messageId": m.SendMessage.ID, "reason": "SPAM", "note": "bot"}}, &out)
	if r := out.ReportMessage; r.ID == "" || r.Reason != "SPAM" || r.Note == nil || *r.Note != "bot" || r.CreatedAt == "" {
		t.Fatalf("reportMessage = %+v", r)
	}
	var ru struct{ ReportUser struct{ Note *string } }
	alice.Must(t, reportUserOp, map[string]any{"i": map[string]any{"userId": bob.UserID, "reason": "HARASSMENT"}}, &ru)
	if ru.ReportUser.Note != nil {
		t.Fatalf("a report without a note has note %q", *ru.ReportUser.Note)
	}
	alice.Refused(t, "BAD_USER_INPUT", reportMessageOp, map[string]any{"i": map[string]any{"messageId": own.SendMessage.ID, "reason": "SPAM"}})
	alice.Refused(t, "BAD_USER_INPUT", reportUserOp, map[string]any{"i": map[string]any{"userId": bob.UserID, "reason": "SPAM", "note": strings.Repeat("x", 1001)}})
	alice.Refused(t, "BAD_USER_INPUT", reportUserOp, map[string]any{"i": map[string]any{"userId": alice.UserID, "reason": "SPAM"}})
}

// TestHiddenReadReceiptsOverGraphQL: readCount, readBy and receipt follow
// the read receipts setting in a direct conversation; a group keeps the
// count but not the name.
func TestHiddenReadReceiptsOverGraphQL(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	alice, bob := api.signUp(t, "alice"), api.signUp(t, "bob")
	dm := startDirect(t, alice, bob)
	group := createGroup(t, alice, "receipts", bob)
	bob.Must(t, updatePrivacyOp, map[string]any{"i": map[string]any{"readReceipts": false}}, nil)
	const receiptsOp = `query($m: ID!, $u: ID!) { node(id: $m) { ... on Message {
		readCount readBy { edges { node { user { id } } } } receipt(userId: $u) { readAt deliveredAt } } } }`
	type view struct {
		Node struct {
			ReadCount int
			ReadBy    struct{ Edges []any }
			Receipt   struct{ ReadAt, DeliveredAt *string }
		}
	}
	for _, tc := range []struct {
		name      string
		conv      string
		wantCount int
	}{{"direct", dm, 0}, {"group", group, 1}} {
		m := sendMsg(t, alice, tc.conv, "k-"+tc.name, "read me")
		bob.Must(t, markReadOp, map[string]any{"c": tc.conv, "s": m.SendMessage.Seq}, nil)
		var v view
		alice.Must(t, receiptsOp, map[string]any{"m": m.SendMessage.ID, "u": bob.UserID}, &v)
		if v.Node.ReadCount != tc.wantCount || len(v.Node.ReadBy.Edges) != 0 || v.Node.Receipt.ReadAt != nil || v.Node.Receipt.DeliveredAt == nil {
			t.Fatalf("%s: alice sees %+v; want readCount %d, nobody in readBy, no readAt, a deliveredAt", tc.name, v.Node, tc.wantCount)
		}
	}
}
