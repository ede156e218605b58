package bleve_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"messenger/search"
	"messenger/search/bleve"
)

// BenchmarkOpen opens an index of MESSENGER_BLEVE_OPEN_MESSAGES messages
// (default 20,000; 20 words each over 5,000 conversations), persisted to
// disk: the cost of a start, checksums of every segment included.
//
//	MESSENGER_BLEVE_OPEN_MESSAGES=200000 go test ./search/bleve -run '^$' -bench Open -benchtime 20x
func BenchmarkOpen(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("MESSENGER_BLEVE_OPEN_MESSAGES")); err == nil && v > 0 {
		n = v
	}
	dir := b.TempDir()
	idx, err := bleve.Open(bleve.Config{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	words := []string{"alpha", "beta", "gamma", "delta", "meeting", "lunch", "report", "photo", "tomorrow", "deadline"}
	now := time.Now()
	for lo := 0; lo < n; lo += 2000 {
		var batch search.Batch
		for i := lo; i < min(lo+2000, n); i++ {
			body := fmt.Sprintf("%s %s %s message number %d about the %s", words[i%10], words[(i/10)%10], words[(i/100)%10], i, words[(i/7)%10])
			batch.Upserts = append(batch.Upserts, search.Message{ConversationID: fmt.Sprintf("c%05d", i%5000), Seq: int64(i/5000 + 1), SenderID: "u", Body: body, SentAt: now})
		}
		if err := idx.Apply(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(5 * time.Second) // the persister's nap and merges
	idx.Close()
	b.ResetTimer()
	for range b.N {
		idx, err := bleve.Open(bleve.Config{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		idx.Close()
	}
}
