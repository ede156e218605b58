package cassandra

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/storage"
	"messenger/storage/cold"
)

// TestColdTierCost measures the mover (client CPU, segment bytes) and cold
// page reads (p50/p99 from object storage, uncached and cached) for
// docs/BENCHMARKS.md. It writes MESSENGER_COLD_BENCH messages (e.g.
// 100000) straight into the messages table (no sequencer: only the mover
// and the reads are measured) and is skipped when that is unset.
func TestColdTierCost(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("MESSENGER_COLD_BENCH"))
	if n < 2*bucketSize {
		t.Skip("set MESSENGER_COLD_BENCH to a number of messages (>= 2000) to measure the cold tier")
	}
	s := openTestStore(t, testConfig(t), true)
	blobs, prefix := coldTestBlobs(t)
	s.SetColdTier(blobs, prefix)
	ctx := context.Background()
	conv, user := uuid.NewString(), uuid.NewString()
	at := time.Now().UTC().Add(-200 * 24 * time.Hour).Truncate(time.Millisecond)
	c := storage.Conversation{ID: conv, Kind: storage.Group, Title: "bench", CreatedBy: user, CreatedAt: at, LastActivityAt: at}
	if _, _, err := s.CreateConversation(ctx, c, []storage.Member{{UserID: user, Role: storage.RoleOwner, JoinedAt: at}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var stmts []stmt
	for q := int64(1); q <= int64(n); q++ {
		stmts = append(stmts, stmt{`INSERT INTO messages (conversation_id, bucket, seq, sender_id, client_message_id, body, sent_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, []any{conv, bucketOf(q), q, user, uuid.NewString(),
			fmt.Sprintf("message %d: a typical chat line of some sixty characters or so", q), at.Add(time.Duration(q) * time.Second)}})
		if len(stmts) == 50 || q == int64(n) || bucketOf(q+1) != bucketOf(q) {
			if err := s.batch(ctx, 0, true, stmts...).Exec(); err != nil { // unlogged: one partition
				t.Fatal(err)
			}
			stmts = stmts[:0]
		}
	}
	if err := s.query(ctx, "UPDATE conversations SET last_seq = ? WHERE id = ?", int64(n), conv).Exec(); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d messages in %v", n, time.Since(start))

	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	mv := cold.Mover{Backend: s, Blobs: blobs, Prefix: prefix, Owner: "bench"}
	c0, w0 := cpu(), time.Now()
	st, err := mv.MoveConversation(ctx, conv, time.Now().Add(-90*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cpuUsed, wall := cpu()-c0, time.Since(w0)
	perM := 1e6 / float64(st.Messages)
	t.Logf("mover: %d messages in %d buckets, wall %v, client CPU %v; segments %d bytes (raw JSON %d, %.1fx)",
		st.Messages, st.Buckets, wall, cpuUsed, st.Bytes, st.RawBytes, float64(st.RawBytes)/float64(st.Bytes))
	t.Logf("per million messages: client CPU %.1f s, wall %.1f s, %.1f MB of segments, %.1f B/message",
		cpuUsed.Seconds()*perM, wall.Seconds()*perM, float64(st.Bytes)*perM/1e6, float64(st.Bytes)/float64(st.Messages))

	page := func(cached bool) time.Duration {
		b := int64(st.Buckets/2) * bucketSize
		if !cached {
			s.cold.segments = segmentCache{} // as if this process never read it
		}
		t0 := time.Now()
		got, err := s.ListMessages(ctx, conv, user, 0, b+500, 50, true)
		d := time.Since(t0)
		if err != nil || len(got) != 50 {
			t.Fatalf("cold page: %d messages, %v", len(got), err)
		}
		return d
	}
	for _, cached := range []bool{false, true} {
		var ds []time.Duration
		for i := 0; i < 200; i++ {
			ds = append(ds, page(cached))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		t.Logf("cold page of 50 (segment cached=%v): p50 %v p99 %v (n=%d)", cached, ds[len(ds)/2], ds[len(ds)*99/100], len(ds))
	}
}
