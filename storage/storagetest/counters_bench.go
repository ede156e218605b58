package storagetest

import (
	"context"
	"testing"

	"messenger/storage"
)

// BenchUnreadPage measures the unread counts of one conversation list page:
// for each of convs conversations, the reader's membership and its unread
// count, as chat.Service.UnreadCount reads them. seed must have put unread
// messages from others after the reader's cursor in each conversation; the
// cost must not depend on how many.
func BenchUnreadPage(b *testing.B, s storage.Store, reader string, convs []string, wantEach int) {
	ctx := context.Background()
	for b.Loop() {
		for _, c := range convs {
			mem, err := s.Member(ctx, c, reader)
			if err != nil {
				b.Fatal(err)
			}
			n, err := s.CountUnread(ctx, c, reader, max(mem.ReadSeq, mem.JoinedSeq))
			if err != nil || n != wantEach {
				b.Fatalf("CountUnread = %d, %v; want %d", n, err, wantEach)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/page")
}
