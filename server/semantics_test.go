package server_test

import (
	"fmt"
	"testing"
	"time"

	"messenger/apitest"
)

// Operations the semantics tests share.
const (
	createGroupOp  = `mutation($t: String!, $m: [ID!]!) { createGroup(input: {title: $t, memberIds: $m}) { id } }`
	markReadOp     = `mutation($c: ID!, $s: Int!) { markRead(conversationId: $c, seq: $s) { id myReadSeq } }`
	markDelivOp    = `mutation($c: ID!, $s: Int!) { markDelivered(conversationId: $c, seq: $s) { id } }`
	editOp         = `mutation($m: ID!, $b: String!) { editMessage(messageId: $m, body: $b) { id body editedAt } }`
	deleteOp       = `mutation($m: ID!, $e: Boolean!) { deleteMessage(messageId: $m, forEveryone: $e) { id seq body deletedAt } }`
	addReactionOp  = `mutation($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { id } }`
	dropReactionOp = `mutation($m: ID!, $e: String!) { removeReaction(messageId: $m, emoji: $e) { id } }`
	typingOp       = `mutation($c: ID!, $on: Boolean!) { setTyping(conversationId: $c, typing: $on) }`
	leaveOp        = `mutation($c: ID!) { leaveConversation(conversationId: $c) }`
	addMembersOp   = `mutation($c: ID!, $u: [ID!]!) { addMembers(conversationId: $c, userIds: $u) { id memberCount } }`
	removeMemberOp = `mutation($c: ID!, $u: ID!) { removeMember(conversationId: $c, userId: $u) { id memberCount } }`
	renameOp       = `mutation($c: ID!, $t: String!) { renameConversation(conversationId: $c, title: $t) { id title } }`
	setRoleOp      = `mutation($c: ID!, $u: ID!, $r: MemberRole!) { setMemberRole(conversationId: $c, userId: $u, role: $r) { id } }`
	historyOp      = `query($c: ID!) { messages(conversationId: $c, last: 100) { edges { node { id seq body editedAt deletedAt } } } }`
)

// msgView is a message as one user sees it.
type msgView struct {
	ID             string
	Seq            int
	Body           *string
	SentAt         string
	EditedAt       *string
	DeletedAt      *string
	ReadCount      int
	DeliveredCount int
	Reactions      []reactionView
}

type reactionView struct {
	Emoji       string
	Count       int
	ReactedByMe bool
	Users       userAtPage
}

type userAtPage struct {
	Edges []struct {
		Cursor string
		Node   struct {
			At   string
			User struct{ ID string }
		}
	}
	PageInfo struct {
		HasNextPage bool
		EndCursor   *string
	}
}

// message reads one message as c sees it; nil when c may not see it.
func message(t *testing.T, c *apitest.Client, id string) *msgView {
	t.Helper()
	var out struct{ Node *msgView }
	c.Must(t, `query($m: ID!) { node(id: $m) { ... on Message { id seq body sentAt editedAt deletedAt readCount deliveredCount
		reactions { emoji count reactedByMe users(first: 100) { edges { cursor node { at user { id } } } pageInfo { hasNextPage endCursor } } } } } }`,
		map[string]any{"m": id}, &out)
	return out.Node
}

type receiptView struct {
	DeliveredAt *string
	ReadAt      *string
}

// receipt is the receipt of message id for user, as c sees it.
func receipt(t *testing.T, c *apitest.Client, id, user string) receiptView {
	t.Helper()
	var out struct {
		Node struct{ Receipt receiptView }
	}
	c.Must(t, `query($m: ID!, $u: ID!) { node(id: $m) { ... on Message { receipt(userId: $u) { deliveredAt readAt user { id } } } } }`,
		map[string]any{"m": id, "u": user}, &out)
	return out.Node.Receipt
}

// history is the seqs and messages of a conversation as c sees it.
func history(t *testing.T, c *apitest.Client, conv string) []msgView {
	t.Helper()
	var out struct {
		Messages struct{ Edges []struct{ Node msgView } }
	}
	c.Must(t, historyOp, map[string]any{"c": conv}, &out)
	var ms []msgView
	for _, e := range out.Messages.Edges {
		ms = append(ms, e.Node)
	}
	return ms
}

func seqsOf(ms []msgView) []int {
	var out []int
	for _, m := range ms {
		out = append(out, m.Seq)
	}
	return out
}

func createGroup(t testing.TB, owner *apitest.Client, title string, members ...*apitest.Client) string {
	t.Helper()
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.UserID
	}
	var out struct{ CreateGroup struct{ ID string } }
	owner.Must(t, createGroupOp, map[string]any{"t": title, "m": ids}, &out)
	return out.CreateGroup.ID
}

func markRead(t testing.TB, c *apitest.Client, conv string, seq int) int {
	t.Helper()
	var out struct{ MarkRead struct{ MyReadSeq int } }
	c.Must(t, markReadOp, map[string]any{"c": conv, "s": seq}, &out)
	return out.MarkRead.MyReadSeq
}

// at formats a clock time as the API does.
func at(tm time.Time) string { return tm.UTC().Format(time.RFC3339Nano) }

// sameTime reports whether an API time equals want.
func sameTime(t *testing.T, got *string, want time.Time) bool {
	t.Helper()
	if got == nil {
		return false
	}
	g, err := time.Parse(time.RFC3339Nano, *got)
	if err != nil {
		t.Fatalf("bad time %q: %v", *got, err)
	}
	return g.Equal(want)
}

func typesOf(evs []apitest.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Typename)
	}
	return out
}

func ofType(evs []apitest.Event, typename string) []apitest.Event {
	var out []apitest.Event
	for _, e := range evs {
		if e.Typename == typename {
			out = append(out, e)
		}
	}
	return out
}

// quiet is how long a test listens to be sure an event does not come.
const quiet = 300 * time.Millisecond

func TestReadingImpliesDelivered(t *testing.T) {
	clk := newClock()
	api := startAPI(t, testAPIConfig{now: clk.Now})
	alice, bob := api.signUp(t, "alice"), api.signUp(t, "bob")
	conv := startDirect(t, alice, bob)
	aliceEvents := subscribe(t, alice)
	m1 := sendMsg(t, alice, conv, "1", "one").SendMessage.ID
	m2 := sendMsg(t, alice, conv, "2", "two").SendMessage.ID

	readAt := clk.Advance(time.Minute)
	if got := markRead(t, bob, conv, 2); got != 2 {
		t.Fatalf("markRead returned myReadSeq %d, want 2", got)
	}
	d := aliceEvents.NextOfType(t, "DeliveryCursorMoved")
	r := aliceEvents.NextOfType(t, "ReadCursorMoved")
	if d.Seq != 2 || d.User.ID != bob.UserID || r.Seq != 2 || r.User.ID != bob.UserID || d.Ephemeral || r.Cursor == "" {
		t.Fatalf("the sender got %s and %s", d.Raw, r.Raw)
	}
	for _, id := range []string{m1, m2} {
		rc := receipt(t, alice, id, bob.UserID)
		if !sameTime(t, rc.ReadAt, readAt) || !sameTime(t, rc.DeliveredAt, readAt) {
			t.Fatalf("receipt of %s = %+v, want delivered and read at %s", id, rc, at(readAt))
		}
		if m := message(t, alice, id); m.ReadCount != 1 || m.DeliveredCount != 1 {
			t.Fatalf("message %d: readCount %d deliveredCount %d, want 1 and 1", m.Seq, m.ReadCount, m.DeliveredCount)
		}
	}

	// Delivery alone is not reading.
	m3 := sendMsg(t, alice, conv, "3", "three").SendMessage.ID
	deliveredAt := clk.Advance(time.Minute)
	bob.Must(t, markDelivOp, map[string]any{"c": conv, "s": 3}, nil)
	if rc := receipt(t, alice, m3, bob.UserID); rc.ReadAt != nil || !sameTime(t, rc.DeliveredAt, deliveredAt) {
		t.Fatalf("after markDelivered: receipt %+v", rc)
	}
	if m := message(t, alice, m3); m.ReadCount != 0 || m.DeliveredCount != 1 {
		t.Fatalf("after markDelivered: readCount %d deliveredCount %d, want 0 and 1", m.ReadCount, m.DeliveredCount)
	}
	if ev := aliceEvents.NextOfType(t, "DeliveryCursorMoved"); ev.Seq != 3 {
		t.Fatalf("delivery event %s", ev.Raw)
	}
}

func TestReadCursorNeverMovesBack(t *testing.T) {
	clk := newClock()
	api := startAPI(t, testAPIConfig{now: clk.Now})
	alice, bob, eve := api.signUp(t, "alice"), api.signUp(t, "bob"), api.signUp(t, "eve")
	conv := startDirect(t, alice, bob)
	var ids []string
	for i := 1; i <= 3; i++ {
		ids = append(ids, sendMsg(t, alice, conv, fmt.Sprint(i), fmt.Sprint("m", i)).SendMessage.ID)
	}
	aliceEvents := subscribe(t, alice)
	first := clk.Advance(time.Minute)
	markRead(t, bob, conv, 3)
	aliceEvents.NextOfType(t, "ReadCursorMoved")

	clk.Advance(time.Minute)
	if got := markRead(t, bob, conv, 1); got != 3 {
		t.Fatalf("moving the read cursor back to 1 left it at %d, want 3", got)
	}
	bob.Must(t, markDelivOp, map[string]any{"c": conv, "s": 2}, nil)
	if got := markRead(t, bob, conv, 3); got != 3 {
		t.Fatalf("re-reading moved the cursor to %d", got)
	}
	for _, id := range ids {
		if rc := receipt(t, alice, id, bob.UserID); !sameTime(t, rc.ReadAt, first) || !sameTime(t, rc.DeliveredAt, first) {
			t.Fatalf("a no-op cursor move changed the receipt of %s: %+v, want %s", id, rc, at(first))
		}
	}
	if evs := aliceEvents.Collect(t, quiet); len(ofType(evs, "ReadCursorMoved"))+len(ofType(evs, "DeliveryCursorMoved")) > 0 {
		t.Fatalf("no-op cursor moves sent events: %v", typesOf(evs))
	}
	bob.Refused(t, "BAD_USER_INPUT", markReadOp, map[string]any{"c": conv, "s": 4})
	bob.Refused(t, "BAD_USER_INPUT", markReadOp, map[string]any{"c": conv, "s": -1})
	bob.Refused(t, "BAD_USER_INPUT", markDelivOp, map[string]any{"c": conv, "s": 99})
	eve.Refused(t, "NOT_FOUND", markReadOp, map[string]any{"c": conv, "s": 1})
	var out struct {
		Conversation struct{ MyReadSeq, UnreadCount int }
	}
	bob.Must(t, `query($c: ID!) { conversation(id: $c) { myReadSeq unreadCount } }`, map[string]any{"c": conv}, &out)
	if out.Conversation.MyReadSeq != 3 || out.Conversation.UnreadCount != 0 {
		t.Fatalf("after refused moves: %+v", out.Conversation)
	}
}

func unreadIn(t *testing.T, c *apitest.Client, conv string) int {
	t.Helper()
	var out struct{ Conversation struct{ UnreadCount int } }
	c.Must(t, `query($c: ID!) { conversation(id: $c) { unreadCount } }`, map[string]any{"c": conv}, &out)
	return out.Conversation.UnreadCount
}

// unreadEverywhere returns me.totalUnreadCount and the unread count of
// each conversation in my list.
func unreadEverywhere(t *testing.T, c *apitest.Client) (total int, byConv map[string]int) {
	t.Helper()
	var out struct {
		Me            struct{ TotalUnreadCount *int }
		Conversations struct {
			Edges []struct {
				Node struct {
					ID          string
					UnreadCount int
				}
			}
		}
	}
	c.Must(t, `{ me { totalUnreadCount } conversations(first: 100) { edges { node { id unreadCount } } } }`, nil, &out)
	if out.Me.TotalUnreadCount == nil {
		t.Fatal("me.totalUnreadCount is null")
	}
	byConv = map[string]int{}
	for _, e := range out.Conversations.Edges {
		byConv[e.Node.ID] = e.Node.UnreadCount
	}
	return *out.Me.TotalUnreadCount, byConv
}
