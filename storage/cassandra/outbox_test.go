package cassandra

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/storage"
)

// pendingOf lists conv's pending fan-outs as s's sweep sees them, failing
// on a seq listed twice.
func pendingOf(t *testing.T, s *Store, conv string, sentBefore time.Time) []int64 {
	t.Helper()
	all, err := s.PendingFanOuts(context.Background(), sentBefore, 100000)
	if err != nil {
		t.Fatalf("PendingFanOuts: %v", err)
	}
	var seqs []int64
	for _, p := range all {
		if p.ConversationID != conv {
			continue
		}
		if slices.Contains(seqs, p.Seq) {
			t.Fatalf("seq %d listed twice", p.Seq)
		}
		seqs = append(seqs, p.Seq)
	}
	slices.Sort(seqs)
	return seqs
}

func confirm(t *testing.T, s *Store, conv string, seqs ...int64) {
	t.Helper()
	for _, q := range seqs {
		if err := s.FanOutDone(context.Background(), storage.PendingFanOut{ConversationID: conv, Seq: q}); err != nil {
			t.Fatalf("FanOutDone %d: %v", q, err)
		}
	}
}

func watermark(t *testing.T, s *Store, conv string) int64 {
	t.Helper()
	var w int64
	if err := s.query(context.Background(), "SELECT fanned_seq FROM conversations WHERE id = ?", conv).Scan(&w); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestDerivedOutboxAcrossInstances: an instance that made messages durable
// and died before fanning them out (no FanOutDone) leaves exactly those
// seqs pending; a sweep on another instance finds them, two sweeps at once
// list the same range and nothing below the watermark, and a claim that
// never became durable is listed only once the next send writes it.
func TestDerivedOutboxAcrossInstances(t *testing.T) {
	cfg := testConfig(t)
	a := openTestStore(t, cfg, true)
	b := openTestStore(t, cfg, false)
	u := uuid.NewString()
	c := newGroup(t, a, u)
	later := func() time.Time { return time.Now().Add(time.Second) }

	for i := 0; i < 5; i++ {
		mustAppend(t, a, c.ID, u, "m")
	}
	confirm(t, a, c.ID, 1, 2) // fanned out; then a dies before 3..5
	if got := pendingOf(t, b, c.ID, later()); !slices.Equal(got, []int64{3, 4, 5}) {
		t.Fatalf("second instance's sweep = %v, want [3 4 5]", got)
	}
	if w := watermark(t, b, c.ID); w != 2 {
		t.Fatalf("watermark after the sweep = %d, want 2", w)
	}

	// Two sweeps at once: each lists the missing range, nothing below it.
	var wg sync.WaitGroup
	got := make([][]int64, 2)
	errs := make([]error, 2)
	for i, s := range []*Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			all, err := s.PendingFanOuts(context.Background(), later(), 100000)
			errs[i] = err
			for _, p := range all {
				if p.ConversationID == c.ID {
					got[i] = append(got[i], p.Seq)
				}
			}
		}()
	}
	wg.Wait()
	for i := range got {
		slices.Sort(got[i])
		if errs[i] != nil || !slices.Equal(got[i], []int64{3, 4, 5}) {
			t.Fatalf("concurrent sweep %d = %v, %v; want [3 4 5]", i, got[i], errs[i])
		}
	}

	// Confirmed out of order: the watermark moves over the prefix only.
	confirm(t, b, c.ID, 4)
	if got := pendingOf(t, a, c.ID, later()); !slices.Equal(got, []int64{3, 5}) {
		t.Fatalf("after confirming 4: %v, want [3 5]", got)
	}
	confirm(t, b, c.ID, 3, 5)
	if got := pendingOf(t, a, c.ID, later()); len(got) != 0 {
		t.Fatalf("after confirming all: %v, want none", got)
	}
	if w := watermark(t, a, c.ID); w != 5 {
		t.Fatalf("watermark = %d, want 5", w)
	}

	// A claim whose process died before writing: not durable, not listed;
	// the next send (other instance) writes it, and both are pending.
	mustAppend(t, b, c.ID, u, "six")
	n := claimOnly(t, a, storage.Message{ConversationID: c.ID, SenderID: u, ClientMessageID: "died", Body: "orphan", SentAt: time.Now()})
	if got := pendingOf(t, b, c.ID, later()); !slices.Equal(got, []int64{6}) {
		t.Fatalf("with seq %d claimed but unwritten: %v, want [6]", n, got)
	}
	mustAppend(t, b, c.ID, u, "eight")
	if got := pendingOf(t, a, c.ID, later()); !slices.Equal(got, []int64{6, 7, 8}) {
		t.Fatalf("after the next send: %v, want [6 7 8]", got)
	}
	// Sent after sentBefore: not listed yet.
	m := mustAppend(t, a, c.ID, u, "nine")
	if got := pendingOf(t, b, c.ID, m.SentAt); !slices.Equal(got, []int64{6, 7, 8}) {
		t.Fatalf("sweep before seq 9's send time: %v, want [6 7 8]", got)
	}
	confirm(t, a, c.ID, 6, 7, 8, 9)
	if got := pendingOf(t, b, c.ID, later()); len(got) != 0 {
		t.Fatalf("after confirming all: %v, want none", got)
	}

	// Once nothing is pending and its minutes are settled, the
	// conversation's active rows go (a sweep window 10 minutes ahead makes
	// this minute settled; this keyspace is the test's own).
	if got := pendingOf(t, a, c.ID, time.Now().Add(10*time.Minute)); len(got) != 0 {
		t.Fatalf("settled sweep: %v, want none", got)
	}
	var rows int
	for shard := 0; shard < outboxShards; shard++ {
		iter := a.query(context.Background(), "SELECT conversation_id FROM fanout_active WHERE minute = ? AND shard = ?", minuteOf(time.Now()), shard).Iter()
		var id string
		for iter.Scan(&id) {
			if id == c.ID {
				rows++
			}
		}
		if err := iter.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if rows != 0 {
		t.Fatalf("%d active rows left for a conversation with nothing pending", rows)
	}
}

// TestDurableTipIsNotRewritten: a send on another instance that finds
// this one's tip reads its durable mark (LastSeq) instead of rewriting
// the tip's rows.
func TestDurableTipIsNotRewritten(t *testing.T) {
	cfg := testConfig(t)
	a := openTestStore(t, cfg, true)
	b := openTestStore(t, cfg, false)
	u := uuid.NewString()
	c := newGroup(t, a, u)
	mustAppend(t, b, c.ID, u, "one") // b caches its tip
	mustAppend(t, a, c.ID, u, "two") // a fails one claim, then writes its own
	before := b.writes.Load()
	m := mustAppend(t, b, c.ID, u, "three") // b's cached tip is stale
	// One failed claim, one applied claim, and three's own rows: messages,
	// message_ids, unread exception, registers (and at most an active row).
	if got := b.writes.Load() - before; got > 7 {
		t.Fatalf("send after another instance's send cost %d writes, want at most 7 (no rewrite of seq 2)", got)
	}
	if m.Seq != 3 {
		t.Fatalf("seq %d, want 3", m.Seq)
	}
	got, err := a.Messages(context.Background(), c.ID, []int64{1, 2, 3})
	if err != nil || len(got) != 3 || got[2].Body != "two" {
		t.Fatalf("history = %v, %v", got, err)
	}
}

// TestOutboxOfAConversationFromBeforeMigration020: its older messages'
// fanout_outbox rows are still listed, once, until confirmed, and its newer
// messages through the derived range, which starts at its first active row.
func TestOutboxOfAConversationFromBeforeMigration020(t *testing.T) {
	cfg := testConfig(t)
	s := openTestStore(t, cfg, true)
	ctx := context.Background()
	u := uuid.NewString()
	c := newGroup(t, s, u)
	for _, q := range []string{
		// At timestamp 0, the creation's: a tombstone with a real timestamp
		// would shadow the watermark's max-register writes, which a column
		// that never existed does not.
		"DELETE fanned_seq FROM conversations USING TIMESTAMP 0 WHERE id = ?",
		"DELETE idem_forever FROM message_sequencer USING TIMESTAMP 0 WHERE conversation_id = ?",
	} {
		if err := s.query(ctx, q, c.ID).Exec(); err != nil {
			t.Fatal(err)
		}
	}
	// Seq 1 as the previous version wrote it: message, registers and an
	// outbox row, no active row.
	old := mustAppend(t, s, c.ID, u, "old")
	if err := s.query(ctx, "DELETE FROM fanout_active WHERE minute = ? AND shard = ? AND conversation_id = ? AND first_seq = 1",
		minuteOf(time.Now()), activeShard(c.ID), c.ID).Exec(); err != nil {
		t.Fatal(err)
	}
	s.outbox.mu.Lock()
	delete(s.outbox.active, c.ID)
	s.outbox.mu.Unlock()
	p := storage.PendingFanOutOf(old)
	if err := s.query(ctx, "INSERT INTO fanout_outbox (minute, shard, conversation_id, seq, event_id, sent_at) VALUES (?, ?, ?, ?, '', ?)",
		minuteOf(p.SentAt), outboxShard(p), p.ConversationID, p.Seq, p.SentAt).Exec(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, c.ID, u, "new") // seq 2, by this version
	later := time.Now().Add(time.Second)
	if got := pendingOf(t, s, c.ID, later); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("pending = %v, want [1 2]", got)
	}
	if w := watermark(t, s, c.ID); w != 1 {
		t.Fatalf("first watermark = %d, want 1 (below the first active row)", w)
	}
	confirm(t, s, c.ID, 1)
	if got := pendingOf(t, s, c.ID, later); !slices.Equal(got, []int64{2}) {
		t.Fatalf("after confirming seq 1: %v, want [2]", got)
	}
	var n int
	if err := s.query(ctx, "SELECT COUNT(*) FROM fanout_outbox WHERE minute = ? AND shard = ? AND conversation_id = ? AND seq = 1",
		minuteOf(p.SentAt), outboxShard(p), c.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("confirmed legacy row left: %d, %v", n, err)
	}
}
