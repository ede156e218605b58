package search_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"messenger/search"
	"messenger/search/bleve"
	"messenger/search/opensearch"
)

// corpusSize is the number of messages BenchmarkCorpus generates; the flag
// wins over MESSENGER_SEARCH_CORPUS, and the default is 20,000.
var corpusSize = flag.Int("corpus", 0, "messages in BenchmarkCorpus's generated corpus (default $MESSENGER_SEARCH_CORPUS, else 20000)")

// BenchmarkCorpus indexes a generated corpus (-corpus or
// MESSENGER_SEARCH_CORPUS messages, default 20,000, over 2,000
// conversations, words drawn from a Zipf distribution over a 20,000-word
// vocabulary) through Apply in bulk batches of 2,000, reporting indexing
// throughput; then it searches one or two words as a member of 200
// conversations (newest first, 20 per page), reporting latency
// percentiles. MESSENGER_SEARCH_BACKENDS (e.g. "bleve") limits the
// backends; the load average is logged before and after each.
//
//	go test ./search -run '^$' -bench Corpus -benchtime 2000x -timeout 1h -args -corpus 1000000
func BenchmarkCorpus(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("MESSENGER_SEARCH_CORPUS")); err == nil && v > 0 {
		n = v
	}
	if *corpusSize > 0 {
		n = *corpusSize
	}
	backends := []string{"bleve", "opensearch"}
	if v := os.Getenv("MESSENGER_SEARCH_BACKENDS"); v != "" {
		backends = strings.Split(v, ",")
	}
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) {
			benchCorpus(b, backend, n)
		})
		if c := corpora[backend]; c != nil {
			if o, ok := c.idx.(*opensearch.Index); ok {
				o.DeleteAll(context.Background())
			}
			c.idx.Close()
			os.RemoveAll(c.dir)
			delete(corpora, backend)
		}
	}
}

// corpora keeps each backend's corpus across the benchmark's runs (the
// framework calls it first with b.N = 1).
var corpora = map[string]*corpus{}

type corpus struct {
	idx    search.Index
	dir    string
	took   time.Duration
	scopes []search.Scope
	word   func() string
}

func benchCorpus(b *testing.B, backend string, n int) {
	c := corpora[backend]
	if c == nil {
		c = buildCorpus(b, backend, n)
		corpora[backend] = c
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := c.word()
		if i%2 == 1 {
			q += " " + c.word()
		}
		t0 := time.Now()
		if _, err := c.idx.SearchMessages(ctx, search.MessageQuery{Viewer: "v", Query: search.ParseQuery(q), Scopes: c.scopes, First: 20}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	b.Logf("%s: %d searches over %d messages; load average %s", backend, b.N, n, loadAverage())
	slices.Sort(lat)
	b.ReportMetric(float64(n)/c.took.Seconds(), "indexed-msgs/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func buildCorpus(b *testing.B, backend string, n int) *corpus {
	{
		{
			var idx search.Index
			var dir string
			if backend == "bleve" {
				var err error
				dir, err = os.MkdirTemp("", "bench-bleve-")
				if err != nil {
					b.Fatal(err)
				}
				bl, err := bleve.Open(bleve.Config{Dir: dir})
				if err != nil {
					b.Fatal(err)
				}
				idx = bl
			} else {
				url := os.Getenv("MESSENGER_OPENSEARCH_URL")
				if url == "" {
					b.Skip("MESSENGER_OPENSEARCH_URL is not set")
				}
				o, err := opensearch.Open(context.Background(), opensearch.Config{URLs: []string{url}, Prefix: fmt.Sprintf("bench-%08x-", rand.Uint32())})
				if err != nil {
					b.Fatal(err)
				}
				idx = o
			}
			ctx := context.Background()
			b.Logf("%s: indexing %d messages; load average %s", backend, n, loadAverage())
			rng := rand.New(rand.NewPCG(1, 2))
			zipf := rand.NewZipf(rng, 1.1, 1, 19999)
			word := func() string { return "w" + strconv.FormatUint(zipf.Uint64(), 36) }
			const convs = 2000
			start := time.Now()
			base := time.Now().Add(-time.Duration(n) * time.Second)
			for lo := 0; lo < n; lo += 2000 {
				var batch search.Batch
				for i := lo; i < min(lo+2000, n); i++ {
					words := make([]string, 4+rng.IntN(12))
					for j := range words {
						words[j] = word()
					}
					batch.Upserts = append(batch.Upserts, search.Message{
						ConversationID: fmt.Sprintf("conv%05d", i%convs), Seq: int64(i/convs + 1), SenderID: "u",
						Body: strings.Join(words, " "), SentAt: base.Add(time.Duration(i) * time.Second),
					})
				}
				if err := idx.Apply(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			took := time.Since(start)
			var scopes []search.Scope
			for c := 0; c < convs; c += convs / 200 {
				scopes = append(scopes, search.Scope{ConversationID: fmt.Sprintf("conv%05d", c)})
			}
			// Wait until the last write is searchable.
			for {
				p, err := idx.SearchMessages(ctx, search.MessageQuery{Query: search.ParseQuery("w1"), Scopes: []search.Scope{{ConversationID: fmt.Sprintf("conv%05d", (n-1)%convs)}}, First: 1})
				if err == nil && p.Total > 0 {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			b.Logf("%s: indexed %d messages in %v (%.0f msg/s); load average %s", backend, n, took.Round(time.Millisecond), float64(n)/took.Seconds(), loadAverage())
			return &corpus{idx: idx, dir: dir, took: took, scopes: scopes, word: word}
		}
	}
}

// loadAverage is the first three fields of /proc/loadavg ("?" elsewhere).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
