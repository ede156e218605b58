package chat_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"messenger/chat"
	"messenger/realtime/memlog"
	"messenger/storage"
	"messenger/storage/pebble"
)

// listCounter counts the reads of a whole member list (MemberIDs, and
// Members from the first member on).
type listCounter struct {
	storage.Store
	lists atomic.Int64
	marks atomic.Int64 // reads of the streamed marks
}

func (c *listCounter) Streamed(ctx context.Context, ids []string) (map[string]bool, error) {
	c.marks.Add(1)
	return c.Store.Streamed(ctx, ids)
}

func (c *listCounter) MemberIDs(ctx context.Context, conversationID string) ([]string, error) {
	c.lists.Add(1)
	return c.Store.MemberIDs(ctx, conversationID)
}

func (c *listCounter) Members(ctx context.Context, conversationID, afterUserID string, limit int) ([]storage.Member, error) {
	if afterUserID == "" {
		c.lists.Add(1)
	}
	return c.Store.Members(ctx, conversationID, afterUserID, limit)
}

// countedDomain is a service on an embedded store that counts its reads.
func countedDomain(t *testing.T, adjust func(*chat.Config)) (*domain, *listCounter, *memlog.Log) {
	inner, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inner.Close() })
	store := &listCounter{Store: inner}
	log := memlog.New(memlog.Config{})
	t.Cleanup(func() { log.Close() })
	return newDomainOn(t, store, log, adjust), store, log
}

// TestJoinsAndLeavesOfAStreamedGroupReadNoMemberList: once a group's
// stream is started, adding a member, joining by link, leaving and being
// removed count members with the O(1) count and send their events to the
// stream, so none of them reads the member list (200,000 rows in the
// largest group). Below the threshold the events still reach every member.
func TestJoinsAndLeavesOfAStreamedGroupReadNoMemberList(t *testing.T) {
	ctx := context.Background()
	d, store, _ := countedDomain(t, func(c *chat.Config) { c.LargeGroupThreshold = 3; c.MaxGroupMembers = 7 })
	u := d.users(t, 9)
	g := d.group(t, u[0], u[1], u[2], u[3]) // 4 members: marked
	if _, err := d.svc.Send(ctx, u[0], g, "start", "starts the stream"); err != nil {
		t.Fatal(err)
	}
	link, err := d.svc.CreateInviteLink(ctx, u[0], g, chat.InviteLinkInput{})
	if err != nil {
		t.Fatal(err)
	}
	before := store.lists.Load()
	steps := []struct {
		name string
		run  func() error
	}{
		{"add", func() error { _, err := d.svc.AddMembers(ctx, u[0], g, []string{u[4]}); return err }},
		{"join by link", func() error { _, err := d.svc.JoinByInvite(ctx, u[5], link.Code); return err }},
		{"leave", func() error { return d.svc.Leave(ctx, u[5], g) }},
		{"remove", func() error { _, err := d.svc.RemoveMember(ctx, u[0], g, u[4]); return err }},
	}
	for _, st := range steps {
		if err := st.run(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if n := store.lists.Load() - before; n != 0 {
			t.Fatalf("%s read the member list %d times", st.name, n)
		}
	}
	// The limit is still the O(1) count's: 4 members + 4 is over 7.
	if _, err := d.svc.AddMembers(ctx, u[0], g, u[5:9]); err == nil {
		t.Fatal("added past MaxGroupMembers")
	}
	if n, err := d.svc.MemberCount(ctx, g); err != nil || n != 4 {
		t.Fatalf("member count %d, %v; want 4", n, err)
	}
}

// TestDirectMessagesReadNoStreamMark: a direct conversation is never
// streamed, so its messages' fan-out does not read the mark (one store
// read per message saved on the hottest path).
func TestDirectMessagesReadNoStreamMark(t *testing.T) {
	ctx := context.Background()
	d, store, log := countedDomain(t, func(c *chat.Config) { c.LargeGroupThreshold = 3 })
	u := d.users(t, 2)
	dm, err := d.svc.CreateDirect(ctx, u[0], u[1])
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, log, u[1])
	before := store.marks.Load()
	for i := range 5 {
		if _, err := d.svc.Send(ctx, u[0], dm.ID, fmt.Sprintf("m%d", i), "hi"); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.messages(t, d.svc); len(got) != 5 {
		t.Fatalf("u1 got %d messages, want 5", len(got))
	}
	if n := store.marks.Load() - before; n != 0 {
		t.Fatalf("5 direct messages read the streamed mark %d times", n)
	}
}
