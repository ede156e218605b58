package observe

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/redis/go-redis/v9"

	"messenger/blob"
	"messenger/realtime"
	"messenger/storage"
)

// scrape reads the Observer's /metrics as Prometheus would and returns the
// value of the series named exactly line (name with labels), or 0.
func scrape(t *testing.T, o *Observer, series string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	o.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var p expfmt.TextParser
	if _, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String())); err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if ok && name == series {
			var v float64
			if _, err := fmt.Sscan(value, &v); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	return 0
}

// batchSource answers every lookup with nothing, or with err.
type batchSource struct{ err error }

func (s batchSource) Users(context.Context, []string) (map[string]storage.User, error) {
	return map[string]storage.User{}, s.err
}
func (s batchSource) Conversations(context.Context, []string) (map[string]storage.Conversation, error) {
	return nil, s.err
}
func (s batchSource) Messages(context.Context, string, []int64) (map[int64]storage.Message, error) {
	return nil, s.err
}
func (s batchSource) Reactions(context.Context, string, []int64) (map[int64][]storage.ReactionSummary, error) {
	return nil, s.err
}
func (s batchSource) ReactionsBy(context.Context, string, []int64, string) (map[int64][]string, error) {
	return nil, s.err
}
func (s batchSource) ReceiptCounts(context.Context, string, []int64) (map[int64]storage.MessageCounts, error) {
	return nil, s.err
}

func TestLoaderReadsShowTheirBatchSizesAndFailures(t *testing.T) {
	o := New()
	ok, down := o.Loaders(batchSource{}), o.Loaders(batchSource{err: storage.ErrUnavailable})
	ctx := context.Background()
	_, _ = ok.Users(ctx, []string{"a", "b", "c"})
	_, _ = ok.Users(ctx, []string{"d"})
	_, _ = down.Messages(ctx, "c", []int64{1, 2})
	for series, want := range map[string]float64{
		`messenger_dataloader_batch_size_count{loader="users"}`:                                2,
		`messenger_dataloader_batch_size_sum{loader="users"}`:                                  4,
		`messenger_storage_batch_duration_seconds_count{loader="messages"}`:                    1,
		`messenger_backend_call_duration_seconds_count{backend="storage",op="users"}`:          2,
		`messenger_backend_call_errors_total{backend="storage",op="messages"}`:                 1,
		`messenger_backend_call_errors_total{backend="storage",op="users"}`:                    0,
		`messenger_backend_call_duration_seconds_count{backend="storage",op="receipt_counts"}`: 0,
	} {
		if got := scrape(t, o, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
}

func TestAnswersAreNotCountedAsBackendFailures(t *testing.T) {
	for _, tc := range []struct {
		err    error
		failed bool
	}{
		{nil, false},
		{context.Canceled, false},
		{fmt.Errorf("reading: %w", storage.ErrNotFound), false},
		{redis.Nil, false},
		{blob.ErrNotFound, false},
		{blob.ErrTooLarge, false},
		{blob.ErrBadKey, false},
		{realtime.ErrBadCursor, false},
		{realtime.ErrCursorExpired, false},
		{storage.ErrUnavailable, true},
		{context.DeadlineExceeded, true},
		{errors.New("connection refused"), true},
	} {
		if got := backendFailed(tc.err); got != tc.failed {
			t.Errorf("backendFailed(%v) = %v, want %v", tc.err, got, tc.failed)
		}
	}
}

func TestEventTypeLabelsStayBounded(t *testing.T) {
	for in, want := range map[string]string{
		"MessageAdded":          "MessageAdded",
		"":                      "other",
		"type with spaces":      "other",
		strings.Repeat("a", 41): "other",
	} {
		if got := eventLabel(in); got != want {
			t.Errorf("eventLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
