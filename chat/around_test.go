package chat_test

import (
	"context"
	"fmt"
	"testing"

	"messenger/chat"
	"messenger/fault"
)

func pageSeqs(p chat.MessagePage) []int64 { return seqsOf(p.Messages) }

func intp(n int) *int { return &n }

func TestAPageAroundAMessageIsCentredAndContinuesBothWays(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	a, b := e.user(t, "alice"), e.user(t, "bob")
	c, err := e.chat.CreateDirect(ctx, a, b)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 1; i <= 30; i++ {
		m, err := e.chat.Send(ctx, a, c.ID, fmt.Sprint("c", i), fmt.Sprint("m", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	for _, tc := range []struct {
		name             string
		at               chat.Around
		first            int
		from, to         int64
		hasPrev, hasNext bool
	}{
		{"middle by seq", chat.Around{Seq: 15}, 10, 10, 19, true, true},
		{"middle by id", chat.Around{MessageID: ids[14]}, 10, 10, 19, true, true},
		{"near the start", chat.Around{Seq: 2}, 10, 1, 10, false, true},
		{"at the end", chat.Around{Seq: 30}, 10, 21, 30, true, false},
		{"whole history", chat.Around{Seq: 5}, 50, 1, 30, false, false},
		{"odd size", chat.Around{Seq: 15}, 5, 13, 17, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.chat.HistoryAround(ctx, b, c.ID, tc.at, chat.HistoryArgs{First: intp(tc.first)})
			if err != nil {
				t.Fatal(err)
			}
			got := pageSeqs(p)
			if len(got) == 0 || got[0] != tc.from || got[len(got)-1] != tc.to || int64(len(got)) != tc.to-tc.from+1 {
				t.Fatalf("seqs %v; want %d..%d", got, tc.from, tc.to)
			}
			if p.HasPrevious != tc.hasPrev || p.HasNext != tc.hasNext {
				t.Fatalf("hasPrevious=%v hasNext=%v; want %v %v", p.HasPrevious, p.HasNext, tc.hasPrev, tc.hasNext)
			}
		})
	}
	// The edges' cursors page on with the ordinary arguments.
	p, _ := e.chat.HistoryAround(ctx, b, c.ID, chat.Around{Seq: 15}, chat.HistoryArgs{First: intp(10)})
	before, after := chat.MessageCursor(p.Messages[0].Seq), chat.MessageCursor(p.Messages[len(p.Messages)-1].Seq)
	older, err := e.chat.History(ctx, b, c.ID, chat.HistoryArgs{Last: intp(5), Before: &before})
	if got := pageSeqs(older); err != nil || len(got) != 5 || got[0] != 5 || got[4] != 9 || !older.HasPrevious {
		t.Fatalf("before the page: %v %v", got, err)
	}
	newer, err := e.chat.History(ctx, b, c.ID, chat.HistoryArgs{First: intp(5), After: &after})
	if got := pageSeqs(newer); err != nil || len(got) != 5 || got[0] != 20 || got[4] != 24 || !newer.HasNext {
		t.Fatalf("after the page: %v %v", got, err)
	}
}

func TestAroundRefusesWhatIsNotThere(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	a, b, outsider := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "outsider")
	c, _ := e.chat.CreateDirect(ctx, a, b)
	other, _ := e.chat.CreateDirect(ctx, a, outsider)
	if _, err := e.chat.Send(ctx, a, c.ID, "c1", "hi"); err != nil {
		t.Fatal(err)
	}
	elsewhere, err := e.chat.Send(ctx, a, other.ID, "c1", "hi")
	if err != nil {
		t.Fatal(err)
	}
	after := chat.MessageCursor(1)
	for _, tc := range []struct {
		name string
		me   string
		at   chat.Around
		args chat.HistoryArgs
		want fault.Code
	}{
		{"a seq past the end", b, chat.Around{Seq: 2}, chat.HistoryArgs{}, fault.NotFound},
		{"a message of another conversation", a, chat.Around{MessageID: elsewhere.ID}, chat.HistoryArgs{}, fault.NotFound},
		{"a conversation I am not in", outsider, chat.Around{Seq: 1}, chat.HistoryArgs{}, fault.NotFound},
		{"with after", b, chat.Around{Seq: 1}, chat.HistoryArgs{After: &after}, fault.BadUserInput},
		{"with last", b, chat.Around{Seq: 1}, chat.HistoryArgs{Last: intp(3)}, fault.BadUserInput},
		{"negative first", b, chat.Around{Seq: 1}, chat.HistoryArgs{First: intp(-1)}, fault.BadUserInput},
		{"nothing to centre on", b, chat.Around{}, chat.HistoryArgs{}, fault.BadUserInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.chat.HistoryAround(ctx, tc.me, c.ID, tc.at, tc.args); code(err) != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
}

func TestFirstUnreadSkipsMyOwnAndDeletedMessages(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	a, b := e.user(t, "alice"), e.user(t, "bob")
	c, _ := e.chat.CreateDirect(ctx, a, b)
	send := func(from, id string) {
		if _, err := e.chat.Send(ctx, from, c.ID, id, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, err := e.chat.FirstUnreadSeq(ctx, b, c.ID); ok || err != nil {
		t.Fatalf("empty conversation: ok=%v err=%v", ok, err)
	}
	send(a, "1")
	send(a, "2")
	if _, err := e.chat.MarkRead(ctx, b, c.ID, 1); err != nil {
		t.Fatal(err)
	}
	send(b, "3")
	m4, _ := e.chat.Send(ctx, a, c.ID, "4", "x")
	if seq, ok, err := e.chat.FirstUnreadSeq(ctx, b, c.ID); !ok || err != nil || seq != 2 {
		t.Fatalf("first unread = %d %v %v; want 2", seq, ok, err)
	}
	if _, err := e.chat.MarkRead(ctx, b, c.ID, 2); err != nil {
		t.Fatal(err)
	}
	if seq, ok, _ := e.chat.FirstUnreadSeq(ctx, b, c.ID); !ok || seq != 4 {
		t.Fatalf("first unread after my own message = %d %v; want 4", seq, ok)
	}
	if _, err := e.chat.Delete(ctx, a, m4.ID, true); err != nil {
		t.Fatal(err)
	}
	if seq, ok, _ := e.chat.FirstUnreadSeq(ctx, b, c.ID); ok {
		t.Fatalf("first unread when only a recalled message is left = %d", seq)
	}
}
