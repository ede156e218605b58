package storagetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"messenger/storage"
)

// coldHistory is how many messages the cold-tier case sends: more than one
// bucket of the distributed store (1,000 seqs), so its first bucket is
// complete and old while the newest one stays hot.
const coldHistory = 1012

// coldTwin is one of two identical conversations: the same messages and
// the same changes, one moved to the cold tier and one not.
type coldTwin struct {
	conv storage.Conversation
}

// testColdHistoryReadsTheSame sends the same history to two conversations,
// moves one to the cold tier, and checks every page of both, both ways and
// for two viewers, plus lookups, unread counts and reactions, are the same
// before and after the move, including edits, recalls, hides and reactions
// made to moved messages after the move.
func testColdHistoryReadsTheSame(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := mustUser(t, s), mustUser(t, s)
	twins := []*coldTwin{{conv: mustGroup(t, s, a.ID, b.ID)}, {conv: mustGroup(t, s, a.ID, b.ID)}}
	base := now().Add(-200 * 24 * time.Hour)
	var wg sync.WaitGroup
	errs := make([]error, len(twins))
	for i, tw := range twins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 1; n <= coldHistory; n++ {
				sender := a.ID
				if n%3 == 0 {
					sender = b.ID
				}
				m := storage.Message{ConversationID: tw.conv.ID, SenderID: sender, ClientMessageID: fmt.Sprintf("c%d", n),
					Body: fmt.Sprintf("message %d", n), SentAt: base.Add(time.Duration(n) * time.Minute)}
				if n%50 == 7 {
					m.ReplyToSeq = int64(n - 1)
				}
				var err error
				for try := 0; try < 5; try++ { // a send is idempotent: retry what a loaded backend timed out
					if _, _, err = s.AppendMessage(ctx, m); !errors.Is(err, storage.ErrUnavailable) {
						break
					}
				}
				if err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("AppendMessage: %v", err)
		}
	}
	// Changes made while the history is hot.
	for _, tw := range twins {
		coldChanges(t, s, tw.conv.ID, a.ID, b.ID, base, []int64{5, 6, 7, 8, 998})
	}
	before := coldView(t, s, twins[1].conv.ID, a.ID, b.ID)
	if got := coldView(t, s, twins[0].conv.ID, a.ID, b.ID); !reflect.DeepEqual(got, before) {
		t.Fatalf("twins differ before any move")
	}
	cutoff := base.Add(100 * 24 * time.Hour)
	if _, err := s.MoveCold(ctx, twins[0].conv.ID, cutoff); err != nil {
		t.Fatalf("MoveCold: %v", err)
	}
	if _, err := s.MoveCold(ctx, twins[0].conv.ID, cutoff); err != nil {
		t.Fatalf("MoveCold again: %v", err)
	}
	assertSameView(t, "after the move", coldView(t, s, twins[0].conv.ID, a.ID, b.ID), before)

	// Changes made to moved messages, the same on both twins.
	for _, tw := range twins {
		coldChanges(t, s, tw.conv.ID, a.ID, b.ID, base, []int64{10, 11, 12, 13, 999})
		coldChanges(t, s, tw.conv.ID, a.ID, b.ID, base, []int64{6, 20, 21, 22, 1001}) // 6 is recalled already
	}
	assertSameView(t, "after changes to moved messages", coldView(t, s, twins[0].conv.ID, a.ID, b.ID), coldView(t, s, twins[1].conv.ID, a.ID, b.ID))
}

// coldChanges edits seqs[0], recalls seqs[1], hides seqs[2] for a and
// seqs[4] for b, and reacts to seqs[3] (two emoji, one removed again).
func coldChanges(t *testing.T, s storage.Store, conv, a, b string, base time.Time, seqs []int64) {
	t.Helper()
	ctx := context.Background()
	at := base.Add(150 * 24 * time.Hour)
	edited := at
	if err := s.UpdateMessage(ctx, storage.Message{ConversationID: conv, Seq: seqs[0], Body: "edited", EditedAt: &edited}); err != nil {
		t.Fatalf("edit %d: %v", seqs[0], err)
	}
	if err := s.UpdateMessage(ctx, storage.Message{ConversationID: conv, Seq: seqs[1], DeletedAt: &at}); err != nil {
		t.Fatalf("recall %d: %v", seqs[1], err)
	}
	if err := s.UpdateMessage(ctx, storage.Message{ConversationID: conv, Seq: seqs[1], Body: "after recall", EditedAt: &edited}); err != nil {
		t.Fatalf("edit after recall %d: %v", seqs[1], err)
	}
	if err := s.HideMessage(ctx, a, conv, seqs[2]); err != nil {
		t.Fatalf("hide %d: %v", seqs[2], err)
	}
	if err := s.HideMessage(ctx, b, conv, seqs[4]); err != nil {
		t.Fatalf("hide %d: %v", seqs[4], err)
	}
	for _, e := range []string{"👍", "🎉"} {
		if _, err := s.AddReaction(ctx, conv, seqs[3], b, e, at); err != nil {
			t.Fatalf("react %d: %v", seqs[3], err)
		}
	}
	if _, err := s.RemoveReaction(ctx, conv, seqs[3], b, "🎉"); err != nil {
		t.Fatalf("unreact %d: %v", seqs[3], err)
	}
}

// coldView is everything a client can read of a conversation's history,
// with the conversation's id taken out so twins compare equal.
func coldView(t *testing.T, s storage.Store, conv, a, b string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	show := func(m storage.Message) string {
		return fmt.Sprintf("%d %s %q %v %v %v %s", m.Seq, m.SenderID, m.Body, m.EditedAt, m.DeletedAt, m.SentAt.UTC(), m.ClientMessageID) +
			fmt.Sprintf(" %+v", m.MessageRefs) + fmt.Sprint(m.ID == storage.MessageID(conv, m.Seq))
	}
	for _, viewer := range []string{a, b} {
		for _, limit := range []int{37, 400} {
			for _, newest := range []bool{false, true} {
				var cursor int64
				for page := 0; ; page++ {
					after, before := cursor, int64(0)
					if newest {
						after, before = 0, cursor
					}
					got, err := s.ListMessages(ctx, conv, viewer, after, before, limit, newest)
					if err != nil {
						t.Fatalf("ListMessages: %v", err)
					}
					out = append(out, fmt.Sprintf("page %d of %d newest=%v viewer=%v: %d", page, limit, newest, viewer == a, len(got)))
					for _, m := range got {
						out = append(out, show(m))
					}
					if len(got) < limit {
						break
					}
					cursor = got[len(got)-1].Seq
				}
			}
		}
		for _, from := range []int64{0, 500, 999} {
			n, err := s.CountUnread(ctx, conv, viewer, from)
			if err != nil {
				t.Fatalf("CountUnread: %v", err)
			}
			out = append(out, fmt.Sprintf("unread after %d: %d", from, n))
		}
	}
	seqs := []int64{1, 5, 6, 8, 10, 11, 13, 22, 500, 998, 999, 1000, 1001, 5000}
	got, err := s.Messages(ctx, conv, seqs)
	if err != nil {
		t.Fatalf("Messages: %v", err)
	}
	for _, q := range seqs {
		if m, ok := got[q]; ok {
			out = append(out, "lookup "+show(m))
		} else {
			out = append(out, fmt.Sprintf("lookup %d absent", q))
		}
		m, err := s.MessageByID(ctx, storage.MessageID(conv, q))
		out = append(out, fmt.Sprintf("by id %d: %v %v", q, m.Body, err == nil))
	}
	reactions, err := s.Reactions(ctx, conv, seqs)
	if err != nil {
		t.Fatalf("Reactions: %v", err)
	}
	for _, q := range seqs {
		for _, r := range reactions[q] {
			out = append(out, fmt.Sprintf("reaction %d %s %d", q, r.Emoji, r.Count))
		}
	}
	return out
}

func assertSameView(t *testing.T, when string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d lines of history, want %d", when, len(got), len(want))
	}
	for i := 0; i < min(len(got), len(want)); i++ {
		if got[i] != want[i] {
			t.Fatalf("%s: line %d\n got %s\nwant %s", when, i, got[i], want[i])
		}
	}
}
