package chat_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"messenger/chat"
	"messenger/storage"
)

// recordingPreviewer records the messages handed to it.
type recordingPreviewer struct {
	mu      sync.Mutex
	written []storage.Message
}

func (p *recordingPreviewer) MessageWritten(m storage.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.written = append(p.written, m)
}

func (p *recordingPreviewer) ImageURL(_ context.Context, key string) (string, error) {
	return "https://files.test/" + key, nil
}

func (p *recordingPreviewer) bodies() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.written {
		out = append(out, m.Body)
	}
	return out
}

func TestOnlyMessagesWithALinkGoToThePreviewer(t *testing.T) {
	d := newDomain(t, nil)
	ctx := context.Background()
	u := d.users(t, 2)
	g := d.group(t, u[0], u[1])
	p := &recordingPreviewer{}
	d.svc.UseLinkPreviews(p)
	if _, err := d.svc.Send(ctx, u[0], g, "c1", "no link"); err != nil {
		t.Fatal(err)
	}
	m, err := d.svc.Send(ctx, u[0], g, "c2", "see https://example.com/a")
	if err != nil {
		t.Fatal(err)
	}
	// A retry is the same message: not handed over twice.
	if _, err := d.svc.Send(ctx, u[0], g, "c2", "see https://example.com/a"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.Edit(ctx, u[0], m.ID, "now https://example.org/b"); err != nil {
		t.Fatal(err)
	}
	// An edit that keeps the first link keeps its preview: nothing to fetch.
	if _, err := d.svc.Edit(ctx, u[0], m.ID, "still https://example.org/b, reworded"); err != nil {
		t.Fatal(err)
	}
	got := p.bodies()
	if len(got) != 2 || got[0] != "see https://example.com/a" || got[1] != "now https://example.org/b" {
		t.Fatalf("previewer got %q", got)
	}
}

func TestThePreviewShownIsOfTheCurrentFirstLinkOfAVisibleMessage(t *testing.T) {
	d := newDomain(t, nil)
	ctx := context.Background()
	u := d.users(t, 2)
	g := d.group(t, u[0], u[1])
	m, err := d.svc.Send(ctx, u[0], g, "c1", "see https://example.com/a.")
	if err != nil {
		t.Fatal(err)
	}
	preview := storage.LinkPreview{URL: "https://example.com/a", Title: "A", Image: &storage.LinkPreviewImage{Key: "linkpreviews/a.jpg", Width: 1, Height: 1}}
	if err := d.store.SetMessageLinkPreview(ctx, g, m.Seq, preview); err != nil {
		t.Fatal(err)
	}
	// Previews off: nothing shows, whatever is stored.
	if p, err := d.svc.LinkPreview(ctx, m); p != nil || err != nil {
		t.Fatalf("previews off: %+v, %v", p, err)
	}
	d.svc.UseLinkPreviews(&recordingPreviewer{})
	if p, err := d.svc.LinkPreview(ctx, m); err != nil || p == nil || p.Title != "A" {
		t.Fatalf("LinkPreview = %+v, %v", p, err)
	}
	if u, err := d.svc.LinkPreviewImageURL(ctx, *preview.Image); err != nil || u != "https://files.test/linkpreviews/a.jpg" {
		t.Fatalf("image url = %q, %v", u, err)
	}
	edited := m
	edited.Body = "see https://example.com/other"
	if p, _ := d.svc.LinkPreview(ctx, edited); p != nil {
		t.Fatalf("a changed link shows the old preview: %+v", p)
	}
	deleted := m
	now := time.Now()
	deleted.DeletedAt = &now
	if p, _ := d.svc.LinkPreview(ctx, deleted); p != nil {
		t.Fatalf("a deleted message shows a preview: %+v", p)
	}
}

func TestAnAttachedPreviewReachesEveryMemberAsMessageUpdated(t *testing.T) {
	d := newDomain(t, nil)
	ctx := context.Background()
	u := d.users(t, 3)
	g := d.group(t, u[0], u[1], u[2])
	m, err := d.svc.Send(ctx, u[0], g, "c1", "https://example.com/")
	if err != nil {
		t.Fatal(err)
	}
	streams := []*stream{open(t, d.log, u[1]), open(t, d.log, u[2])}
	if err := d.svc.LinkPreviewAttached(ctx, g, m.Seq); err != nil {
		t.Fatal(err)
	}
	for _, st := range streams {
		select {
		case ev := <-st.events:
			var e chat.MessageUpdated
			if ev.Type != "MessageUpdated" || json.Unmarshal(ev.Data, &e) != nil || e.Message == nil || e.Message.ID != m.ID {
				t.Fatalf("%s got %s %s", st.user, ev.Type, ev.Data)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s heard nothing", st.user)
		}
	}
	// A message recalled before its preview arrived tells nobody.
	if _, err := d.svc.Delete(ctx, u[0], m.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := d.svc.LinkPreviewAttached(ctx, g, m.Seq); err != nil {
		t.Fatal(err)
	}
	for _, st := range streams {
		for _, ev := range drain(t, st, d.svc) {
			if ev == "MessageUpdated" {
				t.Fatalf("%s heard of a preview of a recalled message", st.user)
			}
		}
	}
}

// drain returns the types of the events a stream received up to now: it
// appends a marker through svc and reads until it (see stream.messages).
func drain(t *testing.T, st *stream, svc *chat.Service) []string {
	t.Helper()
	svc.Publish(context.Background(), []string{st.user}, &chat.MemberLeft{UserID: markerUser})
	var out []string
	for {
		select {
		case ev, ok := <-st.events:
			if !ok {
				t.Fatalf("%s's subscription ended", st.user)
			}
			var e chat.MemberLeft
			if ev.Type == "MemberLeft" && json.Unmarshal(ev.Data, &e) == nil && e.UserID == markerUser {
				return out
			}
			out = append(out, ev.Type)
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: the marker did not arrive", st.user)
		}
	}
}
