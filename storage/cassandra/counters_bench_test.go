package cassandra

import (
	"context"
	"sync"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/google/uuid"

	"messenger/storage"
	"messenger/storage/storagetest"
)

// BenchmarkUnreadPage: a conversation list page of 50 conversations costs
// the same with 10,000 unread messages in each as with 10 or none, and
// 10,000 messages already read cost what none cost. The
// 500,000 messages are seeded with the rows persist writes (message rows and
// the LastSeq register) in single-partition batches, not through Paxos
// sends, which would take an hour on this machine.
func BenchmarkUnreadPage(b *testing.B) {
	s := openTestStore(b, testConfig(b), true)
	for _, tc := range []struct {
		name       string
		sent, read int
	}{{"empty", 0, 0}, {"read=10000", 10_000, 10_000}, {"unread=10-after-10000-read", 10_010, 10_000}, {"unread=10", 10, 0}, {"unread=10000", 10_000, 0}} {
		b.Run(tc.name, func(b *testing.B) {
			sender, reader := uuid.NewString(), uuid.NewString()
			convs := make([]string, 50)
			for i := range convs {
				convs[i] = newGroup(b, s, sender, reader).ID
				seedMessages(b, s, convs[i], sender, tc.sent)
				if tc.read > 0 {
					if _, err := s.AdvanceCursor(context.Background(), convs[i], reader, storage.Read, int64(tc.read), time.Now()); err != nil {
						b.Fatal(err)
					}
				}
			}
			cpu := cpuNow()
			storagetest.BenchUnreadPage(b, s, reader, convs, tc.sent-tc.read)
			cpu.report(b)
		})
	}
}

// seedMessages writes n messages from sender into conv, seqs 1..n.
func seedMessages(b *testing.B, s *Store, conv, sender string, n int) {
	ctx := context.Background()
	const per = 50
	work := make(chan int64)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := range work {
				var stmts []stmt
				for seq := max(first, 1); seq < first+per && seq <= int64(n); seq++ {
					stmts = append(stmts, stmt{`INSERT INTO messages (conversation_id, bucket, seq, sender_id, client_message_id, body, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
						[]any{conv, bucketOf(seq), seq, sender, uuid.NewString(), "benchmark message body of a typical length", time.Now()}})
				}
				if err := s.batch(ctx, gocql.UnloggedBatch, true, stmts...).Exec(); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	// Batches start at multiples of per, which divides bucketSize, so a
	// batch never crosses a bucket: one partition each.
	for first := int64(0); first <= int64(n); first += per {
		work <- first
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if n > 0 {
		if err := s.bumpConversation(ctx, conv, int64(n), time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
