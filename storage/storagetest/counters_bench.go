package storagetest

import (
	"context"
	"syscall"
	"testing"
	"time"

	"messenger/storage"
)

// BenchUnreadPage measures the unread counts of one conversation list page:
// for each of convs conversations, the reader's membership and its unread
// count, as chat.Service.UnreadCount reads them. seed must have put unread
// messages from others after the reader's cursor in each conversation; the
// cost must not depend on how many.
func BenchUnreadPage(b *testing.B, s storage.Store, reader string, convs []string, wantEach int) {
	ctx := context.Background()
	cpu := processCPU()
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
	// CPU is steadier than wall time on a machine shared with other work.
	b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-us/page")
}

// processCPU is this process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
