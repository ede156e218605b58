package server_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/media/mediatest"
)

// nodeQuery asks for any object by id with the fields that tell the types
// apart.
const nodeQuery = `query($id: ID!) { node(id: $id) { __typename id
  ... on UploadedFile { filename }
  ... on Attachment { filename url }
  ... on Story { caption author { id } }
} }`

type nodeResult struct {
	Node *struct {
		Typename string `json:"__typename"`
		ID       string
		Filename string
		URL      string
		Caption  *string
		Author   *struct{ ID string }
	}
}

func node(t *testing.T, c *apitest.Client, id string) nodeResult {
	t.Helper()
	var out nodeResult
	c.Must(t, nodeQuery, map[string]any{"id": id}, &out)
	return out
}

// Uploads, attachments and stories are Relay nodes: node(id:) finds each
// for exactly the people their own queries show them to, and an attachment
// has an id of its own, so a Relay store never sees two types under one id.
func TestUploadsAttachmentsAndStoriesResolveAsNodesForWhoMaySeeThem(t *testing.T) {
	api := newMediaAPI(t, false)
	a, b, stranger := apitest.SignUp(t, api.url, "na"), apitest.SignUp(t, api.url, "nb"), apitest.SignUp(t, api.url, "nc")
	conv := conversation(t, a, b)

	photo := mustUpload(t, a, "photo.png", mediatest.PNG(4, 3))
	if n := node(t, a, photo.ID).Node; n == nil || n.Typename != "UploadedFile" || n.ID != photo.ID || n.Filename != "photo.png" {
		t.Fatalf("the uploader's node(upload) = %+v, want UploadedFile photo.png", n)
	}
	if n := node(t, b, photo.ID).Node; n != nil {
		t.Fatalf("someone else's upload resolved as %+v, want null", n)
	}

	var sent struct {
		SendMessage struct {
			ID          string
			Attachments []struct{ ID, Filename string }
		}
	}
	a.Must(t, sendWithFiles, sendFiles(conv, photo.ID), &sent)
	att := sent.SendMessage.Attachments[0].ID
	if att == photo.ID {
		t.Fatalf("the attachment has the upload's id %s: two types under one Relay id", att)
	}
	for _, c := range []*apitest.Client{a, b} {
		n := node(t, c, att).Node
		if n == nil || n.Typename != "Attachment" || n.ID != att || n.Filename != "photo.png" || n.URL == "" {
			t.Fatalf("a member's node(attachment) = %+v, want Attachment photo.png with a URL", n)
		}
	}
	if n := node(t, stranger, att).Node; n != nil {
		t.Fatalf("a non-member's node(attachment) = %+v, want null", n)
	}
	a.Must(t, `mutation($m: ID!) { deleteMessage(messageId: $m, forEveryone: true) { id } }`, map[string]any{"m": sent.SendMessage.ID}, nil)
	if n := node(t, b, att).Node; n != nil {
		t.Fatalf("an attachment of a message deleted for everyone resolved as %+v, want null", n)
	}

	video := mustUpload(t, a, "clip.mp4", mediatest.MP4(5*time.Second, 64, false))
	var posted struct{ PostStory struct{ ID string } }
	a.Must(t, `mutation($u: ID!) { postStory(uploadId: $u, caption: "sunset") { id } }`, map[string]any{"u": video.ID}, &posted)
	story := posted.PostStory.ID
	for _, c := range []*apitest.Client{a, b} {
		n := node(t, c, story).Node
		if n == nil || n.Typename != "Story" || n.ID != story || n.Caption == nil || *n.Caption != "sunset" || n.Author.ID != a.UserID {
			t.Fatalf("node(story) for the poster or a contact = %+v, want the story", n)
		}
	}
	if n := node(t, stranger, story).Node; n != nil {
		t.Fatalf("node(story) for a non-contact = %+v, want null", n)
	}
	api.clock.Add(25 * time.Hour)
	if n := node(t, b, story).Node; n != nil {
		t.Fatalf("an expired story resolved as %+v, want null", n)
	}
}

// conversationsPage is one page of conversations with its page info.
type conversationsPage struct {
	Conversations struct {
		Edges []struct {
			Cursor string
			Node   struct{ ID string }
		}
		PageInfo struct {
			HasNextPage, HasPreviousPage bool
			StartCursor, EndCursor       *string
		}
	}
}

func (p conversationsPage) ids() []string {
	var out []string
	for _, e := range p.Conversations.Edges {
		out = append(out, e.Node.ID)
	}
	return out
}

const conversationsQuery = `query($first: Int, $after: String, $last: Int, $before: String) {
  conversations(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`

// The conversation list pages both ways as Relay specifies: walking it
// backward from the end with last/before gives the same conversations as
// walking forward with first/after, and every page's flags say exactly
// whether there is more on each side.
func TestConversationsPageBackwardAsWellAsForward(t *testing.T) {
	url := newAPI(t, apiOptions{})
	me := apitest.SignUp(t, url, "lister")
	var newestFirst []string
	for range 7 {
		newestFirst = slices.Insert(newestFirst, 0, startDirect(t, me, apitest.SignUp(t, url, "peer")))
		time.Sleep(2 * time.Millisecond) // distinct activity times, so the expected order is known
	}
	page := func(vars map[string]any) conversationsPage {
		t.Helper()
		var p conversationsPage
		me.Must(t, conversationsQuery, vars, &p)
		return p
	}

	var forward []string
	var after any
	for i := 0; ; i++ {
		p := page(map[string]any{"first": 3, "after": after})
		forward = append(forward, p.ids()...)
		info := p.Conversations.PageInfo
		if info.HasPreviousPage != (i > 0) || info.HasNextPage != (len(forward) < 7) {
			t.Fatalf("forward page %d %v: hasPrevious %v hasNext %v", i, p.ids(), info.HasPreviousPage, info.HasNextPage)
		}
		if !info.HasNextPage {
			break
		}
		after = *info.EndCursor
	}
	if !slices.Equal(forward, newestFirst) {
		t.Fatalf("forward walk = %v, want most recently active first %v", forward, newestFirst)
	}

	var backward []string
	var before any
	for i := 0; ; i++ {
		p := page(map[string]any{"last": 3, "before": before})
		backward = append(p.ids(), backward...)
		info := p.Conversations.PageInfo
		if info.HasNextPage != (i > 0) || info.HasPreviousPage != (len(backward) < 7) {
			t.Fatalf("backward page %d %v: hasPrevious %v hasNext %v", i, p.ids(), info.HasPreviousPage, info.HasNextPage)
		}
		if !info.HasPreviousPage {
			break
		}
		before = *info.StartCursor
	}
	if !slices.Equal(backward, newestFirst) {
		t.Fatalf("backward walk = %v, want %v", backward, newestFirst)
	}

	// Between two cursors: after the 1st and before the 5th are the 2nd to 4th.
	all := page(map[string]any{"first": 7})
	between := page(map[string]any{"after": all.Conversations.Edges[0].Cursor, "before": all.Conversations.Edges[4].Cursor, "last": 10})
	if got := between.ids(); !slices.Equal(got, newestFirst[1:4]) {
		t.Fatalf("between the 1st and the 5th: %v, want %v", got, newestFirst[1:4])
	}

	me.Refused(t, "BAD_USER_INPUT", conversationsQuery, map[string]any{"first": 2, "last": 2})
	if e := me.Refused(t, "BAD_USER_INPUT", conversationsQuery, map[string]any{"last": -1}); e.Extensions["field"] != "last" {
		t.Fatalf("last: -1 refused with %+v, want field last", e)
	}
	if e := me.Refused(t, "BAD_USER_INPUT", conversationsQuery, map[string]any{"last": 2, "before": "%%%"}); e.Extensions["field"] != "before" {
		t.Fatalf("a malformed before refused with %+v, want field before", e)
	}
}

// deletedEventsQuery selects what a normalized cache needs from MessageDeleted.
const deletedEventsQuery = `subscription { events { __typename
  ... on MessageDeleted { messageId conversationId forEveryone
    message { id body deletedAt }
    conversation { id unreadCount lastMessage { id } } }
} }`

type deletedEvent struct {
	Typename       string `json:"__typename"`
	MessageID      string
	ConversationID string
	ForEveryone    bool
	Message        *struct {
		ID        string
		Body      *string
		DeletedAt *string
	}
	Conversation *struct {
		ID          string
		UnreadCount int
		LastMessage *struct{ ID string }
	}
}

// MessageDeleted carries what a client cache needs: deleted for everyone,
// the tombstone itself (so the cached message updates in place); hidden for
// me only, the message unchanged (the flag says evict it); and either way
// the conversation as it is now, with its new unread count.
func TestMessageDeletedCarriesTheTombstoneAndTheConversation(t *testing.T) {
	url := newAPI(t, apiOptions{})
	alice, bob := apitest.SignUp(t, url, "alice"), apitest.SignUp(t, url, "bob")
	conv := startDirect(t, alice, bob)
	first := sendMsg(t, alice, conv, "k1", "one").SendMessage.ID
	second := sendMsg(t, alice, conv, "k2", "two").SendMessage.ID

	s := apitest.Dial(context.Background(), t, bob.URL, bob.Token, true)
	if m := s.Next(t, 5*time.Second); m.Type != "connection_ack" {
		t.Fatalf("expected connection_ack, got %+v", m)
	}
	payload, _ := json.Marshal(map[string]any{"query": deletedEventsQuery})
	s.Send(t, apitest.Message{ID: "1", Type: "subscribe", Payload: payload})
	waitPresence(t, bob, bob.UserID, true)
	events := &apitest.Events{Socket: s}
	next := func() deletedEvent {
		t.Helper()
		for {
			var ev deletedEvent
			if err := json.Unmarshal(events.Next(t).Raw, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Typename == "MessageDeleted" {
				return ev
			}
		}
	}

	bob.Must(t, `mutation($m: ID!) { deleteMessage(messageId: $m, forEveryone: false) { id } }`, map[string]any{"m": first}, nil)
	ev := next()
	if ev.MessageID != first || ev.ConversationID != conv || ev.ForEveryone || ev.Message == nil || ev.Message.ID != first || ev.Message.DeletedAt != nil {
		t.Fatalf("hidden for me: %+v (message %+v), want message %s of %s, not a tombstone", ev, ev.Message, first, conv)
	}
	if ev.Conversation == nil || ev.Conversation.ID != conv || ev.Conversation.UnreadCount != 1 {
		t.Fatalf("hidden for me: conversation %+v, want %s with 1 unread", ev.Conversation, conv)
	}

	alice.Must(t, `mutation($m: ID!) { deleteMessage(messageId: $m, forEveryone: true) { id } }`, map[string]any{"m": second}, nil)
	ev = next()
	if ev.MessageID != second || !ev.ForEveryone || ev.Message == nil || ev.Message.ID != second || ev.Message.Body != nil || ev.Message.DeletedAt == nil {
		t.Fatalf("deleted for everyone: %+v (message %+v), want the tombstone of %s", ev, ev.Message, second)
	}
	if ev.Conversation == nil || ev.Conversation.ID != conv {
		t.Fatalf("deleted for everyone: conversation %+v, want %s", ev.Conversation, conv)
	}
}
