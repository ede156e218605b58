package relay_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"messenger/blob"
	"messenger/blob/blobtest"
	"messenger/blob/folder"
	"messenger/blob/relay"
)

// streamOnly hides Seek from Get's reader, as S3's response body does.
type streamOnly struct{ blob.Store }

func (s streamOnly) Get(ctx context.Context, key string) (io.ReadCloser, blob.Info, error) {
	rc, info, err := s.Store.Get(ctx, key)
	return struct{ io.ReadCloser }{rc}, info, err
}

// relayed is a store whose downloads go through a Relay.
type relayed struct {
	blob.Store
	r *relay.Relay
}

func (s relayed) PresignGet(ctx context.Context, key string, ttl time.Duration, opts blob.GetOptions) (string, error) {
	return s.r.PresignGet(ctx, key, ttl, opts)
}

func newRelayed(t *testing.T) relayed {
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	f, err := folder.Open(folder.Config{Dir: t.TempDir(), Secret: []byte(strings.Repeat("k", 32)), BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	r, err := relay.New(relay.Config{Store: streamOnly{f}, Secret: []byte(strings.Repeat("r", 32)), BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/blobs/", f.Handler())
	mux.Handle("/blobs/relay/", r.Handler())
	srv.Config.Handler = mux
	return relayed{Store: streamOnly{f}, r: r}
}

func TestRelayedStoreContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newRelayed(t) })
}

func TestRelayedDocumentIsNeverSniffed(t *testing.T) {
	ctx := context.Background()
	s := newRelayed(t)
	if _, err := s.Put(ctx, "d/1", strings.NewReader("<html><script>x</script>"), 0, "text/csv"); err != nil {
		t.Fatal(err)
	}
	u, err := s.PresignGet(ctx, "d/1", time.Minute, blob.GetOptions{ContentDisposition: blob.ContentDisposition("attachment", "a.csv")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(u, "/blobs/relay/o/d/1?") {
		t.Fatalf("URL %s is not served by the relay", u)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != 200 || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Type") != "text/csv" ||
		!strings.HasPrefix(h.Get("Content-Disposition"), "attachment") || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") ||
		resp.ContentLength != 24 {
		t.Fatalf("relayed download = %d %v", resp.StatusCode, h)
	}
}
