package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/apitest"
	"messenger/media/mediatest"
)

// attachmentEventsQuery subscribes to events with what a client shows of a
// new message: its files.
const attachmentEventsQuery = `subscription { events {
  __typename
  ... on MessageAdded { message { id seq attachments { id contentType } } }
} }`

// filesEvent is one MessageAdded of attachmentEventsQuery.
type filesEvent struct {
	Typename string `json:"__typename"`
	Message  *struct {
		ID          string
		Seq         int
		Attachments []struct{ ID, ContentType string }
	}
}

// subscribeFiles opens c's events subscription and returns once it is live.
func subscribeFiles(t *testing.T, c *apitest.Client) *apitest.Events {
	t.Helper()
	s := apitest.Dial(context.Background(), t, c.URL, c.Token, true)
	if m := s.Next(t, 5*time.Second); m.Type != "connection_ack" {
		t.Fatalf("expected connection_ack, got %+v", m)
	}
	payload, _ := json.Marshal(map[string]any{"query": attachmentEventsQuery})
	s.Send(t, apitest.Message{ID: "1", Type: "subscribe", Payload: payload})
	waitPresence(t, c, c.UserID, true)
	return &apitest.Events{Socket: s}
}

// Every member subscribed to a group receives every message sent with
// files together with all of them: the files are attached before the event
// goes out, never after (once, 2-8 of 20 events arrived with none). A
// retry of a send returns the original message with its files.
func TestEveryMemberReceivesEveryMessageWithAllItsAttachments(t *testing.T) {
	api := newMediaAPI(t, false)
	alice := apitest.SignUp(t, api.url, "fa")
	bob := apitest.SignUp(t, api.url, "fb")
	carol := apitest.SignUp(t, api.url, "fc")
	var g struct{ CreateGroup struct{ ID string } }
	alice.Must(t, `mutation($m: [ID!]!) { createGroup(input: {title: "files", memberIds: $m}) { id } }`,
		map[string]any{"m": []string{bob.UserID, carol.UserID}}, &g)
	group := g.CreateGroup.ID
	members := []*apitest.Client{alice, bob, carol}
	streams := make([]*apitest.Events, len(members))
	for i, c := range members {
		streams[i] = subscribeFiles(t, c)
	}

	// 20 messages, each with one to three files, from two senders at once.
	const sends = 20
	type sent struct {
		sender *apitest.Client
		input  map[string]any
		files  int
	}
	want := map[string]sent{} // by message id
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, sender := range []*apitest.Client{alice, bob} {
		files := make([][]string, sends/2)
		for i := range files {
			for j := range 1 + i%3 {
				files[i] = append(files[i], mustUpload(t, sender, fmt.Sprintf("p%d-%d.png", i, j), mediatest.PNG(2+j, 2)).ID)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, ids := range files {
				in := map[string]any{"i": map[string]any{"conversationId": group, "clientMessageId": uuid.NewString(), "body": "files", "attachmentIds": ids}}
				var out struct{ SendMessage struct{ ID string } }
				sender.Must(t, sendWithFiles, in, &out)
				mu.Lock()
				want[out.SendMessage.ID] = sent{sender: sender, input: in, files: len(ids)}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	for i, events := range streams {
		got := map[string]int{}
		for len(got) < sends {
			e := events.Next(t)
			if e.Typename != "MessageAdded" {
				continue
			}
			var ev filesEvent
			if err := json.Unmarshal(e.Raw, &ev); err != nil {
				t.Fatalf("event %s: %v", e.Raw, err)
			}
			id := ev.Message.ID
			if _, twice := got[id]; twice {
				t.Fatalf("member %d received message %s twice", i, id)
			}
			got[id] = len(ev.Message.Attachments)
			if w, ok := want[id]; !ok || got[id] != w.files {
				t.Fatalf("member %d received message seq %d with %d files, want %d", i, ev.Message.Seq, got[id], w.files)
			}
		}
	}

	// A retry (same client message id) returns the original, whole, and
	// sends nothing.
	for id, s := range want {
		var out struct {
			SendMessage struct {
				ID          string
				Attachments []struct{ ID string }
			}
		}
		s.sender.Must(t, sendWithFiles, s.input, &out)
		if out.SendMessage.ID != id || len(out.SendMessage.Attachments) != s.files {
			t.Fatalf("retry of %s returned %s with %d files, want %d", id, out.SendMessage.ID, len(out.SendMessage.Attachments), s.files)
		}
	}
	streams[2].ExpectNone(t, "MessageAdded", 300*time.Millisecond)
}
