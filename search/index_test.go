package search_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"messenger/search"
	"messenger/search/searchtest"
)

func TestBleve(t *testing.T) {
	searchtest.Run(t, func(t *testing.T) search.Index {
		idx, err := search.NewBleve(search.BleveConfig{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { idx.Close() })
		return idx
	})
}

func TestOpenSearch(t *testing.T) {
	searchtest.Run(t, func(t *testing.T) search.Index { return newOpenSearch(t) })
}

// newOpenSearch returns an index with its own random prefix on the server
// at MESSENGER_OPENSEARCH_URL, deleted after the test.
func newOpenSearch(t testing.TB) *search.OpenSearch {
	t.Helper()
	url := os.Getenv("MESSENGER_OPENSEARCH_URL")
	if url == "" {
		t.Skip("MESSENGER_OPENSEARCH_URL is not set: start one with `eval \"$(scripts/services.sh up opensearch)\"`")
	}
	idx, err := search.NewOpenSearch(context.Background(), search.OpenSearchConfig{
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
