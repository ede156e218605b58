package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/media/mediatest"
)

// storyEventsQuery subscribes to events with the story fields a client
// shows.
const storyEventsQuery = `subscription { events {
  __typename cursor ephemeral
  ... on StoryPosted { storyId story { id caption author { id } } }
  ... on StoryReaction { storyId emoji user { id } story { id } }
  ... on MessageAdded { message { body } }
} }`

// storyEvent is one event of storyEventsQuery.
type storyEvent struct {
	Typename string `json:"__typename"`
	Cursor   string
	StoryID  string
	Emoji    string
	User     *struct{ ID string }
	Story    *struct {
		ID      string
		Caption *string
		Author  struct{ ID string }
	}
	Message *struct{ Body string }
}

// subscribeStories opens c's events subscription over a real websocket and
// returns once it is live (c shows online only after its stream is
// registered, so nothing published later can be missed).
func subscribeStories(t *testing.T, c *apitest.Client) *apitest.Events {
	t.Helper()
	s := apitest.Dial(context.Background(), t, c.URL, c.Token, true)
	if m := s.Next(t, 5*time.Second); m.Type != "connection_ack" {
		t.Fatalf("expected connection_ack, got %+v", m)
	}
	payload, _ := json.Marshal(map[string]any{"query": storyEventsQuery})
	s.Send(t, apitest.Message{ID: "1", Type: "subscribe", Payload: payload})
	waitPresence(t, c, c.UserID, true)
	return &apitest.Events{Socket: s}
}

// nextOf skips events until one of the given types arrives (presence and
// membership events come and go around the ones a test is about).
func nextOf(t *testing.T, ev *apitest.Events, types ...string) storyEvent {
	t.Helper()
	for {
		e := ev.Next(t)
		for _, typ := range types {
			if e.Typename == typ {
				var out storyEvent
				if err := json.Unmarshal(e.Raw, &out); err != nil {
					t.Fatalf("event %s: %v", e.Raw, err)
				}
				return out
			}
		}
	}
}

// A contact subscribed to events gets StoryPosted when someone they share a
// conversation with posts a story; someone who shares none does not. The
// poster gets StoryReaction when a contact reacts, once per emoji.
func TestStoryEventsReachContactsAndThePoster(t *testing.T) {
	api := newMediaAPI(t, false)
	poster, contact, stranger := apitest.SignUp(t, api.url, "poster"), apitest.SignUp(t, api.url, "contact"), apitest.SignUp(t, api.url, "stranger")
	conversation(t, poster, contact)
	posterEvents := subscribeStories(t, poster)
	contactEvents := subscribeStories(t, contact)
	strangerEvents := subscribeStories(t, stranger)

	video := mustUpload(t, poster, "clip.mp4", mediatest.MP4(8*time.Second, 256, false))
	var posted struct{ PostStory struct{ ID string } }
	poster.Must(t, `mutation($u: ID!) { postStory(uploadId: $u, caption: "at the beach") { id } }`, map[string]any{"u": video.ID}, &posted)
	id := posted.PostStory.ID

	e := nextOf(t, contactEvents, "StoryPosted")
	if e.StoryID != id || e.Story == nil || e.Story.ID != id || e.Story.Author.ID != poster.UserID ||
		e.Story.Caption == nil || *e.Story.Caption != "at the beach" || e.Cursor == "" {
		t.Fatalf("contact's StoryPosted = %+v, want story %s by %s", e, id, poster.UserID)
	}

	// The stranger's log is ordered: a message sent to them after the post
	// arrives first only if no StoryPosted was ever put before it.
	var dm struct{ CreateDirectConversation struct{ ID string } }
	poster.Must(t, `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`, map[string]any{"u": stranger.UserID}, &dm)
	poster.Must(t, `mutation($c: ID!) { sendMessage(input: {conversationId: $c, clientMessageId: "after-story", body: "hi"}) { id } }`,
		map[string]any{"c": dm.CreateDirectConversation.ID}, nil)
	if e := nextOf(t, strangerEvents, "StoryPosted", "MessageAdded"); e.Typename != "MessageAdded" {
		t.Fatalf("a user who shared no conversation with the poster got %+v", e)
	}

	react := `mutation($s: ID!, $e: String!) { reactToStory(id: $s, emoji: $e) { id } }`
	contact.Must(t, react, map[string]any{"s": id, "e": "🔥"}, nil)
	e = nextOf(t, posterEvents, "StoryReaction")
	if e.StoryID != id || e.Emoji != "🔥" || e.User == nil || e.User.ID != contact.UserID || e.Story == nil || e.Story.ID != id {
		t.Fatalf("poster's StoryReaction = %+v, want 🔥 by %s on %s", e, contact.UserID, id)
	}
	// The same emoji again changes nothing and tells nobody; a new one does.
	contact.Must(t, react, map[string]any{"s": id, "e": "🔥"}, nil)
	contact.Must(t, react, map[string]any{"s": id, "e": "👍"}, nil)
	if e := nextOf(t, posterEvents, "StoryReaction"); e.Emoji != "👍" {
		t.Fatalf("after a repeated 🔥 and a 👍, the poster got %+v; want 👍 only", e)
	}
}
