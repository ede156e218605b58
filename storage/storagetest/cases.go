package storagetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"messenger/storage"
)

func seqsOf(msgs []storage.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

func testHistoryPaging(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a := mustUser(t, s)
	c := mustGroup(t, s, a.ID)
	for i := 0; i < 7; i++ {
		mustSend(t, s, c.ID, a.ID, "m")
	}
	cases := []struct {
		after, before int64
		limit         int
		newest        bool
		want          []int64
	}{
		{0, 0, 3, false, []int64{1, 2, 3}},
		{3, 0, 3, false, []int64{4, 5, 6}},
		{6, 0, 3, false, []int64{7}},
		{0, 0, 3, true, []int64{7, 6, 5}},
		{0, 5, 3, true, []int64{4, 3, 2}},
		{0, 2, 3, true, []int64{1}},
		{2, 6, 10, false, []int64{3, 4, 5}},
	}
	for _, tc := range cases {
		got, err := s.ListMessages(ctx, c.ID, a.ID, tc.after, tc.before, tc.limit, tc.newest)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(seqsOf(got), tc.want) {
			t.Errorf("ListMessages(after=%d, before=%d, limit=%d, newest=%v) = %v, want %v", tc.after, tc.before, tc.limit, tc.newest, seqsOf(got), tc.want)
		}
	}
	m, err := s.MessageByID(ctx, storage.MessageID(c.ID, 4))
	if err != nil || m.Seq != 4 || m.SenderID != a.ID {
		t.Fatalf("MessageByID = %+v, %v", m, err)
	}
	if _, err := s.MessageByID(ctx, storage.MessageID(c.ID, 99)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("MessageByID(unknown) err = %v", err)
	}
	got, err := s.Messages(ctx, c.ID, []int64{2, 99, 5})
	if err != nil || len(got) != 2 || got[2].Seq != 2 || got[5].Seq != 5 {
		t.Fatalf("Messages = %+v, %v", got, err)
	}
}

func testHiddenMessages(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := mustUser(t, s), mustUser(t, s)
	c := mustGroup(t, s, a.ID, b.ID)
	for i := 0; i < 6; i++ {
		mustSend(t, s, c.ID, a.ID, "m")
	}
	for _, seq := range []int64{2, 3, 5} {
		if err := s.HideMessage(ctx, b.ID, c.ID, seq); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.HideMessage(ctx, b.ID, c.ID, 3); err != nil {
		t.Fatalf("hiding twice: %v", err)
	}
	got, _ := s.ListMessages(ctx, c.ID, b.ID, 0, 0, 2, false)
	if !reflect.DeepEqual(seqsOf(got), []int64{1, 4}) {
		t.Fatalf("b's first page = %v, want [1 4] (full page despite hidden)", seqsOf(got))
	}
	got, _ = s.ListMessages(ctx, c.ID, a.ID, 0, 0, 10, true)
	if len(got) != 6 {
		t.Fatalf("hiding for b changed a's history: %v", seqsOf(got))
	}
	n, err := s.CountUnread(ctx, c.ID, b.ID, 0)
	if err != nil || n != 3 {
		t.Fatalf("b's unread = %d, %v; want 3", n, err)
	}
}

func testMembers(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b, c, d := mustUser(t, s), mustUser(t, s), mustUser(t, s), mustUser(t, s)
	conv := mustGroup(t, s, a.ID, b.ID)
	mustSend(t, s, conv.ID, a.ID, "before c joined")
	at := now().Add(time.Second)
	added, err := s.AddMembers(ctx, conv.ID, []storage.Member{{UserID: c.ID, Role: storage.RoleMember}, {UserID: b.ID, Role: storage.RoleMember}}, at)
	if err != nil || !reflect.DeepEqual(added, []string{c.ID}) {
		t.Fatalf("AddMembers = %v, %v; want only the new member", added, err)
	}
	mc, err := s.Member(ctx, conv.ID, c.ID)
	if err != nil || mc.JoinedSeq != 1 || mc.ReadSeq != 1 || mc.Role != storage.RoleMember {
		t.Fatalf("new member = %+v, %v; want JoinedSeq=ReadSeq=1", mc, err)
	}
	got, _ := s.Conversations(ctx, []string{conv.ID})
	if got[conv.ID].LastActivityAt.Before(at) {
		t.Fatalf("adding members did not move LastActivityAt")
	}
	all, err := s.Members(ctx, conv.ID, "", 0)
	if err != nil || len(all) != 3 {
		t.Fatalf("Members = %v, %v", all, err)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].UserID >= all[i].UserID {
			t.Fatalf("Members not ordered by user id")
		}
	}
	if ids, err := s.MemberIDs(ctx, conv.ID); err != nil || !reflect.DeepEqual(ids, []string{all[0].UserID, all[1].UserID, all[2].UserID}) {
		t.Fatalf("MemberIDs = %v, %v; want the user ids of Members", ids, err)
	}
	page, _ := s.Members(ctx, conv.ID, all[0].UserID, 1)
	if len(page) != 1 || page[0].UserID != all[1].UserID {
		t.Fatalf("Members after %s = %v", all[0].UserID, page)
	}
	if err := s.RemoveMember(ctx, conv.ID, b.ID, now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Member(ctx, conv.ID, b.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("removed member still found: %v", err)
	}
	if err := s.RemoveMember(ctx, conv.ID, d.ID, now()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("removing a non-member: %v, want ErrNotFound", err)
	}
	if ids, err := s.MemberIDs(ctx, conv.ID); err != nil || len(ids) != 2 || slices.Contains(ids, b.ID) {
		t.Fatalf("MemberIDs after removing %s = %v, %v", b.ID, ids, err)
	}
	if ids, err := s.MemberIDs(ctx, "no-such-conversation"); err != nil || len(ids) != 0 {
		t.Fatalf("MemberIDs of an unknown conversation = %v, %v; want none", ids, err)
	}
	ids, _ := s.UserConversationIDs(ctx, b.ID)
	if len(ids) != 0 {
		t.Fatalf("removed member still lists the conversation: %v", ids)
	}
	ids, _ = s.UserConversationIDs(ctx, c.ID)
	if len(ids) != 1 {
		t.Fatalf("added member does not list the conversation: %v", ids)
	}
}

func testCursorsForward(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := mustUser(t, s), mustUser(t, s)
	c := mustGroup(t, s, a.ID, b.ID)
	for i := 0; i < 5; i++ {
		mustSend(t, s, c.ID, a.ID, "m")
	}
	moved, err := s.AdvanceCursor(ctx, c.ID, b.ID, storage.Read, 3, now())
	if err != nil || !moved {
		t.Fatalf("advance to 3: %v %v", moved, err)
	}
	moved, err = s.AdvanceCursor(ctx, c.ID, b.ID, storage.Read, 2, now())
	if err != nil || moved {
		t.Fatalf("moving back must be a no-op: moved=%v err=%v", moved, err)
	}
	moved, _ = s.AdvanceCursor(ctx, c.ID, b.ID, storage.Read, 3, now())
	if moved {
		t.Fatalf("moving to the same seq reported a move")
	}
	m, _ := s.Member(ctx, c.ID, b.ID)
	if m.ReadSeq != 3 || m.DeliveredSeq != 0 {
		t.Fatalf("member = %+v; want ReadSeq 3, DeliveredSeq untouched", m)
	}
	if _, err := s.AdvanceCursor(ctx, c.ID, id(), storage.Read, 1, now()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("non-member cursor: %v, want ErrNotFound", err)
	}
}

func testReceipts(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b, c := mustUser(t, s), mustUser(t, s), mustUser(t, s)
	conv := mustGroup(t, s, a.ID, b.ID, c.ID)
	for i := 0; i < 4; i++ {
		mustSend(t, s, conv.ID, a.ID, "m")
	}
	t1 := now().Add(time.Second)
	t2 := t1.Add(time.Second)
	s.AdvanceCursor(ctx, conv.ID, b.ID, storage.Read, 2, t1)
	s.AdvanceCursor(ctx, conv.ID, b.ID, storage.Read, 4, t2)
	s.AdvanceCursor(ctx, conv.ID, c.ID, storage.Delivered, 4, t1)
	s.AdvanceCursor(ctx, conv.ID, a.ID, storage.Read, 4, t1) // the sender's own cursor never counts

	for _, tc := range []struct {
		seq  int64
		want time.Time
	}{{1, t1}, {2, t1}, {3, t2}, {4, t2}} {
		at, ok, err := s.ReceiptTime(ctx, conv.ID, b.ID, storage.Read, tc.seq)
		if err != nil || !ok || !at.Equal(tc.want) {
			t.Errorf("b read %d at %v ok=%v err=%v; want %v", tc.seq, at, ok, err, tc.want)
		}
	}
	if _, ok, _ := s.ReceiptTime(ctx, conv.ID, c.ID, storage.Read, 1); ok {
		t.Errorf("c never read, but ReceiptTime says it did")
	}
	counts, err := s.ReceiptCounts(ctx, conv.ID, []int64{2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]storage.MessageCounts{2: {Read: 1, Delivered: 1}, 3: {Read: 1, Delivered: 1}, 4: {Read: 1, Delivered: 1}}
	if !reflect.DeepEqual(counts, want) {
		t.Fatalf("ReceiptCounts = %+v, want %+v", counts, want)
	}
	rs, err := s.Receipts(ctx, conv.ID, 3, storage.Read, "", 10)
	if err != nil || len(rs) != 1 || rs[0].UserID != b.ID || !rs[0].At.Equal(t2) {
		t.Fatalf("Receipts(read, 3) = %+v, %v", rs, err)
	}
	rs, _ = s.Receipts(ctx, conv.ID, 1, storage.Delivered, "", 10)
	if len(rs) != 1 || rs[0].UserID != c.ID {
		t.Fatalf("Receipts(delivered, 1) = %+v", rs)
	}
}

func testUnread(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := mustUser(t, s), mustUser(t, s)
	c := mustGroup(t, s, a.ID, b.ID)
	mustSend(t, s, c.ID, a.ID, "1")
	mustSend(t, s, c.ID, b.ID, "2 (b's own)")
	m3 := mustSend(t, s, c.ID, a.ID, "3")
	mustSend(t, s, c.ID, a.ID, "4")
	check := func(after int64, want int) {
		t.Helper()
		n, err := s.CountUnread(ctx, c.ID, b.ID, after)
		if err != nil || n != want {
			t.Fatalf("CountUnread(after %d) = %d, %v; want %d", after, n, err, want)
		}
	}
	check(0, 3)
	check(2, 2)
	del := now()
	m3.Body, m3.DeletedAt = "", &del
	if err := s.UpdateMessage(ctx, m3); err != nil {
		t.Fatal(err)
	}
	check(0, 2)
	check(4, 0)
}
