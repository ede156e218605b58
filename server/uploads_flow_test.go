package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/blob"
	"messenger/blob/blobtest"
	"messenger/media/mediatest"
)

func TestStoryRules(t *testing.T) {
	api := newMediaAPI(t, false)
	a, b := apitest.SignUp(t, api.url, "sa"), apitest.SignUp(t, api.url, "sb")
	conversation(t, a, b)
	post := `mutation($u: ID!) { postStory(uploadId: $u, caption: "hi") { id durationMs } }`
	png := mustUpload(t, a, "p.png", mediatest.PNG(2, 2))
	a.Refused(t, "BAD_USER_INPUT", post, map[string]any{"u": png.ID})
	long := mustUpload(t, a, "long.mp4", mediatest.MP4(61*time.Second, 64, false))
	if long.Kind != "VIDEO" || *long.DurationMs != 61000 {
		t.Fatalf("video = %+v", long)
	}
	e := a.Refused(t, "BAD_USER_INPUT", post, map[string]any{"u": long.ID})
	if !strings.Contains(e.Message, "at most 60 s") {
		t.Fatal(e.Message)
	}
	var first string
	for i := 0; i < 10; i++ {
		v := mustUpload(t, a, "v.mp4", mediatest.MP4(5*time.Second, 64, i%2 == 0))
		var out struct{ PostStory struct{ ID string } }
		a.Must(t, post, map[string]any{"u": v.ID}, &out)
		if i == 0 {
			first = out.PostStory.ID
		}
		api.clock.Add(time.Minute)
	}
	v := mustUpload(t, a, "v.mp4", mediatest.MP4(5*time.Second, 64, false))
	e = a.Refused(t, "RATE_LIMITED", post, map[string]any{"u": v.ID})
	retry, err := time.Parse(time.RFC3339Nano, fmt.Sprint(e.Extensions["retryAt"]))
	if err != nil || retry.Before(api.clock.Now().Add(23*time.Hour)) {
		t.Fatalf("retryAt = %v (%v)", e.Extensions["retryAt"], err)
	}
	// The contact sees the stories, views one, reacts; the poster sees it.
	var feed struct {
		StoryFeed struct {
			Edges []struct {
				Node struct {
					Author    struct{ ID string }
					HasUnseen bool
					Stories   []struct {
						ID       string
						SeenByMe bool
						URL      string
					}
				}
			}
		}
	}
	feedQ := `{ storyFeed { edges { node { author { id } hasUnseen stories { id seenByMe url } } } } }`
	b.Must(t, feedQ, nil, &feed)
	if len(feed.StoryFeed.Edges) != 1 || len(feed.StoryFeed.Edges[0].Node.Stories) != 10 || feed.StoryFeed.Edges[0].Node.Author.ID != a.UserID {
		t.Fatalf("feed = %+v", feed)
	}
	b.Must(t, `mutation($s: ID!) { viewStory(id: $s) { id } reactToStory(id: $s, emoji: "🔥") { id } }`, map[string]any{"s": first}, nil)
	b.Refused(t, "BAD_USER_INPUT", `mutation($s: ID!) { reactToStory(id: $s, emoji: "ab") { id } }`, map[string]any{"s": first})
	var mine struct {
		Story struct {
			ViewCount int
			Viewers   struct {
				Edges []struct {
					Node struct{ User struct{ ID string } }
				}
			}
			Reactions []struct {
				Emoji string
				Count int
			}
		}
	}
	a.Must(t, `query($s: ID!) { story(id: $s) { viewCount viewers { edges { node { user { id } } } } reactions { emoji count } } }`, map[string]any{"s": first}, &mine)
	if mine.Story.ViewCount != 1 || mine.Story.Viewers.Edges[0].Node.User.ID != b.UserID || mine.Story.Reactions[0].Emoji != "🔥" {
		t.Fatalf("story = %+v", mine)
	}
	b.Refused(t, "FORBIDDEN", `query($s: ID!) { story(id: $s) { viewers { edges { cursor } } } }`, map[string]any{"s": first})
	// A stranger sees nothing; after 24 h nobody does, and the sweeper
	// removes the videos.
	c := apitest.SignUp(t, api.url, "sc")
	var none struct{ Story *struct{ ID string } }
	c.Must(t, `query($s: ID!) { story(id: $s) { id } }`, map[string]any{"s": first}, &none)
	if none.Story != nil {
		t.Fatal("a stranger sees the story")
	}
	api.clock.Add(25 * time.Hour) // every story expired, every unused upload a day old
	b.Must(t, feedQ, nil, &feed)
	if len(feed.StoryFeed.Edges) != 0 {
		t.Fatalf("expired stories still in the feed: %+v", feed)
	}
	if _, _, err := api.media.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := api.blobCount(t); n != 0 {
		t.Fatalf("%d objects left after expiry and sweep", n)
	}
}

func TestAttachmentsEndToEnd(t *testing.T) {
	for _, backend := range []string{"folder", "minio"} {
		t.Run(backend, func(t *testing.T) {
			api := newMediaAPI(t, backend == "minio")
			a, b := apitest.SignUp(t, api.url, "ea"), apitest.SignUp(t, api.url, "eb")
			conv := conversation(t, a, b)
			img := mustUpload(t, a, "photo.png", mediatest.PNG(7, 5))
			doc := mustUpload(t, a, "notes.docx", mediatest.DOCX())
			if img.ContentType != "image/png" || *img.Width != 7 || doc.Kind != "DOCUMENT" {
				t.Fatalf("uploads = %+v %+v", img, doc)
			}
			var sent struct {
				SendMessage struct {
					ID          string
					Attachments []struct {
						ID, Filename, ContentType, URL string
						Size                           int
					}
				}
			}
			a.Must(t, sendWithFiles, sendFiles(conv, img.ID, doc.ID), &sent)
			var got struct {
				Node struct {
					Attachments []struct{ ContentType, URL string }
				}
			}
			b.Must(t, `query($m: ID!) { node(id: $m) { ... on Message { attachments { contentType url } } } }`, map[string]any{"m": sent.SendMessage.ID}, &got)
			if len(got.Node.Attachments) != 2 {
				t.Fatalf("receiver sees %+v", got)
			}
			resp, err := http.Get(got.Node.Attachments[1].URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Equal(body, mediatest.DOCX()) ||
				!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
				resp.Header.Get("Content-Type") != doc.ContentType {
				t.Fatalf("download: %d %v", resp.StatusCode, resp.Header)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("no nosniff: %v", resp.Header)
			}
			if backend == "minio" && strings.Contains(got.Node.Attachments[0].URL, "/blobs/") {
				t.Fatalf("an image is relayed, not served by S3: %s", got.Node.Attachments[0].URL)
			}
			docURL := got.Node.Attachments[1].URL
			if status := getStatus(t, strings.Replace(docURL, "attachment", "inline", 1)); status != http.StatusForbidden {
				t.Fatalf("a tampered document URL answers %d", status)
			}
			api.clock.Add(time.Hour)
			if status := getStatus(t, docURL); status != http.StatusForbidden {
				t.Fatalf("an expired document URL answers %d", status)
			}
			api.clock.Add(-time.Hour)
			a.Must(t, `mutation($m: ID!) { deleteMessage(messageId: $m, forEveryone: true) { id } }`, map[string]any{"m": sent.SendMessage.ID}, nil)
			resp, err = http.Get(got.Node.Attachments[0].URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("an attachment of a message deleted for everyone answers %d", resp.StatusCode)
			}
			b.Must(t, `query($m: ID!) { node(id: $m) { ... on Message { attachments { contentType url } } } }`, map[string]any{"m": sent.SendMessage.ID}, &got)
			if len(got.Node.Attachments) != 0 {
				t.Fatalf("deleted message still lists %+v", got)
			}
		})
	}
}

func TestUnattachedUploadsAreRemovedAfterADay(t *testing.T) {
	api := newMediaAPI(t, false)
	a := apitest.SignUp(t, api.url, "sw")
	mustUpload(t, a, "p.png", mediatest.PNG(2, 2))
	api.clock.Add(23 * time.Hour)
	if u, _, _ := api.media.Sweep(context.Background()); u != 0 {
		t.Fatal("swept a fresh upload")
	}
	api.clock.Add(2 * time.Hour)
	if u, _, err := api.media.Sweep(context.Background()); u != 1 || err != nil {
		t.Fatalf("swept %d, %v", u, err)
	}
	if api.blobCount(t) != 0 {
		t.Fatal("bytes left behind")
	}
}

// presign opens a presigned upload slot of the given size and returns the
// upload's id and the form.
func presign(t *testing.T, c *apitest.Client, filename string, size int) (string, blob.PostForm) {
	t.Helper()
	var out struct {
		CreateUpload struct {
			Upload struct{ ID string }
			URL    string
			Fields []struct{ Name, Value string }
		}
	}
	c.Must(t, `mutation($i: CreateUploadInput!) { createUpload(input: $i) { upload { id } url fields { name value } } }`,
		map[string]any{"i": map[string]any{"filename": filename, "contentType": "application/octet-stream", "size": size}}, &out)
	form := blob.PostForm{URL: out.CreateUpload.URL, Fields: map[string]string{}}
	for _, f := range out.CreateUpload.Fields {
		form.Fields[f.Name] = f.Value
	}
	return out.CreateUpload.Upload.ID, form
}

func mustPost(t *testing.T, form blob.PostForm, data []byte) {
	t.Helper()
	if status, body := blobtest.PostForm(t, form, "f", data); status/100 != 2 {
		t.Fatalf("POST to the slot = %d %s", status, body)
	}
}

func confirm(t *testing.T, c *apitest.Client, id string) uploaded {
	t.Helper()
	var out struct{ ConfirmUpload uploaded }
	c.Must(t, `mutation($id: ID!) { confirmUpload(id: $id) { id filename contentType kind size ready } }`, map[string]any{"id": id}, &out)
	return out.ConfirmUpload
}

// attachmentURL is the URL the recipient b gets for the one file of message.
func attachmentURL(t *testing.T, b *apitest.Client, message string) string {
	t.Helper()
	var got struct {
		Node struct{ Attachments []struct{ URL string } }
	}
	b.Must(t, `query($m: ID!) { node(id: $m) { ... on Message { attachments { url } } } }`, map[string]any{"m": message}, &got)
	if len(got.Node.Attachments) != 1 {
		t.Fatalf("message has %d attachments", len(got.Node.Attachments))
	}
	return got.Node.Attachments[0].URL
}

func download(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
	}
	return body
}
