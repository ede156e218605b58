package storagetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"messenger/storage"
)

func testPinsAreASetWithALimit(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u := mustUser(t, s)
	c := mustGroup(t, s, u.ID)
	for i := 0; i < 4; i++ {
		mustSend(t, s, c.ID, u.ID, "m")
	}
	at := now()
	for seq := int64(1); seq <= 3; seq++ {
		pinned, err := s.PinMessage(ctx, storage.Pin{ConversationID: c.ID, Seq: seq, PinnedBy: u.ID, PinnedAt: at.Add(time.Duration(seq) * time.Second)}, 3)
		if err != nil || !pinned {
			t.Fatalf("pin %d: pinned=%v err=%v", seq, pinned, err)
		}
	}
	if pinned, err := s.PinMessage(ctx, storage.Pin{ConversationID: c.ID, Seq: 2, PinnedBy: "other", PinnedAt: at.Add(time.Hour)}, 3); err != nil || pinned {
		t.Fatalf("pin again: pinned=%v err=%v, want a no-op", pinned, err)
	}
	if _, err := s.PinMessage(ctx, storage.Pin{ConversationID: c.ID, Seq: 4, PinnedBy: u.ID, PinnedAt: at.Add(time.Hour)}, 3); !errors.Is(err, storage.ErrPinLimit) {
		t.Fatalf("pin over the limit: err=%v, want ErrPinLimit", err)
	}
	pins, err := s.Pins(ctx, c.ID)
	if err != nil || len(pins) != 3 || pins[0].Seq != 3 || pins[2].Seq != 1 {
		t.Fatalf("Pins = %+v, %v; want seqs 3, 2, 1", pins, err)
	}
	if pins[1].PinnedBy != u.ID || !pins[1].PinnedAt.Equal(at.Add(2*time.Second)) {
		t.Fatalf("pin 2 = %+v; want the first pin's author and time", pins[1])
	}
	if unpinned, err := s.UnpinMessage(ctx, c.ID, 2); err != nil || !unpinned {
		t.Fatalf("unpin: %v %v", unpinned, err)
	}
	if unpinned, err := s.UnpinMessage(ctx, c.ID, 2); err != nil || unpinned {
		t.Fatalf("unpin again: %v %v; want a no-op", unpinned, err)
	}
	if pinned, err := s.PinMessage(ctx, storage.Pin{ConversationID: c.ID, Seq: 4, PinnedBy: u.ID, PinnedAt: at.Add(time.Hour)}, 3); err != nil || !pinned {
		t.Fatalf("pin after unpin: %v %v", pinned, err)
	}
	// Unpinned down to none, then pinned again.
	for _, seq := range []int64{1, 3, 4} {
		if _, err := s.UnpinMessage(ctx, c.ID, seq); err != nil {
			t.Fatal(err)
		}
	}
	if pins, err := s.Pins(ctx, c.ID); err != nil || len(pins) != 0 {
		t.Fatalf("Pins after unpinning all = %+v, %v", pins, err)
	}
	if pinned, err := s.PinMessage(ctx, storage.Pin{ConversationID: c.ID, Seq: 2, PinnedBy: u.ID, PinnedAt: at}, 3); err != nil || !pinned {
		t.Fatalf("pin after unpinning all: %v %v", pinned, err)
	}
	if pins, err := s.Pins(ctx, "unknown-"+id()); err != nil || len(pins) != 0 {
		t.Fatalf("pins of an unknown conversation = %+v, %v", pins, err)
	}
}

func testConcurrentPinnersKeepTheLimit(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u := mustUser(t, s)
	c := mustGroup(t, s, u.ID)
	const n, limit = 8, 3
	for i := 0; i < n; i++ {
		mustSend(t, s, c.ID, u.ID, "m")
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for seq := int64(1); seq <= n; seq++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pinned, err := s.PinMessage(ctx, storage.Pin{ConversationID: c.ID, Seq: seq, PinnedBy: u.ID, PinnedAt: now()}, limit)
			if err != nil && !errors.Is(err, storage.ErrPinLimit) {
				t.Errorf("pin %d: %v", seq, err)
			}
			if pinned {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	pins, err := s.Pins(ctx, c.ID)
	if err != nil || len(pins) > limit || len(pins) != wins {
		t.Fatalf("after %d concurrent pins: %d pins (%v), %d reported pinned; want at most %d, as reported", n, len(pins), err, wins, limit)
	}
}

func testEditHistoryPagesAndDrops(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u := mustUser(t, s)
	c := mustGroup(t, s, u.ID)
	m := mustSend(t, s, c.ID, u.ID, "v0")
	at := now()
	for i, body := range []string{"v0", "v1", "v2"} {
		e := storage.Edit{ConversationID: c.ID, Seq: m.Seq, Body: body, WrittenAt: at.Add(time.Duration(i) * time.Minute), ReplacedAt: at.Add(time.Duration(i+1) * time.Minute)}
		if err := s.AddEdit(ctx, e); err != nil {
			t.Fatalf("AddEdit: %v", err)
		}
		if i == 2 { // recorded twice: kept once
			if err := s.AddEdit(ctx, e); err != nil {
				t.Fatalf("AddEdit again: %v", err)
			}
		}
	}
	edits, err := s.Edits(ctx, c.ID, m.Seq, time.Time{}, 2)
	if err != nil || len(edits) != 2 || edits[0].Body != "v2" || edits[1].Body != "v1" {
		t.Fatalf("Edits first page = %+v, %v; want v2, v1", edits, err)
	}
	if !edits[0].WrittenAt.Equal(at.Add(2*time.Minute)) || !edits[0].ReplacedAt.Equal(at.Add(3*time.Minute)) {
		t.Fatalf("edit times = %+v", edits[0])
	}
	rest, err := s.Edits(ctx, c.ID, m.Seq, edits[1].ReplacedAt, 10)
	if err != nil || len(rest) != 1 || rest[0].Body != "v0" {
		t.Fatalf("Edits after the first page = %+v, %v; want v0", rest, err)
	}
	if err := s.DropEdits(ctx, c.ID, m.Seq); err != nil {
		t.Fatalf("DropEdits: %v", err)
	}
	if edits, err := s.Edits(ctx, c.ID, m.Seq, time.Time{}, 10); err != nil || len(edits) != 0 {
		t.Fatalf("Edits after DropEdits = %+v, %v", edits, err)
	}
	if err := s.DropEdits(ctx, c.ID, m.Seq+100); err != nil {
		t.Fatalf("DropEdits of a message without history: %v", err)
	}
}

func testForwardMarksKeepTheFirst(t *testing.T, s storage.Store) {
	ctx := context.Background()
	k := storage.ForwardKey{ConversationID: id(), SenderID: id(), ClientMessageID: "fwd-" + id()}
	first := storage.Forward{Key: k, SourceMessageID: "src.1", SourceSenderID: "alice", ForwardedAt: now()}
	if err := s.PutForward(ctx, first); err != nil {
		t.Fatalf("PutForward: %v", err)
	}
	again := first
	again.SourceMessageID, again.SourceSenderID = "src.2", "bob"
	if err := s.PutForward(ctx, again); err != nil {
		t.Fatalf("PutForward again: %v", err)
	}
	other := storage.ForwardKey{ConversationID: k.ConversationID, SenderID: k.SenderID, ClientMessageID: "none"}
	got, err := s.Forwards(ctx, []storage.ForwardKey{k, other})
	if err != nil || len(got) != 1 {
		t.Fatalf("Forwards = %+v, %v; want one", got, err)
	}
	if f := got[k]; f.SourceMessageID != "src.1" || f.SourceSenderID != "alice" || !f.ForwardedAt.Equal(first.ForwardedAt) || f.Key != k {
		t.Fatalf("Forward = %+v; want the first record", f)
	}
}
