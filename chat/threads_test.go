package chat_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"messenger/chat"
	"messenger/fault"
	"messenger/storage"
)

func seqsOf(ms []storage.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

func mustSendWith(t *testing.T, d *domain, me, conv string, refs chat.SendRefs) storage.Message {
	t.Helper()
	m, err := d.svc.SendWith(context.Background(), me, conv, newClientID(), "hello", refs)
	if err != nil {
		t.Fatalf("SendWith(%+v): %v", refs, err)
	}
	return m
}

var clientIDs atomic.Int64

func newClientID() string { return fmt.Sprintf("client-%d", clientIDs.Add(1)) }

func TestThreadRepliesStayOutOfTheMainTimelineUnlessAsked(t *testing.T) {
	ctx := context.Background()
	d := newDomain(t, nil)
	u := d.users(t, 3)
	alice, bob, carol := u[0], u[1], u[2]
	conv := d.group(t, alice, bob, carol)
	root := mustSendWith(t, d, alice, conv, chat.SendRefs{})
	r1 := mustSendWith(t, d, bob, conv, chat.SendRefs{ThreadRootID: root.ID})
	main := mustSendWith(t, d, carol, conv, chat.SendRefs{})
	r2 := mustSendWith(t, d, carol, conv, chat.SendRefs{ThreadRootID: root.ID})
	r3 := mustSendWith(t, d, alice, conv, chat.SendRefs{ThreadRootID: root.ID})

	page, err := d.svc.History(ctx, bob, conv, chat.HistoryArgs{})
	if err != nil {
		t.Fatal(err)
	}
	if got := seqsOf(page.Messages); !slices.Equal(got, []int64{root.Seq, main.Seq}) {
		t.Fatalf("main timeline = %v; want root and main only", got)
	}
	page, _ = d.svc.History(ctx, bob, conv, chat.HistoryArgs{IncludeThreadReplies: true})
	if got := seqsOf(page.Messages); !slices.Equal(got, []int64{root.Seq, r1.Seq, main.Seq, r2.Seq, r3.Seq}) {
		t.Fatalf("with thread replies = %v", got)
	}
	// A short page without replies still fills up from further back.
	one := 1
	page, _ = d.svc.History(ctx, bob, conv, chat.HistoryArgs{Last: &one})
	if got := seqsOf(page.Messages); !slices.Equal(got, []int64{main.Seq}) || !page.HasPrevious {
		t.Fatalf("last 1 = %v (hasPrevious %v); want main", got, page.HasPrevious)
	}

	two := 2
	tp, err := d.svc.ThreadHistory(ctx, bob, root.ID, chat.HistoryArgs{First: &two})
	if err != nil {
		t.Fatal(err)
	}
	if got := seqsOf(tp.Messages); !slices.Equal(got, []int64{r1.Seq, r2.Seq}) || !tp.HasNext {
		t.Fatalf("thread first 2 = %v (hasNext %v)", got, tp.HasNext)
	}
	after := chat.MessageCursor(r2.Seq)
	tp, _ = d.svc.ThreadHistory(ctx, bob, root.ID, chat.HistoryArgs{First: &two, After: &after})
	if got := seqsOf(tp.Messages); !slices.Equal(got, []int64{r3.Seq}) || tp.HasNext || !tp.HasPrevious {
		t.Fatalf("thread after r2 = %v (%+v)", got, tp)
	}

	// Bob's view: three replies, the two not his are unread; reading up
	// to r2 (the one cursor) leaves r3.
	sums, err := d.svc.ThreadSummaries(ctx, bob, conv, []int64{root.Seq, main.Seq})
	if err != nil {
		t.Fatal(err)
	}
	sum := sums[root.Seq]
	if sum.ReplyCount != 3 || sum.Unread != 2 || sum.LastReplySeq != r3.Seq || len(sum.Participants) != 3 {
		t.Fatalf("bob's summary = %+v", sum)
	}
	if _, ok := sums[main.Seq]; ok {
		t.Fatalf("a message without replies has a thread")
	}
	if _, err := d.svc.MarkRead(ctx, bob, conv, r2.Seq); err != nil {
		t.Fatal(err)
	}
	sums, _ = d.svc.ThreadSummaries(ctx, bob, conv, []int64{root.Seq})
	if sums[root.Seq].Unread != 1 {
		t.Fatalf("after reading r2: %+v", sums[root.Seq])
	}
	// Thread replies count in the conversation's unread count.
	mem, _ := d.svc.Membership(ctx, bob, conv)
	if n, _ := d.svc.UnreadCount(ctx, bob, mem); n != 1 {
		t.Fatalf("conversation unread = %d; want 1 (r3)", n)
	}
}

func TestRepliesAndThreadsPointInsideTheirConversation(t *testing.T) {
	ctx := context.Background()
	d := newDomain(t, nil)
	u := d.users(t, 3)
	alice, bob, outsider := u[0], u[1], u[2]
	conv := d.group(t, alice, bob)
	other := d.group(t, alice, outsider)
	elsewhere := mustSendWith(t, d, alice, other, chat.SendRefs{})
	root := mustSendWith(t, d, alice, conv, chat.SendRefs{})
	reply := mustSendWith(t, d, bob, conv, chat.SendRefs{ThreadRootID: root.ID, ReplyToID: root.ID})
	if reply.ReplyToSeq != root.Seq || reply.ThreadRootSeq != root.Seq {
		t.Fatalf("reply refs = %+v", reply.MessageRefs)
	}
	cases := []struct {
		name  string
		refs  chat.SendRefs
		field string
	}{
		{"quote of another conversation", chat.SendRefs{ReplyToID: elsewhere.ID}, "replyToId"},
		{"quote of a message that does not exist", chat.SendRefs{ReplyToID: storage.MessageID(conv, 999)}, "replyToId"},
		{"malformed quote", chat.SendRefs{ReplyToID: "nope"}, "replyToId"},
		{"thread of another conversation", chat.SendRefs{ThreadRootID: elsewhere.ID}, "threadRootId"},
		{"thread of a thread reply", chat.SendRefs{ThreadRootID: reply.ID}, "threadRootId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, _ := d.svc.Conversation(ctx, bob, conv)
			_, err := d.svc.SendWith(ctx, bob, conv, newClientID(), "x", c.refs)
			var fe *fault.Error
			if code(err) != fault.BadUserInput || !errors.As(err, &fe) || fe.Field != c.field {
				t.Fatalf("got %v; want BAD_USER_INPUT on %s", err, c.field)
			}
			after, _ := d.svc.Conversation(ctx, bob, conv)
			if after.LastSeq != before.LastSeq {
				t.Fatalf("a refused send wrote a message")
			}
		})
	}
	// A recalled quote shows as a tombstone; the quote keeps pointing at it.
	if _, err := d.svc.Delete(ctx, alice, root.ID, true); err != nil {
		t.Fatal(err)
	}
	mem, _ := d.svc.Membership(ctx, bob, conv)
	got, _ := d.store.Messages(ctx, conv, []int64{root.Seq})
	q := chat.QuotedMessage(reply, got[root.Seq], true, mem)
	if q == nil || q.DeletedAt == nil || q.Body != "" {
		t.Fatalf("quoted recalled message = %+v; want a tombstone", q)
	}
	// A member who joined later does not see what was quoted before.
	late := storage.Member{ConversationID: conv, JoinedSeq: reply.Seq}
	if chat.QuotedMessage(reply, got[root.Seq], true, late) != nil {
		t.Fatalf("a late joiner sees a quote from before they joined")
	}
}
