package storagetest

import (
	"context"
	"slices"
	"testing"

	"messenger/storage"
)

func sendRefs(t *testing.T, s storage.Store, conv, sender string, refs storage.MessageRefs) storage.Message {
	t.Helper()
	m, created, err := s.AppendMessage(context.Background(), storage.Message{
		ConversationID: conv, SenderID: sender, ClientMessageID: id(), Body: "b", SentAt: now(), MessageRefs: refs,
	})
	if err != nil || !created {
		t.Fatalf("AppendMessage: created=%v err=%v", created, err)
	}
	return m
}

func testRefsAreStoredWithTheMessage(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := mustUser(t, s), mustUser(t, s)
	conv := mustGroup(t, s, a.ID, b.ID)
	root := mustSend(t, s, conv.ID, a.ID, "root")
	refs := storage.MessageRefs{ReplyToSeq: root.Seq, ThreadRootSeq: root.Seq, Mentions: []string{b.ID}, MentionAll: true}
	m := sendRefs(t, s, conv.ID, b.ID, refs)
	got, err := s.MessageByID(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ReplyToSeq != root.Seq || got.ThreadRootSeq != root.Seq || !slices.Equal(got.Mentions, []string{b.ID}) || !got.MentionAll {
		t.Fatalf("refs read back as %+v; want %+v", got.MessageRefs, refs)
	}
	page, err := s.ListMessages(ctx, conv.ID, a.ID, 0, 0, 10, false)
	if err != nil || len(page) != 2 || page[1].ThreadRootSeq != root.Seq {
		t.Fatalf("ListMessages = %+v, %v", page, err)
	}
	// An edit keeps the refs.
	edited := now()
	got.Body, got.EditedAt = "edited", &edited
	if err := s.UpdateMessage(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, _ := s.MessageByID(ctx, m.ID)
	if again.ThreadRootSeq != root.Seq || !again.MentionAll {
		t.Fatalf("an edit lost the refs: %+v", again.MessageRefs)
	}
}

func testThreadSummaryCountsReplies(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b, c := mustUser(t, s), mustUser(t, s), mustUser(t, s)
	conv := mustGroup(t, s, a.ID, b.ID, c.ID)
	root := mustSend(t, s, conv.ID, a.ID, "root")
	other := mustSend(t, s, conv.ID, a.ID, "no replies")
	var replies []storage.Message
	for i, u := range []string{b.ID, c.ID, b.ID, a.ID} {
		replies = append(replies, sendRefs(t, s, conv.ID, u, storage.MessageRefs{ThreadRootSeq: root.Seq}))
		if i == 1 {
			mustSend(t, s, conv.ID, c.ID, "main timeline")
		}
	}
	// A retry of a reply is no second reply.
	dup := replies[0]
	if _, created, err := s.AppendMessage(ctx, storage.Message{ConversationID: conv.ID, SenderID: dup.SenderID,
		ClientMessageID: dup.ClientMessageID, Body: "b", SentAt: now(), MessageRefs: dup.MessageRefs}); err != nil || created {
		t.Fatalf("retry: created=%v err=%v", created, err)
	}
	sums, err := s.ThreadSummaries(ctx, conv.ID, []int64{root.Seq, other.Seq}, a.ID, replies[1].Seq)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sums[other.Seq]; ok {
		t.Fatalf("a message without replies has a summary: %+v", sums[other.Seq])
	}
	sum := sums[root.Seq]
	last := replies[len(replies)-1]
	if sum.ReplyCount != 4 || sum.LastReplySeq != last.Seq || !sum.LastReplyAt.Equal(last.SentAt) {
		t.Fatalf("summary = %+v; want 4 replies, last %d at %v", sum, last.Seq, last.SentAt)
	}
	// After a's read position (replies[1]): replies[2] by b counts, replies[3] is a's own.
	if sum.Unread != 1 {
		t.Fatalf("unread = %d; want 1", sum.Unread)
	}
	want := []string{a.ID, b.ID, c.ID}
	slices.Sort(want)
	if !slices.Equal(sum.Participants, want) {
		t.Fatalf("participants = %v; want %v", sum.Participants, want)
	}
	seqs, err := s.ThreadReplies(ctx, conv.ID, root.Seq, 0, 0, 3, false)
	if err != nil || !slices.Equal(seqs, []int64{replies[0].Seq, replies[1].Seq, replies[2].Seq}) {
		t.Fatalf("ThreadReplies first page = %v, %v", seqs, err)
	}
	seqs, _ = s.ThreadReplies(ctx, conv.ID, root.Seq, replies[2].Seq, 0, 3, false)
	if !slices.Equal(seqs, []int64{last.Seq}) {
		t.Fatalf("ThreadReplies after = %v", seqs)
	}
	seqs, _ = s.ThreadReplies(ctx, conv.ID, root.Seq, 0, last.Seq, 2, true)
	if !slices.Equal(seqs, []int64{replies[2].Seq, replies[1].Seq}) {
		t.Fatalf("ThreadReplies newest first before last = %v", seqs)
	}
}

func testMentionsCountUntilRead(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b, c := mustUser(t, s), mustUser(t, s), mustUser(t, s)
	conv := mustGroup(t, s, a.ID, b.ID, c.ID)
	quiet := mustGroup(t, s, a.ID, b.ID)
	m1 := sendRefs(t, s, conv.ID, a.ID, storage.MessageRefs{Mentions: []string{b.ID, c.ID}})
	mustSend(t, s, conv.ID, a.ID, "no mention")
	m3 := sendRefs(t, s, conv.ID, c.ID, storage.MessageRefs{Mentions: []string{b.ID}, MentionAll: true})
	m4 := sendRefs(t, s, conv.ID, b.ID, storage.MessageRefs{MentionAll: true}) // b's own @all
	ranges := func(after int64) []storage.MentionRange {
		return []storage.MentionRange{{ConversationID: conv.ID, AfterSeq: after, LastSeq: m4.Seq}, {ConversationID: quiet.ID, AfterSeq: 0, LastSeq: 0}}
	}
	counts, err := s.CountUnreadMentions(ctx, b.ID, ranges(0))
	if err != nil {
		t.Fatal(err)
	}
	// m1 (named) and m3 (named and @all: once); not m4, b's own.
	if counts[conv.ID] != 2 || counts[quiet.ID] != 0 {
		t.Fatalf("b's counts = %v; want 2 in conv", counts)
	}
	seqs, err := s.UnreadMentions(ctx, b.ID, conv.ID, 0, 10)
	if err != nil || !slices.Equal(seqs, []int64{m1.Seq, m3.Seq}) {
		t.Fatalf("UnreadMentions(b) = %v, %v", seqs, err)
	}
	aSeqs, _ := s.UnreadMentions(ctx, a.ID, conv.ID, 0, 10)
	if !slices.Equal(aSeqs, []int64{m3.Seq, m4.Seq}) {
		t.Fatalf("UnreadMentions(a) = %v; want the two @all", aSeqs)
	}
	// Reading past m1: the count follows the range, and clearing only tidies.
	counts, _ = s.CountUnreadMentions(ctx, b.ID, ranges(m1.Seq))
	if counts[conv.ID] != 1 {
		t.Fatalf("after reading m1: %v", counts)
	}
	if err := s.ClearMentions(ctx, b.ID, conv.ID, m1.Seq); err != nil {
		t.Fatal(err)
	}
	counts, _ = s.CountUnreadMentions(ctx, b.ID, ranges(m1.Seq))
	if counts[conv.ID] != 1 {
		t.Fatalf("after clearing m1: %v", counts)
	}
	// A recall drops the mention; an edit may add one.
	t0 := now()
	recalled := m3
	recalled.Mentions, recalled.MentionAll, recalled.DeletedAt = nil, false, &t0
	if err := s.SetMentions(ctx, recalled, ""); err != nil {
		t.Fatal(err)
	}
	counts, _ = s.CountUnreadMentions(ctx, b.ID, ranges(m1.Seq))
	if counts[conv.ID] != 0 {
		t.Fatalf("after recalling m3: %v", counts)
	}
	edited := m4
	edited.Mentions, edited.MentionAll = []string{c.ID}, false
	if err := s.SetMentions(ctx, edited, ""); err != nil {
		t.Fatal(err)
	}
	got, _ := s.MessageByID(ctx, m4.ID)
	if !slices.Equal(got.Mentions, []string{c.ID}) || got.MentionAll {
		t.Fatalf("edited refs = %+v", got.MessageRefs)
	}
	cSeqs, _ := s.UnreadMentions(ctx, c.ID, conv.ID, 0, 10)
	if !slices.Equal(cSeqs, []int64{m1.Seq, m4.Seq}) {
		t.Fatalf("UnreadMentions(c) after edit = %v", cSeqs)
	}
	// Hiding drops the hider's mention only.
	if err := s.SetMentions(ctx, m1, c.ID); err != nil {
		t.Fatal(err)
	}
	cSeqs, _ = s.UnreadMentions(ctx, c.ID, conv.ID, 0, 10)
	if !slices.Equal(cSeqs, []int64{m4.Seq}) {
		t.Fatalf("UnreadMentions(c) after hiding m1 = %v", cSeqs)
	}
	if _, err := s.MessageByID(ctx, m1.ID); err != nil {
		t.Fatal(err)
	}
	// Hiding an @all drops it for the hider only.
	m6 := sendRefs(t, s, conv.ID, a.ID, storage.MessageRefs{MentionAll: true})
	if err := s.SetMentions(ctx, m6, c.ID); err != nil {
		t.Fatal(err)
	}
	cSeqs, _ = s.UnreadMentions(ctx, c.ID, conv.ID, 0, 10)
	bSeqs, _ := s.UnreadMentions(ctx, b.ID, conv.ID, m1.Seq, 10)
	if !slices.Equal(cSeqs, []int64{m4.Seq}) || !slices.Equal(bSeqs, []int64{m6.Seq}) {
		t.Fatalf("after c hid an @all: c %v, b %v", cSeqs, bSeqs)
	}
	all := []storage.MentionRange{{ConversationID: conv.ID, AfterSeq: 0, LastSeq: m6.Seq}}
	cc, _ := s.CountUnreadMentions(ctx, c.ID, all)
	if cc[conv.ID] != 1 {
		t.Fatalf("c's count after hiding the @all = %v; want 1 (m4)", cc)
	}
}
