package opensearch_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"messenger/search"
	"messenger/search/opensearch"
	"messenger/search/searchtest"
)

func TestOpenSearch(t *testing.T) {
	searchtest.Run(t, func(t *testing.T) search.Index { return newOpenSearch(t) })
}

// newOpenSearch returns an index with its own random prefix on the server
// at MESSENGER_OPENSEARCH_URL, deleted after the test.
func newOpenSearch(t testing.TB) *opensearch.Index {
	t.Helper()
	url := os.Getenv("MESSENGER_OPENSEARCH_URL")
	if url == "" {
		t.Skip("MESSENGER_OPENSEARCH_URL is not set: start one with `eval \"$(scripts/services.sh up opensearch)\"`")
	}
	idx, err := opensearch.Open(context.Background(), opensearch.Config{
		URLs: []string{url}, Prefix: fmt.Sprintf("test-%08x-", rand.Uint32()),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		idx.DeleteAll(context.Background())
		idx.Close()
	})
	return idx
}
