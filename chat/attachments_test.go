package chat_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"messenger/chat"
	"messenger/fault"
	"messenger/storage"
)

// files is an Attachments port in memory. What it binds is what a member
// would see as a message's files; bindFails makes binding fail (a media
// store that cannot be reached), which is the edge case no real store
// shows on demand.
type files struct {
	mu        sync.Mutex
	claimed   map[string][]string // by draft key
	bound     map[string][]string // by message id
	bindFails bool
	refuse    error
}

func newFiles() *files {
	return &files{claimed: map[string][]string{}, bound: map[string][]string{}}
}

func draftKey(conv, sender, client string) string { return conv + "|" + sender + "|" + client }

func (f *files) ClaimAttachments(_ context.Context, d chat.Draft) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != nil {
		return f.refuse
	}
	k := draftKey(d.ConversationID, d.SenderID, d.ClientMessageID)
	if _, ok := f.claimed[k]; !ok {
		f.claimed[k] = slices.Clone(d.Attachments)
	}
	return nil
}

func (f *files) BindAttachments(_ context.Context, m storage.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bindFails {
		return errors.New("media store unreachable")
	}
	if ids, ok := f.claimed[draftKey(m.ConversationID, m.SenderID, m.ClientMessageID)]; ok {
		f.bound[m.ID] = ids
	}
	return nil
}

func (f *files) DropAttachments(_ context.Context, m storage.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.bound, m.ID)
	return nil
}

func (f *files) of(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bound[id]
}

func (f *files) setBindFails(v bool) {
	f.mu.Lock()
	f.bindFails = v
	f.mu.Unlock()
}

// A message whose files cannot be bound is not delivered; it stays in the
// outbox, and the sweeper binds its files before it delivers it: whole,
// or not at all. The client's retry returns it whole too.
func TestAMessageIsDeliveredOnlyWithItsAttachmentsBound(t *testing.T) {
	// Every message is old enough for the sweeper at once.
	d := newDomain(t, func(c *chat.Config) {
		c.FanOutGrace, c.Now = time.Nanosecond, func() time.Time { return time.Now().Add(-time.Second) }
	})
	f := newFiles()
	d.svc.UseAttachments(f)
	u := d.users(t, 2)
	conv := d.group(t, u[0], u[1])
	bob := open(t, d.log, u[1])
	ctx := context.Background()

	f.setBindFails(true)
	if _, err := d.svc.Send(ctx, u[0], conv, "k1", "two files", "up-1", "up-2"); err == nil {
		t.Fatal("Send reported success although the files could not be attached")
	}
	if got := bob.messages(t, d.svc); len(got) != 0 {
		t.Fatalf("a message without its files was delivered: %+v", got)
	}
	if _, err := d.svc.SweepFanOuts(ctx); err == nil {
		t.Fatal("the sweeper replayed a message whose files could not be attached")
	}
	if got := bob.messages(t, d.svc); len(got) != 0 {
		t.Fatalf("the sweeper delivered a message without its files: %+v", got)
	}

	f.setBindFails(false)
	m, err := d.svc.Send(ctx, u[0], conv, "k1", "two files", "up-1", "up-2")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.of(m.ID); !slices.Equal(got, []string{"up-1", "up-2"}) {
		t.Fatalf("the retry returned message %s with files %v", m.ID, got)
	}
	if _, err := d.svc.SweepFanOuts(ctx); err != nil {
		t.Fatal(err)
	}
	got := bob.messages(t, d.svc)
	if len(got) != 1 || got[0].ID != m.ID || len(f.of(got[0].ID)) != 2 {
		t.Fatalf("after the sweep bob has %+v, want %s once with its 2 files", got, m.ID)
	}
}

// A refused claim (a file that is not the sender's, say) refuses the send
// and writes nothing; without an Attachments port a send with files is
// UNAVAILABLE.
func TestARefusedAttachmentSendsNothing(t *testing.T) {
	d := newDomain(t, nil)
	u := d.users(t, 2)
	conv := d.group(t, u[0], u[1])
	ctx := context.Background()
	if _, err := d.svc.Send(ctx, u[0], conv, "k1", "files", "up-1"); !errors.Is(err, &fault.Error{Code: fault.Unavailable}) {
		t.Fatalf("send with files and no port: %v, want UNAVAILABLE", err)
	}
	f := newFiles()
	f.refuse = &fault.Error{Code: fault.Forbidden, Message: "only the uploader may attach an upload", Field: "attachmentIds"}
	d.svc.UseAttachments(f)
	if _, err := d.svc.Send(ctx, u[0], conv, "k2", "files", "up-1"); !errors.Is(err, fault.ErrForbidden) {
		t.Fatalf("send with a refused file: %v, want FORBIDDEN", err)
	}
	page, err := d.svc.History(ctx, u[1], conv, chat.HistoryArgs{})
	if err != nil || len(page.Messages) != 0 {
		t.Fatalf("history after refused sends: %+v, %v; want nothing", page.Messages, err)
	}
}
