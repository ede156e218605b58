package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/redis/go-redis/v9"

	"messenger/apitest"
	"messenger/blob/folder"
	"messenger/chat"
	"messenger/netcut"
	"messenger/observe"
	"messenger/persisted/rediscache"
	"messenger/presence/mempresence"
	"messenger/realtime"
	"messenger/redistest"
	"messenger/search/bleve"
	"messenger/server"
)

// observedAPI is the API wired as cmd/api wires it: every backend wrapped
// by one Observer, whose series the handler serves on /metrics.
type observedAPI struct {
	URL string
	Obs *observe.Observer
}

type observedOptions struct {
	log    realtime.Log // default: in memory
	config func(*server.Config)
}

func startObserved(t *testing.T, o observedOptions) *observedAPI {
	t.Helper()
	idx, err := bleve.Open(bleve.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	obs := observe.New()
	e := newEmbedded(t, apiOptions{log: o.log, chat: func(c *chat.Config) {
		c.Log, c.Presence, c.Search = obs.Log(c.Log), obs.Presence(mempresence.New()), obs.Index(idx)
	}})
	cfg := server.Config{Observer: obs, Loaders: obs.Loaders(e.Store)}
	if o.config != nil {
		o.config(&cfg)
	}
	_, url := e.serve(t, cfg)
	return &observedAPI{URL: url, Obs: obs}
}

// scrape reads /metrics as Prometheus would.
func scrape(t *testing.T, baseURL string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(baseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	return fams
}

// sample sums the series of name whose labels include want: counters'
// values, histograms' observation counts.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	var sum float64
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		}
	}
	return sum
}

const (
	backendCalls  = "messenger_backend_call_duration_seconds"
	backendErrors = "messenger_backend_call_errors_total"
)

func TestMetricsCountEventsAppendedPerTypeAndDelivered(t *testing.T) {
	api := startObserved(t, observedOptions{})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	conv := startDirect(t, alice, bob)
	events := subscribe(t, bob)
	alice.Must(t, send, map[string]any{"c": conv, "k": "m1", "b": "hello"}, nil)
	events.NextOfType(t, "MessageAdded")

	m := scrape(t, api.URL)
	// One MessageAdded for each member's log: alice's devices and bob's.
	if n := sample(m, "messenger_events_appended_total", map[string]string{"type": "MessageAdded"}); n < 2 {
		t.Errorf("MessageAdded appended %v times, want one per member (2)", n)
	}
	if n := sample(m, "messenger_events_delivered_total", map[string]string{"type": "MessageAdded"}); n != 1 {
		t.Errorf("MessageAdded delivered %v times, want 1 (bob's subscription)", n)
	}
	for _, c := range []map[string]string{
		{"backend": "event_log", "op": "append"},
		{"backend": "event_log", "op": "subscribe"},
		{"backend": "presence", "op": "connect"},
		{"backend": "storage", "op": "users"},
	} {
		if sample(m, backendCalls, c) == 0 {
			t.Errorf("no %s call timed", c)
		}
	}
	if n := sample(m, backendErrors, nil); n != 0 {
		t.Errorf("%v backend errors counted on a healthy run", n)
	}
}

func TestMetricsTimeSearchCalls(t *testing.T) {
	api := startObserved(t, observedOptions{})
	alice := apitest.SignUp(t, api.URL, "alice")
	alice.Must(t, `query { searchUsers(query: "ali", first: 5) { edges { node { id } } } }`, nil, nil)
	if n := sample(scrape(t, api.URL), backendCalls, map[string]string{"backend": "search", "op": "search_users"}); n != 1 {
		t.Fatalf("search_users timed %v times, want 1", n)
	}
}

func TestMetricsTimeBlobCallsAndDoNotCountNotFoundAsAnError(t *testing.T) {
	api := startObserved(t, observedOptions{})
	f, err := folder.Open(folder.Config{Dir: t.TempDir(), Secret: bytes.Repeat([]byte("k"), 32)})
	if err != nil {
		t.Fatal(err)
	}
	blobs := api.Obs.Blobs(f)
	ctx := context.Background()
	if _, err := blobs.Put(ctx, "a/b.txt", strings.NewReader("hello"), 100, "text/plain"); err != nil {
		t.Fatal(err)
	}
	if _, err := blobs.Stat(ctx, "a/missing.txt"); err == nil {
		t.Fatal("stat of a missing object succeeded")
	}
	m := scrape(t, api.URL)
	if sample(m, backendCalls, map[string]string{"backend": "blob", "op": "put"}) != 1 ||
		sample(m, backendCalls, map[string]string{"backend": "blob", "op": "stat"}) != 1 {
		t.Fatalf("blob calls not timed: %v", m[backendCalls])
	}
	if n := sample(m, backendErrors, map[string]string{"backend": "blob"}); n != 0 {
		t.Fatalf("a not-found was counted as a blob failure (%v)", n)
	}
}

// TestMetricsCountRedisCommandsAndTheirFailures runs the APQ cache on a
// real Redis behind a proxy, through the API, then cuts the proxy.
func TestMetricsCountRedisCommandsAndTheirFailures(t *testing.T) {
	addr := firstRedis(t)
	proxy := netcut.New(t, addr)
	var obs *observe.Observer
	rdb := redis.NewClient(&redis.Options{Addr: proxy.Addr(), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	api := startObserved(t, observedOptions{config: func(c *server.Config) {
		obs = c.Observer
		rdb.AddHook(obs.RedisHook())
		c.APQCache = &rediscache.Cache{Client: rdb, Prefix: "test:apq:" + randomSuffix() + ":"}
	}})
	alice := apitest.SignUp(t, api.URL, "alice")
	query := `query { me { id } }`
	sum := sha256.Sum256([]byte(query))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	apq := func(withQuery bool) rawResponse {
		body := map[string]any{"extensions": ext}
		if withQuery {
			body["query"] = query
		}
		return do(t, http.MethodPost, api.URL+"/graphql", jsonBody(t, body),
			map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + alice.Token})
	}
	if r := apq(false); r.Code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash answered %s", r.Body)
	}
	if r := apq(true); len(r.Errors) > 0 {
		t.Fatalf("registering the query: %s", r.Body)
	}
	m := scrape(t, api.URL)
	// The cache's reads and writes are Lua scripts (EVALSHA, then EVAL
	// when Redis has not cached the script yet).
	if sample(m, backendCalls, map[string]string{"backend": "redis", "op": "evalsha"}) < 2 {
		t.Fatalf("the APQ cache's Redis commands were not timed: %v", m[backendCalls])
	}
	if n := sample(m, backendErrors, map[string]string{"backend": "redis"}); n != 0 {
		t.Fatalf("a cache miss (redis nil) was counted as a Redis failure (%v): %v", n, m[backendErrors])
	}

	proxy.SetUp(false)
	apq(false) // the cache fails open: a miss
	if n := sample(scrape(t, api.URL), backendErrors, map[string]string{"backend": "redis", "op": "evalsha"}); n < 1 {
		t.Fatal("a read of the cache on an unreachable Redis was not counted as an error")
	}
}

// firstRedis is the development Redis (scripts/services.sh env), or skips.
func firstRedis(t *testing.T) string {
	t.Helper()
	return redistest.First(t)
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
