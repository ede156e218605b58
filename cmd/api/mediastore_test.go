package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/media/mediatest"
)

// upload posts one file with the GraphQL multipart request spec and
// returns its id.
func upload(t *testing.T, c *apitest.Client, name string, data []byte) string {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("operations", `{"query":"mutation($f: Upload!) { uploadFile(file: $f) { id } }","variables":{"f":null}}`)
	_ = w.WriteField("map", `{"0":["variables.f"]}`)
	fw, _ := w.CreateFormFile("0", name)
	_, _ = fw.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.URL+"/graphql", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("GraphQL-Require-Preflight", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		Data struct{ UploadFile struct{ ID string } }
	}
	if json.Unmarshal(body, &out) != nil || out.Data.UploadFile.ID == "" {
		t.Fatalf("uploadFile(%s): %d %s", name, resp.StatusCode, body)
	}
	return out.Data.UploadFile.ID
}

// Two API processes share media metadata through Cassandra: an upload made
// through A is attached through B, and then A refuses to attach it again;
// a story posted through B is in a contact's feed read through A.
func TestFleetSharesUploadsAndStories(t *testing.T) {
	env := fleetEnv(t)
	bin := buildBinary(t)
	urlA, _ := startBinary(t, bin, t.TempDir(), env...)
	urlB, _ := startBinary(t, bin, t.TempDir(), env...)
	alice, bob := apitest.SignUp(t, urlA, "alice"), apitest.SignUp(t, urlA, "bob")
	var conv struct{ CreateDirectConversation struct{ ID string } }
	alice.Must(t, `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`, map[string]any{"u": bob.UserID}, &conv)
	c := conv.CreateDirectConversation.ID

	photo := upload(t, alice, "photo.png", mediatest.PNG(4, 3))
	video := upload(t, alice, "clip.mp4", mediatest.MP4(5*time.Second, 64, false))
	send := `mutation($c: ID!, $k: String!, $f: [ID!]) { sendMessage(input: {conversationId: $c, clientMessageId: $k, body: "look", attachmentIds: $f}) { attachments { id } } }`
	alice.URL = urlB
	var sent struct {
		SendMessage struct{ Attachments []struct{ ID string } }
	}
	alice.Must(t, send, map[string]any{"c": c, "k": "one", "f": []string{photo}}, &sent)
	if len(sent.SendMessage.Attachments) != 1 {
		t.Fatalf("attachments sent through B = %+v", sent)
	}
	var story struct{ PostStory struct{ ID string } }
	alice.Must(t, `mutation($u: ID!) { postStory(uploadId: $u, caption: "hi") { id } }`, map[string]any{"u": video}, &story)

	alice.URL = urlA
	e := alice.Refused(t, "BAD_USER_INPUT", send, map[string]any{"c": c, "k": "two", "f": []string{photo}})
	if !strings.Contains(e.Message, "only once") {
		t.Fatalf("attaching again through A: %s", e.Message)
	}
	var feed struct {
		StoryFeed struct {
			Edges []struct {
				Node struct{ Stories []struct{ ID string } }
			}
		}
	}
	bob.Must(t, `{ storyFeed { edges { node { stories { id } } } } }`, nil, &feed)
	if len(feed.StoryFeed.Edges) != 1 || feed.StoryFeed.Edges[0].Node.Stories[0].ID != story.PostStory.ID {
		t.Fatalf("bob's feed through A = %+v, want the story posted through B", feed)
	}
}
