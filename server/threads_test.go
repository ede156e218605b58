package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/server"
	"messenger/storage"
)

// Replies, threads and mentions through GraphQL, on both stores.

const (
	sendRefsOp = `mutation($c: ID!, $k: String!, $b: String!, $r: ID, $t: ID, $m: [ID!], $all: Boolean) {
  sendMessage(input: {conversationId: $c, clientMessageId: $k, body: $b, replyToId: $r, threadRootId: $t, mentions: $m, mentionAll: $all}) {
    id seq threadRootId mentionAll mentionsMe mentions { id } replyTo { id body }
  } }`
	threadEventsQuery = `subscription { events {
  __typename cursor ephemeral
  ... on MessageAdded { message { id seq } threadRootId mentionsMe }
  ... on ThreadUpdated { root { id } reply { id } thread { replyCount unreadCount participants { id } } }
} }`
)

type refsView struct {
	ID           string
	Seq          int
	ThreadRootID *string
	MentionAll   bool
	MentionsMe   bool
	Mentions     []struct{ ID string }
	ReplyTo      *struct {
		ID   string
		Body *string
	}
}

func sendRefs(t *testing.T, c *apitest.Client, conv string, vars map[string]any) refsView {
	t.Helper()
	if vars == nil {
		vars = map[string]any{}
	}
	vars["c"], vars["k"], vars["b"] = conv, fmt.Sprintf("k%d", time.Now().UnixNano()), "hello"
	var out struct{ SendMessage refsView }
	c.Must(t, sendRefsOp, vars, &out)
	return out.SendMessage
}

// onBothStores runs fn against the API on Pebble and, when
// MESSENGER_CASSANDRA_HOSTS is set, on Cassandra (a keyspace of its own).
// onBothStoresURL runs fn against an API on each backend (onBothStores),
// for tests that only need its URL.
func onBothStoresURL(t *testing.T, fn func(t *testing.T, url string)) {
	onBothStores(t, func(t *testing.T, api *testAPI) { fn(t, api.URL) })
}

func subscribeThreads(t *testing.T, c *apitest.Client) *apitest.Events {
	t.Helper()
	s := apitest.Dial(context.Background(), t, c.URL, c.Token, true)
	if m := s.Next(t, 5*time.Second); m.Type != "connection_ack" {
		t.Fatalf("expected connection_ack, got %+v", m)
	}
	payload, _ := json.Marshal(map[string]any{"query": threadEventsQuery})
	s.Send(t, apitest.Message{ID: "1", Type: "subscribe", Payload: payload})
	waitPresence(t, c, c.UserID, true)
	return &apitest.Events{Socket: s}
}

func TestThreadsAndRepliesThroughGraphQL(t *testing.T) {
	onBothStoresURL(t, func(t *testing.T, url string) {
		alice, bob, carol := apitest.SignUp(t, url, "alice"), apitest.SignUp(t, url, "bob"), apitest.SignUp(t, url, "carol")
		conv := createGroup(t, alice, "team", bob, carol)
		bobEvents := subscribeThreads(t, bob)
		root := sendRefs(t, alice, conv, nil)
		r1 := sendRefs(t, bob, conv, map[string]any{"t": root.ID, "r": root.ID})
		if r1.ThreadRootID == nil || *r1.ThreadRootID != root.ID || r1.ReplyTo == nil || r1.ReplyTo.ID != root.ID {
			t.Fatalf("thread reply = %+v", r1)
		}
		main := sendRefs(t, carol, conv, nil)
		r2 := sendRefs(t, carol, conv, map[string]any{"t": root.ID})

		// Live: MessageAdded carries the root, then ThreadUpdated the summary.
		var added, updated []apitest.Event
		for len(updated) < 2 {
			ev := bobEvents.Next(t)
			switch ev.Typename {
			case "MessageAdded":
				added = append(added, ev)
			case "ThreadUpdated":
				updated = append(updated, ev)
			}
		}
		var last struct {
			Root   struct{ ID string }
			Thread struct {
				ReplyCount, UnreadCount int
				Participants            []struct{ ID string }
			}
		}
		if err := json.Unmarshal(updated[1].Raw, &last); err != nil {
			t.Fatal(err)
		}
		if last.Root.ID != root.ID || last.Thread.ReplyCount != 2 || last.Thread.UnreadCount != 1 || len(last.Thread.Participants) != 2 {
			t.Fatalf("ThreadUpdated = %s", updated[1].Raw)
		}
		var addedR2 struct{ ThreadRootID *string }
		_ = json.Unmarshal(added[len(added)-1].Raw, &addedR2)
		if addedR2.ThreadRootID == nil || *addedR2.ThreadRootID != root.ID {
			t.Fatalf("MessageAdded of a thread reply = %s", added[len(added)-1].Raw)
		}

		// History leaves thread replies out unless asked; the root shows its thread.
		q := `query($c: ID!, $inc: Boolean) { messages(conversationId: $c, last: 10, includeThreadReplies: $inc) { edges { node { id
		  thread { replyCount lastReplyAt unreadCount participants(first: 1) { id } } } } } }`
		var page struct {
			Messages struct {
				Edges []struct {
					Node struct {
						ID     string
						Thread *struct {
							ReplyCount, UnreadCount int
							LastReplyAt             *string
							Participants            []struct{ ID string }
						}
					}
				}
			}
		}
		bob.Must(t, q, map[string]any{"c": conv}, &page)
		if n := len(page.Messages.Edges); n != 2 || page.Messages.Edges[0].Node.ID != root.ID || page.Messages.Edges[1].Node.ID != main.ID {
			t.Fatalf("main timeline has %d messages: %+v", n, page)
		}
		th := page.Messages.Edges[0].Node.Thread
		if th == nil || th.ReplyCount != 2 || th.UnreadCount != 1 || th.LastReplyAt == nil || len(th.Participants) != 1 {
			t.Fatalf("root's thread = %+v", th)
		}
		if page.Messages.Edges[1].Node.Thread != nil {
			t.Fatalf("a message without replies has a thread")
		}
		bob.Must(t, q, map[string]any{"c": conv, "inc": true}, &page)
		if len(page.Messages.Edges) != 4 {
			t.Fatalf("with thread replies: %d messages", len(page.Messages.Edges))
		}

		// threadMessages pages one thread.
		tq := `query($r: ID!, $a: String) { threadMessages(rootId: $r, first: 1, after: $a) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`
		var tp struct {
			ThreadMessages struct {
				Edges    []struct{ Node struct{ ID string } }
				PageInfo struct {
					HasNextPage bool
					EndCursor   *string
				}
			}
		}
		bob.Must(t, tq, map[string]any{"r": root.ID}, &tp)
		if len(tp.ThreadMessages.Edges) != 1 || tp.ThreadMessages.Edges[0].Node.ID != r1.ID || !tp.ThreadMessages.PageInfo.HasNextPage {
			t.Fatalf("thread page 1 = %+v", tp)
		}
		bob.Must(t, tq, map[string]any{"r": root.ID, "a": *tp.ThreadMessages.PageInfo.EndCursor}, &tp)
		if len(tp.ThreadMessages.Edges) != 1 || tp.ThreadMessages.Edges[0].Node.ID != r2.ID || tp.ThreadMessages.PageInfo.HasNextPage {
			t.Fatalf("thread page 2 = %+v", tp)
		}

		// Bad refs: BAD_USER_INPUT, nothing written.
		other := createGroup(t, alice, "other", carol)
		elsewhere := sendRefs(t, alice, other, nil)
		before := lastSeq(t, alice, conv)
		vars := map[string]any{"c": conv, "k": "bad1", "b": "x", "r": elsewhere.ID}
		alice.Refused(t, "BAD_USER_INPUT", sendRefsOp, vars)
		vars = map[string]any{"c": conv, "k": "bad2", "b": "x", "t": r1.ID}
		alice.Refused(t, "BAD_USER_INPUT", sendRefsOp, vars)
		if after := lastSeq(t, alice, conv); after != before {
			t.Fatalf("refused sends wrote messages: lastSeq %d -> %d", before, after)
		}
	})
}

func TestMentionsThroughGraphQL(t *testing.T) {
	onBothStoresURL(t, func(t *testing.T, url string) {
		alice, bob, carol := apitest.SignUp(t, url, "alice"), apitest.SignUp(t, url, "bob"), apitest.SignUp(t, url, "carol")
		conv := createGroup(t, alice, "team", bob, carol)
		bobEvents := subscribeThreads(t, bob)
		m1 := sendRefs(t, alice, conv, map[string]any{"m": []string{bob.UserID}})
		if len(m1.Mentions) != 1 || m1.Mentions[0].ID != bob.UserID || m1.MentionsMe {
			t.Fatalf("sent mention = %+v", m1)
		}
		m2 := sendRefs(t, carol, conv, map[string]any{"all": true})
		sendRefs(t, carol, conv, nil)
		ev := bobEvents.NextOfType(t, "MessageAdded")
		var me struct{ MentionsMe bool }
		_ = json.Unmarshal(ev.Raw, &me)
		if !me.MentionsMe {
			t.Fatalf("MessageAdded of a mention of bob: %s", ev.Raw)
		}

		counts := `query($c: ID!) { conversation(id: $c) { unreadMentionCount } me { totalUnreadMentionCount }
		  unreadMentions(conversationId: $c, first: 10) { edges { node { id mentionsMe } } } }`
		var out struct {
			Conversation   struct{ UnreadMentionCount int }
			Me             struct{ TotalUnreadMentionCount *int }
			UnreadMentions struct {
				Edges []struct {
					Node struct {
						ID         string
						MentionsMe bool
					}
				}
			}
		}
		bob.Must(t, counts, map[string]any{"c": conv}, &out)
		if out.Conversation.UnreadMentionCount != 2 || out.Me.TotalUnreadMentionCount == nil || *out.Me.TotalUnreadMentionCount != 2 {
			t.Fatalf("bob's counts = %+v", out)
		}
		if e := out.UnreadMentions.Edges; len(e) != 2 || e[0].Node.ID != m1.ID || e[1].Node.ID != m2.ID || !e[1].Node.MentionsMe {
			t.Fatalf("bob's unread mentions = %+v", e)
		}
		markRead(t, bob, conv, m1.Seq)
		bob.Must(t, counts, map[string]any{"c": conv}, &out)
		if out.Conversation.UnreadMentionCount != 1 || *out.Me.TotalUnreadMentionCount != 1 {
			t.Fatalf("after reading m1: %+v", out)
		}
		// An edit changes whom a message mentions.
		edit := `mutation($m: ID!, $who: [ID!]) { editMessage(messageId: $m, body: "edited", mentions: $who) { id mentions { id } } }`
		alice.Must(t, edit, map[string]any{"m": m1.ID, "who": []string{carol.UserID}}, nil)
		var carolOut struct {
			Conversation struct{ UnreadMentionCount int }
		}
		carol.Must(t, `query($c: ID!) { conversation(id: $c) { unreadMentionCount } }`, map[string]any{"c": conv}, &carolOut)
		if carolOut.Conversation.UnreadMentionCount != 1 {
			t.Fatalf("carol after the edit: %+v", carolOut)
		}

		// Bad input: too many, unknown users; nothing written.
		before := lastSeq(t, alice, conv)
		tooMany := make([]string, storage.MaxMentions+1)
		for i := range tooMany {
			tooMany[i] = bob.UserID
			if i > 0 {
				tooMany[i] = apitest.SignUp(t, url, "x").UserID
			}
		}
		alice.Refused(t, "BAD_USER_INPUT", sendRefsOp, map[string]any{"c": conv, "k": "m1", "b": "x", "m": tooMany})
		stranger := apitest.SignUp(t, url, "stranger")
		alice.Refused(t, "BAD_USER_INPUT", sendRefsOp, map[string]any{"c": conv, "k": "m2", "b": "x", "m": []string{stranger.UserID}})
		alice.Refused(t, "BAD_USER_INPUT", sendRefsOp, map[string]any{"c": conv, "k": "m3", "b": "x", "m": []string{conv}})
		alice.Refused(t, "BAD_USER_INPUT", edit, map[string]any{"m": m1.ID, "who": []string{stranger.UserID}})
		if after := lastSeq(t, alice, conv); after != before {
			t.Fatalf("refused sends wrote messages: lastSeq %d -> %d", before, after)
		}
	})
}

// threadCountingStore counts the reads a history page makes.
type threadCountingStore struct {
	storage.Store
	mu    sync.Mutex
	calls map[string]int
}

func (c *threadCountingStore) count(name string) {
	c.mu.Lock()
	c.calls[name]++
	c.mu.Unlock()
}

func (c *threadCountingStore) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.calls
	c.calls = map[string]int{}
	return old
}

func (c *threadCountingStore) Messages(ctx context.Context, conv string, seqs []int64) (map[int64]storage.Message, error) {
	c.count("Messages")
	return c.Store.Messages(ctx, conv, seqs)
}

func (c *threadCountingStore) Member(ctx context.Context, conv, user string) (storage.Member, error) {
	c.count("Member")
	return c.Store.Member(ctx, conv, user)
}

func (c *threadCountingStore) ThreadSummaries(ctx context.Context, conv string, roots []int64, viewer string, readSeq int64) (map[int64]storage.ThreadSummary, error) {
	c.count("ThreadSummaries")
	return c.Store.ThreadSummaries(ctx, conv, roots, viewer, readSeq)
}

func (c *threadCountingStore) Users(ctx context.Context, ids []string) (map[string]storage.User, error) {
	c.count("Users")
	return c.Store.Users(ctx, ids)
}

// TestAHistoryPageWithQuotesAndThreadsReadsAConstantNumberOfTimes: the
// dataloaders batch a page's thread summaries, quoted messages, mentioned
// users and the viewer's membership, so a page costs a bounded number of
// reads whatever its size (a batch window may split one kind in two).
func TestAHistoryPageWithQuotesAndThreadsReadsAConstantNumberOfTimes(t *testing.T) {
	store := &threadCountingStore{Store: embeddedStore(t), calls: map[string]int{}}
	_, url := newEmbedded(t, apiOptions{store: store}).serve(t, server.Config{})
	alice, bob := apitest.SignUp(t, url, "alice"), apitest.SignUp(t, url, "bob")
	conv := createGroup(t, alice, "team", bob)
	var prev string
	for i := range 40 {
		vars := map[string]any{"m": []string{bob.UserID}}
		if prev != "" {
			vars["r"] = prev
		}
		m := sendRefs(t, alice, conv, vars)
		if i%2 == 0 {
			sendRefs(t, bob, conv, map[string]any{"t": m.ID})
		}
		prev = m.ID
	}
	q := `query($c: ID!, $n: Int) { messages(conversationId: $c, last: $n) { edges { node { id mentionsMe
	  mentions { username } replyTo { id body sender { username } } thread { replyCount unreadCount participants { username } } } } } }`
	reads := func(n int) map[string]int {
		store.reset()
		bob.Must(t, q, map[string]any{"c": conv, "n": n}, nil)
		return store.reset()
	}
	small, large := reads(5), reads(40)
	for _, k := range []string{"Messages", "Member", "ThreadSummaries", "Users"} {
		if small[k] > 3 || large[k] > 3 {
			t.Errorf("%s: %d reads for 5 messages, %d for 40; want at most 3 for any page", k, small[k], large[k])
		}
	}
}
