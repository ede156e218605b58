package server_test

import (
	"fmt"
	"testing"

	"messenger/apitest"
	"messenger/server"
)

// BenchmarkHistoryPageWithThreads reads a page of 50 messages, each quoting
// the one before and mentioning the reader, every other one the root of a
// thread, with their quotes, mentions and thread summaries: the
// dataloaders keep it at a constant number of store reads.
func BenchmarkHistoryPageWithThreads(b *testing.B) {
	_, url := newEmbedded(b, apiOptions{}).serve(b, server.Config{})
	alice, bob := apitest.SignUp(b, url, "alice"), apitest.SignUp(b, url, "bob")
	var g struct{ CreateGroup struct{ ID string } }
	alice.Must(b, createGroupOp, map[string]any{"t": "team", "m": []string{bob.UserID}}, &g)
	conv := g.CreateGroup.ID
	var prev string
	for i := range 50 {
		vars := map[string]any{"c": conv, "k": fmt.Sprintf("k%d", i), "b": "hello", "m": []string{bob.UserID}}
		if prev != "" {
			vars["r"] = prev
		}
		var out struct{ SendMessage struct{ ID string } }
		alice.Must(b, sendRefsOp, vars, &out)
		if i%2 == 0 {
			bob.Must(b, sendRefsOp, map[string]any{"c": conv, "k": fmt.Sprintf("t%d", i), "b": "reply", "t": out.SendMessage.ID}, nil)
		}
		prev = out.SendMessage.ID
	}
	q := `query($c: ID!) { messages(conversationId: $c, last: 50) { edges { node { id body mentionsMe
	  mentions { username } replyTo { id body } thread { replyCount lastReplyAt unreadCount participants { username } } } } } }`
	b.ResetTimer()
	for range b.N {
		bob.Must(b, q, map[string]any{"c": conv}, nil)
	}
}
