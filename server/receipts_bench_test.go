package server_test

import (
	"fmt"
	"testing"
)

// benchGroup is a 1,000-member group with 60 messages, each of the last 50
// carrying three emoji from five members, where member i has read up to
// message i%60+1 (so every message has a different number of readers).
func benchGroup(b *testing.B) (*testAPI, *thousandGroup) {
	b.Helper()
	api := startAPI(b, testAPIConfig{})
	g := newThousandGroup(b, api, 60)
	parallel(len(g.members), 16, func(i int) { markRead(b, g.members[i], g.conv, i%60+1) })
	emoji := []string{"👍", "❤️", "😂"}
	parallel(50*len(emoji)*5, 16, func(i int) {
		msg := g.messages[10+i/15]
		who := g.members[i%5]
		who.Must(b, addReactionOp, map[string]any{"m": msg, "e": emoji[i/5%3]}, nil)
	})
	return api, g
}

// measure runs op b.N times and reports the store calls per op, by method.
func measure(b *testing.B, api *testAPI, op func()) {
	b.Helper()
	op() // warm the query cache
	api.Store.Reset()
	n := 0
	for b.Loop() {
		op()
		n++
	}
	counts := api.Store.Counts()
	var total int64
	for _, c := range counts {
		total += c
	}
	b.ReportMetric(float64(total)/float64(n), "storecalls/op")
	b.Logf("store calls per op: %s", summary(counts, n))
}

// BenchmarkHistoryPageWithReceipts is the chat screen of a 1,000-member
// group: the newest 50 messages with their read and delivered counts and
// reactions.
func BenchmarkHistoryPageWithReceipts(b *testing.B) {
	api, g := benchGroup(b)
	viewer := g.members[3]
	q := `query($c: ID!) { messages(conversationId: $c, last: 50) { edges { node { id seq readCount deliveredCount reactions { emoji count reactedByMe } } } } }`
	var check struct {
		Messages struct {
			Edges []struct {
				Node struct {
					Seq, ReadCount int
					Reactions      []reactionView
				}
			}
		}
	}
	viewer.Must(b, q, map[string]any{"c": g.conv}, &check)
	if e := check.Messages.Edges; len(e) != 50 || len(e[49].Node.Reactions) != 3 || !e[49].Node.Reactions[0].ReactedByMe {
		b.Fatalf("unexpected page: %+v", e[len(e)-1])
	}
	measure(b, api, func() { viewer.Must(b, q, map[string]any{"c": g.conv}, nil) })
}

// BenchmarkReadByPage is the first 100 of the "seen by" list of a message
// read by 750 of the 999 other members.
func BenchmarkReadByPage(b *testing.B) {
	api, g := benchGroup(b)
	viewer := g.members[3]
	msg := g.messages[15]
	q := `query($m: ID!) { node(id: $m) { ... on Message { readBy(first: 100) { edges { node { at user { id } } } pageInfo { hasNextPage endCursor } } } } }`
	var check struct {
		Node struct{ ReadBy userAtPage }
	}
	viewer.Must(b, q, map[string]any{"m": msg}, &check)
	if len(check.Node.ReadBy.Edges) != 100 || !check.Node.ReadBy.PageInfo.HasNextPage {
		b.Fatalf("unexpected page of %d", len(check.Node.ReadBy.Edges))
	}
	measure(b, api, func() { viewer.Must(b, q, map[string]any{"m": msg}, nil) })
}

// BenchmarkReceiptOfOneMember is "when did X read this".
func BenchmarkReceiptOfOneMember(b *testing.B) {
	api, g := benchGroup(b)
	q := fmt.Sprintf(`query($m: ID!) { node(id: $m) { ... on Message { receipt(userId: %q) { readAt deliveredAt } } } }`, g.members[500].UserID)
	viewer := g.members[3]
	measure(b, api, func() { viewer.Must(b, q, map[string]any{"m": g.messages[15]}, nil) })
}

// BenchmarkUnreadCounts is my unread count in the group (about 30 unread)
// and my total over my conversations.
func BenchmarkUnreadCounts(b *testing.B) {
	api, g := benchGroup(b)
	viewer := g.members[28] // read up to 29 of 60
	q := `query($c: ID!) { conversation(id: $c) { unreadCount } me { totalUnreadCount } }`
	var check struct {
		Conversation struct{ UnreadCount int }
		Me           struct{ TotalUnreadCount int }
	}
	viewer.Must(b, q, map[string]any{"c": g.conv}, &check)
	if check.Conversation.UnreadCount != 31 || check.Me.TotalUnreadCount != 31 {
		b.Fatalf("unread %+v", check)
	}
	measure(b, api, func() { viewer.Must(b, q, map[string]any{"c": g.conv}, nil) })
}
