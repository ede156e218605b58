// Package opensearch is the distributed search.Index: OpenSearch over HTTP
// (opensearch-go), one cluster shared by every API instance.
package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	osgo "github.com/opensearch-project/opensearch-go/v4"

	"messenger/search"
)

var (
	_ search.Index     = (*Index)(nil)
	_ search.Rebuilder = (*Index)(nil)
)

// Config configures the OpenSearch backend.
type Config struct {
	// URLs of the cluster's nodes (http or https). Required.
	URLs []string
	// Username and Password for HTTP basic auth (default: none).
	Username, Password string
	// InsecureSkipVerify accepts any TLS certificate (test clusters only).
	InsecureSkipVerify bool
	// Prefix starts every index and alias name (default "messenger-"); tests
	// give each run its own.
	Prefix string
	// Replicas per shard of new indices (default 0: a single node; set 1 or
	// more on a cluster).
	Replicas int
	// Shards per new messages index (default 1).
	Shards int
	// RequestTimeout bounds one HTTP attempt (default 10 s).
	RequestTimeout time.Duration
	// Logger says when the cluster is unreachable at start (default
	// slog.Default()).
	Logger *slog.Logger
}

// Index is the distributed search.Index. Messages (with one watermark
// document per conversation) live in the index behind the alias
// <prefix>messages, users behind <prefix>users; the physical indices are
// named <alias>_<mapping version>_<timestamp>, so a rebuild writes new ones
// and swaps both aliases in one atomic _aliases call.
type Index struct {
	c      *osgo.Client
	cfg    Config
	msgs   string // alias
	users  string // alias
	hideMu sync.Mutex
	// ready: the aliases are known to exist (see ensure).
	ready   atomic.Bool
	readyMu sync.Mutex
}

// mappingVersion changes whenever the mappings below change.
const mappingVersion = "v1"

// Open connects and creates the first generation of indices and their
// aliases when none exist. A cluster that cannot be reached is no reason
// to stop a start (search is derived data): Open then returns the Index,
// logs a warning, and makes the indices on first use once the cluster
// answers; until then every call returns search.ErrUnavailable. Other
// errors (a refused login, a bad URL) are returned.
func Open(ctx context.Context, cfg Config) (*Index, error) {
	if len(cfg.URLs) == 0 {
		return nil, errors.New("opensearch: Config.URLs is required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "messenger-"
	}
	if cfg.Shards <= 0 {
		cfg.Shards = 1
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c, err := osgo.NewClient(osgo.Config{
		Addresses: cfg.URLs, Username: cfg.Username, Password: cfg.Password,
		InsecureSkipVerify: cfg.InsecureSkipVerify, RequestTimeout: cfg.RequestTimeout,
		MaxRetries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("search: opensearch client: %w", err)
	}
	o := &Index{c: c, cfg: cfg, msgs: cfg.Prefix + "messages", users: cfg.Prefix + "users"}
	if err := o.ensure(ctx); err != nil {
		if !errors.Is(err, search.ErrUnavailable) {
			return nil, err
		}
		cfg.Logger.Warn("search: OpenSearch unreachable at start; searches fail with UNAVAILABLE and indexing retries until it answers", "err", err)
	}
	return o, nil
}

// ensure makes the aliases exist (with a first generation behind them)
// before the first call that uses them: writing to a missing alias would
// create an index of that name with a guessed mapping.
func (o *Index) ensure(ctx context.Context) error {
	if o.ready.Load() {
		return nil
	}
	o.readyMu.Lock()
	defer o.readyMu.Unlock()
	if o.ready.Load() {
		return nil
	}
	var aliases map[string]any
	status, err := o.do(ctx, http.MethodGet, "/_alias/"+o.msgs, nil, &aliases)
	switch {
	case status == http.StatusNotFound:
		g, err := o.createGen(ctx)
		if err != nil {
			return err
		}
		if err := g.Promote(ctx); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	o.ready.Store(true)
	return nil
}

// Names returns the aliases searched: the messages and the users alias.
func (o *Index) Names() (messages, users string) { return o.msgs, o.users }

type osError struct {
	status int
	body   string
}

func (e *osError) Error() string { return fmt.Sprintf("status %d: %s", e.status, e.body) }

// do sends one request with a JSON body (or NDJSON when body is []byte) and
// decodes a 2xx answer into out. It returns the status whatever happened.
func (o *Index) do(ctx context.Context, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/x-ndjson"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return 0, fmt.Errorf("search: encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return 0, fmt.Errorf("search: %s %s: %w", method, path, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := o.c.Perform(req) //nolint:staticcheck // SA1019: Perform is the v4 client's raw request; v5 replaces it with Stream, and this module is pinned to v4
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("search: %s %s: %w: %v", method, path, search.ErrUnavailable, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("search: %s %s: %w: %v", method, path, search.ErrUnavailable, err)
	}
	if resp.StatusCode >= 300 {
		e := &osError{status: resp.StatusCode, body: string(raw[:min(len(raw), 500)])}
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return resp.StatusCode, fmt.Errorf("search: %s %s: %w: %v", method, path, search.ErrUnavailable, e)
		}
		return resp.StatusCode, fmt.Errorf("search: %s %s: %w", method, path, e)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("search: decode %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func (o *Index) messageMapping() map[string]any {
	return map[string]any{
		"settings": map[string]any{
			"number_of_shards": o.cfg.Shards, "number_of_replicas": o.cfg.Replicas,
			"refresh_interval": "1s", "max_result_window": 10000,
		},
		"mappings": map[string]any{
			"dynamic": "strict",
			"properties": map[string]any{
				"kind":   map[string]any{"type": "keyword"},
				"id":     map[string]any{"type": "keyword"},
				"conv":   map[string]any{"type": "keyword"},
				"seq":    map[string]any{"type": "long"},
				"sender": map[string]any{"type": "keyword"},
				// Analysis happens in Go (text.go): the engine only splits on spaces.
				"text":   map[string]any{"type": "text", "analyzer": "whitespace"},
				"sent":   map[string]any{"type": "keyword"},
				"hidden": map[string]any{"type": "keyword"},
				"wm":     map[string]any{"type": "long", "index": false},
			},
		},
	}
}

func (o *Index) userMapping() map[string]any {
	return map[string]any{
		"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": o.cfg.Replicas},
		"mappings": map[string]any{
			"dynamic": "strict",
			"properties": map[string]any{
				"uid":      map[string]any{"type": "keyword"},
				"username": map[string]any{"type": "keyword"},
				"words":    map[string]any{"type": "keyword"},
			},
		},
	}
}

type generation struct {
	o          *Index
	msgs, usrs string
}

func (o *Index) createGen(ctx context.Context) (*generation, error) {
	suffix := "_" + mappingVersion + "_" + strconv.FormatInt(time.Now().UnixMicro(), 10)
	g := &generation{o: o, msgs: o.msgs + suffix, usrs: o.users + suffix}
	if _, err := o.do(ctx, http.MethodPut, "/"+g.msgs, o.messageMapping(), nil); err != nil {
		return nil, fmt.Errorf("search: create index %s: %w", g.msgs, err)
	}
	if _, err := o.do(ctx, http.MethodPut, "/"+g.usrs, o.userMapping(), nil); err != nil {
		return nil, fmt.Errorf("search: create index %s: %w", g.usrs, err)
	}
	return g, nil
}

func (g *generation) Name() string { return g.msgs }

func (g *generation) Apply(ctx context.Context, b search.Batch) error {
	return g.o.apply(ctx, g.msgs, g.usrs, b)
}

// Promote points both aliases at this generation in one atomic call and
// deletes the indices they pointed at before.
func (g *generation) Promote(ctx context.Context) error {
	o := g.o
	var old []string
	for _, alias := range []string{o.msgs, o.users} {
		var cur map[string]any
		status, err := o.do(ctx, http.MethodGet, "/_alias/"+alias, nil, &cur)
		if err != nil && status != http.StatusNotFound {
			return err
		}
		for idx := range cur {
			old = append(old, idx)
		}
	}
	actions := []any{
		map[string]any{"add": map[string]any{"index": g.msgs, "alias": o.msgs, "is_write_index": true}},
		map[string]any{"add": map[string]any{"index": g.usrs, "alias": o.users, "is_write_index": true}},
	}
	for _, idx := range old {
		actions = append(actions, map[string]any{"remove_index": map[string]any{"index": idx}})
	}
	if _, err := o.do(ctx, http.MethodPost, "/_aliases", map[string]any{"actions": actions}, nil); err != nil {
		return fmt.Errorf("search: swap aliases to %s: %w", g.msgs, err)
	}
	return nil
}

func (g *generation) Abandon(ctx context.Context) error {
	_, err := g.o.do(ctx, http.MethodDelete, "/"+g.msgs+","+g.usrs, nil, nil)
	return err
}

// NewGeneration implements search.Rebuilder.
func (o *Index) NewGeneration(ctx context.Context) (search.Generation, error) {
	return o.createGen(ctx)
}

// DeleteAll drops the aliases' indices; tests call it to clean up.
func (o *Index) DeleteAll(ctx context.Context) error {
	_, err := o.do(ctx, http.MethodDelete, "/"+o.msgs+"_*,"+o.users+"_*", nil, nil)
	return err
}

// Close implements search.Index.
func (o *Index) Close() error { return o.c.Close() }
