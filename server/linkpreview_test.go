package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/blob/folder"
	"messenger/linkpreview"
	"messenger/server"
)

// linkPreviewEvents subscribes to what a client shows of a message's
// preview.
const linkPreviewEvents = `subscription { events {
  __typename
  ... on MessageAdded { message { id linkPreview { url } } }
  ... on MessageUpdated { message { id linkPreview { url title description siteName image { url width height } } } }
} }`

type previewJSON struct {
	URL, Title, Description, SiteName string
	Image                             *struct {
		URL           string
		Width, Height int
	}
}

// previewSite serves a page with OpenGraph tags and its image, on
// loopback: reachable only because the test allows this one address.
func previewSite(t *testing.T) (*httptest.Server, linkpreview.FetchConfig) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	var png400 bytes.Buffer
	if err := png.Encode(&png400, img); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cover.png" {
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(png400.Bytes())
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<html><head><title>fallback</title>
<meta property="og:title" content="Release notes">
<meta property="og:description" content="Everything new this week.">
<meta property="og:site_name" content="Example Blog">
<meta property="og:image" content="/cover.png"></head><body>...</body></html>`))
	}))
	t.Cleanup(srv.Close)
	ap := netip.MustParseAddrPort(srv.Listener.Addr().String())
	return srv, linkpreview.FetchConfig{Ports: []int{80, 443, int(ap.Port())}, AllowAddrs: []netip.AddrPort{ap}}
}

// A message with a link gets its preview after the send: every member
// hears MessageUpdated with it, and the message shows it when read.
func TestAMessageWithALinkGetsItsPreviewAndMembersHearOfIt(t *testing.T) {
	site, fetch := previewSite(t)
	e := newEmbedded(t, apiOptions{})
	blobs, err := folder.Open(folder.Config{Dir: filepath.Join(t.TempDir(), "blobs"), Secret: []byte(strings.Repeat("b", 32)), BaseURL: "http://api.test"})
	if err != nil {
		t.Fatal(err)
	}
	lp, err := linkpreview.New(linkpreview.Config{Store: e.Store, Blobs: blobs, Announcer: e.Chat, Fetch: fetch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lp.Close) // before the domain closes
	e.Chat.UseLinkPreviews(lp)
	_, url := e.serve(t, server.Config{})
	alice := apitest.SignUp(t, url, "lpa")
	bob := apitest.SignUp(t, url, "lpb")
	var c struct{ CreateDirectConversation struct{ ID string } }
	alice.Must(t, `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`, map[string]any{"u": bob.UserID}, &c)

	s := apitest.Dial(context.Background(), t, bob.URL, bob.Token, true)
	if m := s.Next(t, 10*time.Second); m.Type != "connection_ack" {
		t.Fatalf("expected connection_ack, got %+v", m)
	}
	payload, _ := json.Marshal(map[string]any{"query": linkPreviewEvents})
	s.Send(t, apitest.Message{ID: "1", Type: "subscribe", Payload: payload})
	waitPresence(t, bob, bob.UserID, true)
	events := &apitest.Events{Socket: s}

	link := site.URL + "/notes"
	var sent struct {
		SendMessage struct {
			ID string
		}
	}
	alice.Must(t, `mutation($c: ID!, $b: String!) { sendMessage(input: {conversationId: $c, clientMessageId: "lp-1", body: $b}) { id } }`,
		map[string]any{"c": c.CreateDirectConversation.ID, "b": "read this: " + link + "."}, &sent)

	var got *previewJSON
	for got == nil {
		ev, errs := events.NextOrError(t, 30*time.Second)
		if errs != nil {
			t.Fatalf("subscription error: %+v", errs)
		}
		if ev.Typename != "MessageUpdated" {
			continue
		}
		var u struct {
			Message struct {
				ID          string
				LinkPreview *previewJSON
			}
		}
		if err := json.Unmarshal(ev.Raw, &u); err != nil {
			t.Fatal(err)
		}
		if u.Message.ID != sent.SendMessage.ID || u.Message.LinkPreview == nil {
			t.Fatalf("MessageUpdated without the preview: %s", ev.Raw)
		}
		got = u.Message.LinkPreview
	}
	if got.URL != link || got.Title != "Release notes" || got.Description != "Everything new this week." || got.SiteName != "Example Blog" {
		t.Fatalf("preview = %+v", got)
	}
	if got.Image == nil || got.Image.Width != 400 || got.Image.Height != 300 || !strings.HasPrefix(got.Image.URL, "http://api.test/") || strings.Contains(got.Image.URL, site.URL) {
		t.Fatalf("image = %+v: want ours, not hot-linked", got.Image)
	}

	var read struct {
		Node struct{ LinkPreview *previewJSON }
	}
	bob.Must(t, `query($m: ID!) { node(id: $m) { ... on Message { linkPreview { url title siteName } } } }`, map[string]any{"m": sent.SendMessage.ID}, &read)
	if read.Node.LinkPreview == nil || read.Node.LinkPreview.Title != "Release notes" {
		t.Fatalf("message read back: %+v", read.Node.LinkPreview)
	}

	// An edit that removes the link removes the preview.
	alice.Must(t, `mutation($m: ID!) { editMessage(messageId: $m, body: "never mind") { id } }`, map[string]any{"m": sent.SendMessage.ID}, nil)
	bob.Must(t, `query($m: ID!) { node(id: $m) { ... on Message { linkPreview { url title siteName } } } }`, map[string]any{"m": sent.SendMessage.ID}, &read)
	if read.Node.LinkPreview != nil {
		t.Fatalf("edited message still shows %+v", read.Node.LinkPreview)
	}
}

// A send never waits for the linked page: with a page that does not answer
// (and a fetch timeout far beyond the test's), the send returns and members
// get the message.
func TestASendDoesNotWaitForTheLinkedPage(t *testing.T) {
	release := make(chan struct{})
	hung := make(chan struct{}, 1)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case hung <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(site.Close)
	t.Cleanup(func() { close(release) }) // runs before site.Close
	ap := netip.MustParseAddrPort(site.Listener.Addr().String())
	e := newEmbedded(t, apiOptions{})
	blobs, err := folder.Open(folder.Config{Dir: filepath.Join(t.TempDir(), "blobs"), Secret: []byte(strings.Repeat("b", 32))})
	if err != nil {
		t.Fatal(err)
	}
	lp, err := linkpreview.New(linkpreview.Config{Store: e.Store, Blobs: blobs, Announcer: e.Chat, Fetch: linkpreview.FetchConfig{
		Timeout: time.Hour, Ports: []int{int(ap.Port())}, AllowAddrs: []netip.AddrPort{ap}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lp.Close)
	e.Chat.UseLinkPreviews(lp)
	_, url := e.serve(t, server.Config{})
	alice := apitest.SignUp(t, url, "lpw")
	bob := apitest.SignUp(t, url, "lpx")
	var c struct{ CreateDirectConversation struct{ ID string } }
	alice.Must(t, `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`, map[string]any{"u": bob.UserID}, &c)
	events := subscribe(t, bob)
	alice.Must(t, `mutation($c: ID!, $b: String!) { sendMessage(input: {conversationId: $c, clientMessageId: "lp-w", body: $b}) { id } }`,
		map[string]any{"c": c.CreateDirectConversation.ID, "b": site.URL + "/slow"}, nil)
	if ev := events.NextOfType(t, "MessageAdded"); ev.Message == nil || !strings.HasSuffix(ev.Message.Body, "/slow") {
		t.Fatalf("MessageAdded = %+v", ev)
	}
	select {
	case <-hung: // the fetch did start, in the background
	case <-time.After(30 * time.Second):
		t.Fatal("the page was never fetched")
	}
}
