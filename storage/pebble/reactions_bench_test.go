package pebble

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkReactionsOfPopularMessages is the reaction summary and "did I
// react" of a page of 50 messages that 1,000 members each reacted to. It
// reads the per-emoji summaries and the reader's own reactions: 150 + a few
// rows, where reading the reaction rows would be 50,000.
func BenchmarkReactionsOfPopularMessages(b *testing.B) {
	s, err := Open(Config{Dir: b.TempDir(), NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	emoji := []string{"👍", "❤️", "😂"}
	var seqs []int64
	for seq := int64(1); seq <= 50; seq++ {
		seqs = append(seqs, seq)
		for u := range 1000 {
			if _, err := s.AddReaction(ctx, "c", seq, fmt.Sprintf("u%04d", u), emoji[u%3], time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("fresh", func(b *testing.B) { readReactions(b, s, seqs) })
	// What a long-running store sees: the summaries' superseded versions
	// compacted away.
	if err := s.db.Compact(ctx, []byte{0}, []byte{0xff}, false); err != nil {
		b.Fatal(err)
	}
	b.Run("compacted", func(b *testing.B) { readReactions(b, s, seqs) })
}

func readReactions(b *testing.B, s *Store, seqs []int64) {
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Reactions(ctx, "c", seqs); err != nil {
			b.Fatal(err)
		}
		if _, err := s.ReactionsBy(ctx, "c", seqs, "u0500"); err != nil {
			b.Fatal(err)
		}
	}
}
