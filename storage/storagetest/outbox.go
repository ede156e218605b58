package storagetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"messenger/storage"
)

// pendingSeqs lists conv's pending fan-outs sent before sentBefore. Other
// tests share the store, so it reads far enough to see all of theirs too.
func pendingSeqs(t *testing.T, s storage.Store, conv string, sentBefore time.Time) map[int64]storage.PendingFanOut {
	t.Helper()
	all, err := s.PendingFanOuts(context.Background(), sentBefore, 1_000_000)
	if err != nil {
		t.Fatalf("PendingFanOuts: %v", err)
	}
	out := map[int64]storage.PendingFanOut{}
	for _, p := range all {
		if p.ConversationID != conv {
			continue
		}
		if _, dup := out[p.Seq]; dup {
			t.Fatalf("PendingFanOuts lists %s twice", storage.MessageID(conv, p.Seq))
		}
		out[p.Seq] = p
	}
	return out
}

func pendingSeqList(m map[int64]storage.PendingFanOut) []int64 {
	var seqs []int64
	for seq := range m {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	return seqs
}

func testOutbox(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := mustUser(t, s), mustUser(t, s)
	c := mustGroup(t, s, a.ID, b.ID)
	base := now().Add(-3 * time.Second)
	var sent []storage.Message
	for i := range 3 {
		m, created, err := s.AppendMessage(ctx, storage.Message{
			ConversationID: c.ID, SenderID: a.ID, ClientMessageID: fmt.Sprint("outbox-", i),
			Body: "hello", SentAt: base.Add(time.Duration(i) * time.Second),
		})
		if err != nil || !created {
			t.Fatalf("AppendMessage %d: created=%v err=%v", i, created, err)
		}
		sent = append(sent, m)
	}
	// A retried send creates nothing, so it adds no pending fan-out either.
	if _, created, err := s.AppendMessage(ctx, storage.Message{
		ConversationID: c.ID, SenderID: a.ID, ClientMessageID: "outbox-0", Body: "hello", SentAt: now(),
	}); err != nil || created {
		t.Fatalf("retried AppendMessage: created=%v err=%v", created, err)
	}

	got := pendingSeqs(t, s, c.ID, now().Add(time.Second))
	if seqs := pendingSeqList(got); !slices.Equal(seqs, []int64{1, 2, 3}) {
		t.Fatalf("pending fan-outs = %v, want every created message [1 2 3] once", seqs)
	}
	for _, m := range sent {
		if p := got[m.Seq]; !p.SentAt.Equal(m.SentAt) {
			t.Fatalf("pending fan-out of seq %d has SentAt %v, want the message's %v", m.Seq, p.SentAt, m.SentAt)
		}
	}
	if seqs := pendingSeqList(pendingSeqs(t, s, c.ID, sent[2].SentAt)); !slices.Equal(seqs, []int64{1, 2}) {
		t.Fatalf("pending fan-outs sent before the third message = %v, want [1 2]", seqs)
	}

	for range 2 { // confirming twice is no error
		if err := s.FanOutDone(ctx, got[2]); err != nil {
			t.Fatalf("FanOutDone: %v", err)
		}
	}
	if err := s.FanOutDone(ctx, storage.PendingFanOut{ConversationID: c.ID, Seq: 99, SentAt: base}); err != nil {
		t.Fatalf("FanOutDone of a message never pending: %v", err)
	}
	if seqs := pendingSeqList(pendingSeqs(t, s, c.ID, now().Add(time.Second))); !slices.Equal(seqs, []int64{1, 3}) {
		t.Fatalf("after confirming seq 2, pending = %v, want [1 3]", seqs)
	}
}

func testDeferredEvents(t *testing.T, s storage.Store) {
	ctx := context.Background()
	conv := id()
	ev := storage.PendingFanOut{ConversationID: conv, SentAt: now().Add(-time.Second), EventID: id(),
		UserIDs: []string{"u1", "u2"}, Type: "MessageUpdated", Data: []byte(`{"x":1}`)}
	for range 2 { // deferring twice records it once
		if err := s.DeferFanOut(ctx, ev); err != nil {
			t.Fatalf("DeferFanOut: %v", err)
		}
	}
	var found []storage.PendingFanOut
	all, err := s.PendingFanOuts(ctx, now().Add(time.Second), 1_000_000)
	if err != nil {
		t.Fatalf("PendingFanOuts: %v", err)
	}
	for _, p := range all {
		if p.EventID == ev.EventID {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		t.Fatalf("deferred event listed %d times, want once", len(found))
	}
	got := found[0]
	if got.ConversationID != conv || got.Seq != 0 || !got.SentAt.Equal(ev.SentAt) || got.Type != ev.Type ||
		string(got.Data) != string(ev.Data) || !slices.Equal(got.UserIDs, ev.UserIDs) {
		t.Fatalf("deferred event read back as %+v, want %+v", got, ev)
	}
	if err := s.FanOutDone(ctx, got); err != nil {
		t.Fatalf("FanOutDone: %v", err)
	}
	all, err = s.PendingFanOuts(ctx, now().Add(time.Second), 1_000_000)
	if err != nil {
		t.Fatalf("PendingFanOuts: %v", err)
	}
	for _, p := range all {
		if p.EventID == ev.EventID {
			t.Fatalf("a confirmed deferred event is still pending")
		}
	}
}
