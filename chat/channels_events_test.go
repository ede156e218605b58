package chat_test

import (
	"context"
	"testing"

	"messenger/chat"
	"messenger/storage"
)

// TestChannelReadsAreNotBroadcast checks a member's read in a channel
// reaches only the reader's own sessions (the owner who posted hears
// nothing) and counts in the message's views.
func TestChannelReadsAreNotBroadcast(t *testing.T) {
	ctx := context.Background()
	d := newDomain(t, nil)
	us := d.users(t, 3)
	owner, readers := us[0], us[1:]
	c, err := d.svc.CreateChannel(ctx, owner, "news", "")
	if err != nil {
		t.Fatal(err)
	}
	l, err := d.svc.CreateInviteLink(ctx, owner, c.ID, chat.InviteLinkInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range readers {
		if _, err := d.svc.JoinByInvite(ctx, u, l.Code); err != nil {
			t.Fatal(err)
		}
	}
	m, err := d.svc.Send(ctx, owner, c.ID, "k1", "post")
	if err != nil {
		t.Fatal(err)
	}
	ownerStream, readerStream := open(t, d.log, owner), open(t, d.log, readers[0])
	for _, u := range readers {
		if _, err := d.svc.MarkRead(ctx, u, c.ID, m.Seq); err != nil {
			t.Fatal(err)
		}
	}
	for _, typ := range drain(t, ownerStream, d.svc) {
		if typ == "ReadCursorMoved" || typ == "DeliveryCursorMoved" {
			t.Fatalf("the owner heard a reader's %s", typ)
		}
	}
	var own int
	for _, typ := range drain(t, readerStream, d.svc) {
		if typ == "ReadCursorMoved" {
			own++
		}
	}
	if own != 1 {
		t.Fatalf("the reader heard %d of their own ReadCursorMoved, want 1", own)
	}
	counts, err := d.store.ReceiptCounts(ctx, c.ID, []int64{m.Seq})
	if err != nil || counts[m.Seq].Read != 2 {
		t.Fatalf("views %+v, %v; want 2", counts[m.Seq], err)
	}
	if views, err := d.svc.ShowsViews(ctx, c.ID); err != nil || !views {
		t.Fatalf("a channel shows views: %v, %v", views, err)
	}
	g := d.group(t, owner, readers...)
	if views, err := d.svc.ShowsViews(ctx, g); err != nil || views {
		t.Fatalf("a small group shows no views: %v, %v", views, err)
	}
}

// TestIsLarge pins the threshold predicate: strictly above
// Config.LargeGroupThreshold.
func TestIsLarge(t *testing.T) {
	d := newDomain(t, func(c *chat.Config) { c.LargeGroupThreshold = 5 })
	for n, want := range map[int]bool{0: false, 5: false, 6: true, 200000: true} {
		if got := d.svc.IsLarge(n); got != want {
			t.Errorf("IsLarge(%d) = %v, want %v", n, got, want)
		}
	}
	if !newDomain(t, nil).svc.IsLarge(1001) || newDomain(t, nil).svc.IsLarge(1000) {
		t.Error("the default threshold is 1,000")
	}
}

// TestFanOutPastOneMemberPage checks a group larger than one page of
// members (storage.MemberPage) reaches every member, the last by id too,
// fanned out on write (the large-group threshold above it: streamed
// groups are large_route_test.go's).
func TestFanOutPastOneMemberPage(t *testing.T) {
	ctx := context.Background()
	d := newDomain(t, func(c *chat.Config) { c.LargeGroupThreshold = 4 * storage.MemberPage })
	us := d.users(t, storage.MemberPage+2)
	g := d.group(t, us[0], us[1:]...)
	last := us[0]
	for _, u := range us {
		last = max(last, u)
	}
	st := open(t, d.log, last)
	if _, err := d.svc.Send(ctx, us[0], g, "k1", "to all"); err != nil {
		t.Fatal(err)
	}
	if ms := st.messages(t, d.svc); len(ms) != 1 || ms[0].Body != "to all" {
		t.Fatalf("the last member got %d messages", len(ms))
	}
	if n, err := d.svc.MemberCount(ctx, g); err != nil || n != storage.MemberPage+2 {
		t.Fatalf("member count %d, %v", n, err)
	}
}
