package opensearch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"messenger/netcut"
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

// TestUnreachableClusterDoesNotStopAStart: OpenSearch down when the API
// starts is no reason for the API not to start (search is derived data):
// Open succeeds and warns, calls fail with ErrUnavailable meanwhile, and
// once the cluster answers the indices are made and everything works.
func TestUnreachableClusterDoesNotStopAStart(t *testing.T) {
	url := os.Getenv("MESSENGER_OPENSEARCH_URL")
	if url == "" {
		t.Skip("MESSENGER_OPENSEARCH_URL is not set")
	}
	proxy := netcut.New(t, strings.TrimPrefix(url, "http://"))
	proxy.Cut()
	var logs bytes.Buffer
	ctx := context.Background()
	idx, err := opensearch.Open(ctx, opensearch.Config{
		URLs: []string{"http://" + proxy.Addr()}, Prefix: fmt.Sprintf("test-%08x-", rand.Uint32()),
		RequestTimeout: 2 * time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatalf("Open with the cluster down: %v", err)
	}
	t.Cleanup(func() {
		idx.DeleteAll(context.Background())
		idx.Close()
	})
	if !strings.Contains(logs.String(), "unreachable") {
		t.Errorf("no warning in the log:\n%s", logs.String())
	}
	q := search.MessageQuery{Query: search.ParseQuery("comeback"), Scopes: []search.Scope{{ConversationID: "c1"}}, First: 5}
	if _, err := idx.SearchMessages(ctx, q); !errors.Is(err, search.ErrUnavailable) {
		t.Fatalf("search with the cluster down: %v, want ErrUnavailable", err)
	}
	proxy.Restore()
	if err := idx.Apply(ctx, search.Batch{Upserts: []search.Message{{ConversationID: "c1", Seq: 1, SenderID: "u", Body: "comeback", SentAt: time.Now()}}}); err != nil {
		t.Fatalf("write once the cluster is back: %v", err)
	}
	searchtest.Eventually(t, 10*time.Second, func() string {
		p, err := idx.SearchMessages(ctx, q)
		if err != nil || p.Total != 1 {
			return fmt.Sprintf("search = %+v, %v; want one hit", p, err)
		}
		return ""
	})
}
