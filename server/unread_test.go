package server_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"messenger/apitest"
)

func TestUnreadCountsFollowSendsReadsDeletesAndLeaving(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	owner, alice, bob := api.signUp(t, "owner"), api.signUp(t, "alice"), api.signUp(t, "bob")
	dm := startDirect(t, alice, bob)
	group := createGroup(t, owner, "unread", alice, bob)

	step := 0
	// expect checks bob's and alice's counts everywhere after each step.
	expect := func(what string, bobDM, bobGroup, aliceDM, aliceGroup int) {
		t.Helper()
		step++
		for _, c := range []struct {
			who       *apitest.Client
			dm, group int
		}{{bob, bobDM, bobGroup}, {alice, aliceDM, aliceGroup}} {
			total, byConv := unreadEverywhere(t, c.who)
			want := map[string]int{dm: c.dm}
			if c.group >= 0 {
				want[group] = c.group
			}
			if fmt.Sprint(byConv) != fmt.Sprint(want) || total != c.dm+max(c.group, 0) {
				t.Fatalf("step %d (%s): %s has total %d and %v, want total %d and %v", step, what, c.who.Username, total, byConv, c.dm+max(c.group, 0), want)
			}
			if got := unreadIn(t, c.who, dm); got != c.dm {
				t.Fatalf("step %d (%s): conversation(id).unreadCount = %d, want %d", step, what, got, c.dm)
			}
		}
	}
	expect("nothing sent", 0, 0, 0, 0)

	dmIDs := make([]string, 5)
	for i := range dmIDs {
		dmIDs[i] = sendMsg(t, alice, dm, fmt.Sprint("dm", i), fmt.Sprint("dm ", i+1)).SendMessage.ID
	}
	expect("alice sent 5 in the DM: her own do not count", 5, 0, 0, 0)
	g1 := sendMsg(t, owner, group, "g1", "hello all").SendMessage.ID
	g2 := sendMsg(t, owner, group, "g2", "second").SendMessage.ID
	sendMsg(t, bob, group, "g3", "bob here")
	expect("the owner sent 2 and bob 1 in the group", 5, 2, 0, 3)

	markRead(t, bob, dm, 2)
	expect("bob read the DM up to 2", 3, 2, 0, 3)
	markRead(t, bob, dm, 1)
	expect("bob's cursor cannot go back", 3, 2, 0, 3)

	bob.Must(t, deleteOp, map[string]any{"m": dmIDs[3], "e": false}, nil)
	expect("bob deleted an unread DM message for himself", 2, 2, 0, 3)
	bob.Must(t, deleteOp, map[string]any{"m": dmIDs[0], "e": false}, nil)
	expect("bob deleted a read DM message for himself", 2, 2, 0, 3)
	bob.Must(t, deleteOp, map[string]any{"m": dmIDs[3], "e": false}, nil)
	expect("deleting for myself twice", 2, 2, 0, 3)
	alice.Must(t, deleteOp, map[string]any{"m": dmIDs[4], "e": false}, nil)
	expect("alice hid her own message: nothing changes for bob", 2, 2, 0, 3)

	alice.Must(t, deleteOp, map[string]any{"m": dmIDs[2], "e": true}, nil)
	expect("alice recalled an unread DM message", 1, 2, 0, 3)
	owner.Must(t, deleteOp, map[string]any{"m": g2, "e": true}, nil)
	expect("the owner recalled a group message", 1, 1, 0, 2)
	owner.Must(t, deleteOp, map[string]any{"m": g1, "e": false}, nil)
	expect("the owner hid a message for himself", 1, 1, 0, 2)

	markRead(t, alice, group, 3)
	expect("alice read the group", 1, 1, 0, 0)
	sendMsg(t, alice, group, "g4", "alice here")
	expect("alice sent to the group", 1, 2, 0, 0)

	bob.Must(t, leaveOp, map[string]any{"c": group}, nil)
	expect("bob left the group", 1, -1, 0, 0)
	bob.Refused(t, "NOT_FOUND", `query($c: ID!) { conversation(id: $c) { unreadCount } }`, map[string]any{"c": group})
	sendMsg(t, owner, group, "g5", "after bob left")
	expect("the group moved on without bob", 1, -1, 0, 1)

	markRead(t, bob, dm, 5)
	expect("bob read everything", 0, -1, 0, 1)
}

func TestReceiptsAnswerWhoReadWhen(t *testing.T) {
	clk := newClock()
	api := startAPI(t, testAPIConfig{now: clk.Now})
	owner := api.signUp(t, "owner")
	ms := api.signUpMany(t, "member", 4)
	a, b, c, d := ms[0], ms[1], ms[2], ms[3]
	group := createGroup(t, owner, "receipts", a, b, c, d)
	var msg []string
	for i := 1; i <= 3; i++ {
		msg = append(msg, sendMsg(t, owner, group, fmt.Sprint(i), fmt.Sprint("m", i)).SendMessage.ID)
	}

	t1 := clk.Advance(time.Minute)
	markRead(t, a, group, 1)
	t2 := clk.Advance(time.Minute)
	markRead(t, b, group, 3)
	t3 := clk.Advance(time.Minute)
	markRead(t, a, group, 3)
	t4 := clk.Advance(time.Minute)
	c.Must(t, markDelivOp, map[string]any{"c": group, "s": 2}, nil)
	clk.Advance(time.Minute)
	markRead(t, owner, group, 3) // the sender reading their own messages is no receipt

	type want struct {
		read, delivered map[*apitest.Client]time.Time
	}
	wants := []want{
		{read: map[*apitest.Client]time.Time{a: t1, b: t2}, delivered: map[*apitest.Client]time.Time{a: t1, b: t2, c: t4}},
		{read: map[*apitest.Client]time.Time{a: t3, b: t2}, delivered: map[*apitest.Client]time.Time{a: t3, b: t2, c: t4}},
		{read: map[*apitest.Client]time.Time{a: t3, b: t2}, delivered: map[*apitest.Client]time.Time{a: t3, b: t2}},
	}
	for i, id := range msg {
		w := wants[i]
		m := message(t, d, id)
		if m.ReadCount != len(w.read) || m.DeliveredCount != len(w.delivered) {
			t.Fatalf("m%d: readCount %d deliveredCount %d, want %d and %d", i+1, m.ReadCount, m.DeliveredCount, len(w.read), len(w.delivered))
		}
		for _, u := range []*apitest.Client{a, b, c, d} {
			rc := receipt(t, d, id, u.UserID)
			for _, k := range []struct {
				name string
				got  *string
				want map[*apitest.Client]time.Time
			}{{"readAt", rc.ReadAt, w.read}, {"deliveredAt", rc.DeliveredAt, w.delivered}} {
				wt, ok := k.want[u]
				if (!ok && k.got != nil) || (ok && !sameTime(t, k.got, wt)) {
					t.Fatalf("m%d receipt(%s).%s = %v, want %v (set: %v)", i+1, u.Username, k.name, k.got, at(wt), ok)
				}
			}
		}
		for _, conn := range []struct {
			field string
			want  map[*apitest.Client]time.Time
		}{{"readBy", w.read}, {"deliveredTo", w.delivered}} {
			got := pageAll(t, d, id, conn.field, 1)
			if len(got) != len(conn.want) {
				t.Fatalf("m%d %s lists %d members, want %d", i+1, conn.field, len(got), len(conn.want))
			}
			for _, u := range []*apitest.Client{a, b, c, d, owner} {
				wt, ok := conn.want[u]
				gt, listed := got[u.UserID]
				if ok != listed || (ok && !sameTime(t, &gt, wt)) {
					t.Fatalf("m%d %s: %s listed=%v at %s, want listed=%v at %s", i+1, conn.field, u.Username, listed, gt, ok, at(wt))
				}
			}
		}
	}
	if rc := receipt(t, d, msg[0], owner.UserID); rc.ReadAt != nil {
		t.Fatalf("the sender has a read receipt on their own message: %+v", rc)
	}
}

// TestAMemberAddedLaterHasNotReadEarlierMessages: joining a group puts
// your cursors at its end, but you never saw (let alone read) what was
// sent before you came.
func TestAMemberAddedLaterHasNotReadEarlierMessages(t *testing.T) {
	clk := newClock()
	api := startAPI(t, testAPIConfig{now: clk.Now})
	owner, alice, late := api.signUp(t, "owner"), api.signUp(t, "alice"), api.signUp(t, "late")
	group := createGroup(t, owner, "late", alice)
	m1 := sendMsg(t, owner, group, "1", "before you came").SendMessage.ID
	owner.Must(t, addMembersOp, map[string]any{"c": group, "u": []string{late.UserID}}, nil)
	m2 := sendMsg(t, owner, group, "2", "welcome").SendMessage.ID
	readAt := clk.Advance(time.Minute)
	markRead(t, late, group, 2)

	if m := message(t, owner, m1); m.ReadCount != 0 || m.DeliveredCount != 0 {
		t.Fatalf("m1: readCount %d deliveredCount %d; nobody who saw it has read it", m.ReadCount, m.DeliveredCount)
	}
	if got := pageAll(t, owner, m1, "readBy", 10); len(got) != 0 {
		t.Fatalf("m1 readBy = %v", got)
	}
	if got := pageAll(t, owner, m1, "deliveredTo", 10); len(got) != 0 {
		t.Fatalf("m1 deliveredTo = %v", got)
	}
	if rc := receipt(t, owner, m1, late.UserID); rc.ReadAt != nil || rc.DeliveredAt != nil {
		t.Fatalf("m1 receipt of the late joiner: %+v", rc)
	}
	if m := message(t, owner, m2); m.ReadCount != 1 || m.DeliveredCount != 1 {
		t.Fatalf("m2: readCount %d deliveredCount %d, want 1 and 1", m.ReadCount, m.DeliveredCount)
	}
	if rc := receipt(t, owner, m2, late.UserID); !sameTime(t, rc.ReadAt, readAt) {
		t.Fatalf("m2 receipt of the late joiner: %+v", rc)
	}
	if n := unreadIn(t, late, group); n != 0 {
		t.Fatalf("late joiner's unread = %d", n)
	}
}

// pageAll pages a message's readBy or deliveredTo `first` at a time and
// returns user id -> time, failing on a duplicate or an out-of-order user.
func pageAll(t testing.TB, c *apitest.Client, messageID, field string, first int) map[string]string {
	t.Helper()
	q := fmt.Sprintf(`query($m: ID!, $f: Int, $a: String) { node(id: $m) { ... on Message { %s(first: $f, after: $a) {
		edges { cursor node { at user { id } } } pageInfo { hasNextPage endCursor } } } } }`, field)
	out := map[string]string{}
	var after any
	var last string
	for page := 0; ; page++ {
		var res struct{ Node map[string]userAtPage }
		c.Must(t, q, map[string]any{"m": messageID, "f": first, "a": after}, &res)
		p := res.Node[field]
		if len(p.Edges) > first {
			t.Fatalf("%s page %d has %d edges, asked for %d", field, page, len(p.Edges), first)
		}
		for _, e := range p.Edges {
			id := e.Node.User.ID
			if _, dup := out[id]; dup {
				t.Fatalf("%s lists %s twice", field, id)
			}
			if raw := rawID(t, id); raw <= last {
				t.Fatalf("%s is not ordered by user id: %s after %s", field, raw, last)
			} else {
				last = raw
			}
			out[id] = e.Node.At
		}
		if !p.PageInfo.HasNextPage {
			return out
		}
		if p.PageInfo.EndCursor == nil || len(p.Edges) == 0 {
			t.Fatalf("%s page %d says more follow but gives no cursor", field, page)
		}
		after = *p.PageInfo.EndCursor
	}
}

// rawID is the storage id inside a global id: pages are ordered by it.
func rawID(t testing.TB, global string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(global)
	if err != nil {
		t.Fatalf("global id %q: %v", global, err)
	}
	_, id, _ := strings.Cut(string(b), ":")
	return id
}
