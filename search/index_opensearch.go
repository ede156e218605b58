package search

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
)

var (
	_ Index     = (*OpenSearch)(nil)
	_ Rebuilder = (*OpenSearch)(nil)
)

// OpenSearchConfig configures the OpenSearch backend.
type OpenSearchConfig struct {
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
}

// OpenSearch is the distributed Index. Messages (with one watermark
// document per conversation) live in the index behind the alias
// <prefix>messages, users behind <prefix>users; the physical indices are
// named <alias>_<mapping version>_<timestamp>, so a rebuild writes new ones
// and swaps both aliases in one atomic _aliases call.
type OpenSearch struct {
	c      *opensearch.Client
	cfg    OpenSearchConfig
	msgs   string // alias
	users  string // alias
	hideMu sync.Mutex
}

// osMappingVersion changes whenever the mappings below change.
const osMappingVersion = "v1"

// NewOpenSearch connects and creates the first generation of indices and
// their aliases when none exist.
func NewOpenSearch(ctx context.Context, cfg OpenSearchConfig) (*OpenSearch, error) {
	if len(cfg.URLs) == 0 {
		return nil, errors.New("search: OpenSearchConfig.URLs is required")
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
	c, err := opensearch.NewClient(opensearch.Config{
		Addresses: cfg.URLs, Username: cfg.Username, Password: cfg.Password,
		InsecureSkipVerify: cfg.InsecureSkipVerify, RequestTimeout: cfg.RequestTimeout,
		MaxRetries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("search: opensearch client: %w", err)
	}
	o := &OpenSearch{c: c, cfg: cfg, msgs: cfg.Prefix + "messages", users: cfg.Prefix + "users"}
	var aliases map[string]any
	status, err := o.do(ctx, http.MethodGet, "/_alias/"+o.msgs, nil, &aliases)
	switch {
	case status == http.StatusNotFound:
		g, err := o.createGen(ctx)
		if err != nil {
			return nil, err
		}
		if err := g.Promote(ctx); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	return o, nil
}

// Names returns the aliases searched: the messages and the users alias.
func (o *OpenSearch) Names() (messages, users string) { return o.msgs, o.users }

type osError struct {
	status int
	body   string
}

func (e *osError) Error() string { return fmt.Sprintf("status %d: %s", e.status, e.body) }

// do sends one request with a JSON body (or NDJSON when body is []byte) and
// decodes a 2xx answer into out. It returns the status whatever happened.
func (o *OpenSearch) do(ctx context.Context, method, path string, body any, out any) (int, error) {
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
	resp, err := o.c.Perform(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("search: %s %s: %w: %v", method, path, ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("search: %s %s: %w: %v", method, path, ErrUnavailable, err)
	}
	if resp.StatusCode >= 300 {
		e := &osError{status: resp.StatusCode, body: string(raw[:min(len(raw), 500)])}
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return resp.StatusCode, fmt.Errorf("search: %s %s: %w: %v", method, path, ErrUnavailable, e)
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

func (o *OpenSearch) messageMapping() map[string]any {
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

func (o *OpenSearch) userMapping() map[string]any {
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

type osGen struct {
	o          *OpenSearch
	msgs, usrs string
}

func (o *OpenSearch) createGen(ctx context.Context) (*osGen, error) {
	suffix := "_" + osMappingVersion + "_" + strconv.FormatInt(time.Now().UnixMicro(), 10)
	g := &osGen{o: o, msgs: o.msgs + suffix, usrs: o.users + suffix}
	if _, err := o.do(ctx, http.MethodPut, "/"+g.msgs, o.messageMapping(), nil); err != nil {
		return nil, fmt.Errorf("search: create index %s: %w", g.msgs, err)
	}
	if _, err := o.do(ctx, http.MethodPut, "/"+g.usrs, o.userMapping(), nil); err != nil {
		return nil, fmt.Errorf("search: create index %s: %w", g.usrs, err)
	}
	return g, nil
}

func (g *osGen) Name() string { return g.msgs }

func (g *osGen) Apply(ctx context.Context, b Batch) error { return g.o.apply(ctx, g.msgs, g.usrs, b) }

// Promote points both aliases at this generation in one atomic call and
// deletes the indices they pointed at before.
func (g *osGen) Promote(ctx context.Context) error {
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

func (g *osGen) Abandon(ctx context.Context) error {
	_, err := g.o.do(ctx, http.MethodDelete, "/"+g.msgs+","+g.usrs, nil, nil)
	return err
}

// NewGeneration implements Rebuilder.
func (o *OpenSearch) NewGeneration(ctx context.Context) (Generation, error) { return o.createGen(ctx) }

// Apply implements Index.
func (o *OpenSearch) Apply(ctx context.Context, b Batch) error {
	return o.apply(ctx, o.msgs, o.users, b)
}

type bulkResp struct {
	Errors bool `json:"errors"`
	Items  []map[string]struct {
		ID     string          `json:"_id"`
		Status int             `json:"status"`
		Error  json.RawMessage `json:"error"`
	} `json:"items"`
}

// bulk sends NDJSON lines; ok404 tolerates "not found" (deleting an absent
// document).
func (o *OpenSearch) bulk(ctx context.Context, lines [][]byte) error {
	if len(lines) == 0 {
		return nil
	}
	body := bytes.Join(lines, []byte("\n"))
	body = append(body, '\n')
	var r bulkResp
	if _, err := o.do(ctx, http.MethodPost, "/_bulk", body, &r); err != nil {
		return err
	}
	if !r.Errors {
		return nil
	}
	for _, it := range r.Items {
		for op, res := range it {
			if res.Status < 300 || (op == "delete" && res.Status == http.StatusNotFound) {
				continue
			}
			err := fmt.Errorf("search: bulk %s %s: status %d: %s", op, res.ID, res.Status, res.Error)
			if res.Status >= 500 || res.Status == http.StatusTooManyRequests || res.Status == http.StatusConflict {
				err = fmt.Errorf("%w: %v", ErrUnavailable, err)
			}
			return err
		}
	}
	return nil
}

func line(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func (o *OpenSearch) apply(ctx context.Context, msgs, users string, b Batch) error {
	var lines [][]byte
	for _, m := range b.Upserts {
		id := docID(m.Key())
		// A partial update keeps the document's hidden-for set.
		lines = append(lines,
			line(map[string]any{"update": map[string]any{"_index": msgs, "_id": id, "retry_on_conflict": 3}}),
			line(map[string]any{"doc": map[string]any{
				"kind": "msg", "id": sortID(m.Key()), "conv": m.ConversationID, "seq": m.Seq, "sender": m.SenderID,
				"text": IndexText(m.Body), "sent": sentField(m.SentAt.UnixMilli()),
			}, "doc_as_upsert": true}))
	}
	for _, k := range b.Deletes {
		lines = append(lines, line(map[string]any{"delete": map[string]any{"_index": msgs, "_id": docID(k)}}))
	}
	for _, u := range b.Users {
		name, words := userTerms(u)
		lines = append(lines,
			line(map[string]any{"index": map[string]any{"_index": users, "_id": u.ID}}),
			line(map[string]any{"uid": u.ID, "username": name, "words": words}))
	}
	if err := o.bulk(ctx, lines); err != nil {
		return err
	}
	if err := o.applyHides(ctx, msgs, b.Hides); err != nil {
		return err
	}
	lines = lines[:0]
	for c, seq := range b.Watermarks {
		lines = append(lines,
			line(map[string]any{"index": map[string]any{"_index": msgs, "_id": wmID(c)}}),
			line(map[string]any{"kind": "wm", "conv": c, "wm": seq}))
	}
	if !b.SyncedAt.IsZero() {
		lines = append(lines,
			line(map[string]any{"index": map[string]any{"_index": msgs, "_id": syncedID}}),
			line(map[string]any{"kind": "sync", "wm": b.SyncedAt.UnixMilli()}))
	}
	return o.bulk(ctx, lines)
}

// SyncedAt implements Index.
func (o *OpenSearch) SyncedAt(ctx context.Context) (time.Time, error) {
	var got struct {
		Found  bool `json:"found"`
		Source struct {
			WM int64 `json:"wm"`
		} `json:"_source"`
	}
	status, err := o.do(ctx, http.MethodGet, "/"+o.msgs+"/_doc/"+syncedID, nil, &got)
	if status == http.StatusNotFound {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("search: read synced-at: %w", err)
	}
	if !got.Found {
		return time.Time{}, nil
	}
	return time.UnixMilli(got.Source.WM).UTC(), nil
}

// applyHides adds users to hidden-for sets. The test distribution has no
// scripting, so it is a read-modify-write guarded by the documents' seq_no
// (optimistic concurrency): a concurrent change makes the batch fail with
// ErrUnavailable and the caller retries it.
func (o *OpenSearch) applyHides(ctx context.Context, msgs string, hides []Hide) error {
	if len(hides) == 0 {
		return nil
	}
	o.hideMu.Lock()
	defer o.hideMu.Unlock()
	byID := map[string][]Hide{}
	var ids []string
	for _, h := range hides {
		id := docID(h.Key)
		if _, ok := byID[id]; !ok {
			ids = append(ids, id)
		}
		byID[id] = append(byID[id], h)
	}
	var got struct {
		Docs []struct {
			ID          string `json:"_id"`
			Found       bool   `json:"found"`
			SeqNo       int64  `json:"_seq_no"`
			PrimaryTerm int64  `json:"_primary_term"`
			Source      struct {
				Hidden []string `json:"hidden"`
			} `json:"_source"`
		} `json:"docs"`
	}
	if _, err := o.do(ctx, http.MethodPost, "/"+msgs+"/_mget?_source_includes=hidden", map[string]any{"ids": ids}, &got); err != nil {
		return err
	}
	var lines [][]byte
	for _, d := range got.Docs {
		hidden := d.Source.Hidden
		changed := false
		for _, h := range byID[d.ID] {
			if !contains(hidden, h.UserID) {
				hidden, changed = append(hidden, h.UserID), true
			}
		}
		if !changed {
			continue
		}
		if d.Found {
			lines = append(lines,
				line(map[string]any{"update": map[string]any{"_index": msgs, "_id": d.ID, "if_seq_no": d.SeqNo, "if_primary_term": d.PrimaryTerm}}),
				line(map[string]any{"doc": map[string]any{"hidden": hidden}}))
			continue
		}
		// The message is not indexed yet: a text-less stub carries the hide
		// until the message's upsert fills it in.
		k := byID[d.ID][0].Key
		lines = append(lines,
			line(map[string]any{"create": map[string]any{"_index": msgs, "_id": d.ID}}),
			line(map[string]any{"kind": "msg", "id": sortID(k), "conv": k.ConversationID, "seq": k.Seq, "hidden": hidden}))
	}
	return o.bulk(ctx, lines)
}

// Watermarks implements Index.
func (o *OpenSearch) Watermarks(ctx context.Context, conversationIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(conversationIDs))
	for len(conversationIDs) > 0 {
		n := min(len(conversationIDs), 1000)
		ids := make([]string, n)
		for i, c := range conversationIDs[:n] {
			ids[i] = wmID(c)
		}
		conversationIDs = conversationIDs[n:]
		var got struct {
			Docs []struct {
				Found  bool `json:"found"`
				Source struct {
					Conv string `json:"conv"`
					WM   int64  `json:"wm"`
				} `json:"_source"`
			} `json:"docs"`
		}
		if _, err := o.do(ctx, http.MethodPost, "/"+o.msgs+"/_mget", map[string]any{"ids": ids}, &got); err != nil {
			return nil, err
		}
		for _, d := range got.Docs {
			if d.Found {
				out[d.Source.Conv] = d.Source.WM
			}
		}
	}
	return out, nil
}

type searchResp struct {
	Hits struct {
		Total struct {
			Value int `json:"value"`
		} `json:"total"`
		Hits []struct {
			ID     string          `json:"_id"`
			Score  float64         `json:"_score"`
			Sort   []any           `json:"sort"`
			Source json.RawMessage `json:"_source"`
		} `json:"hits"`
	} `json:"hits"`
}

// WatermarkedConversations implements Index.
func (o *OpenSearch) WatermarkedConversations(ctx context.Context, afterID string, limit int) ([]string, error) {
	body := map[string]any{
		"size": limit, "_source": false, "track_total_hits": false,
		"query": map[string]any{"term": map[string]any{"kind": "wm"}},
		"sort":  []any{map[string]any{"conv": "asc"}},
	}
	if afterID != "" {
		body["search_after"] = []any{afterID}
	}
	var r searchResp
	if _, err := o.do(ctx, http.MethodPost, "/"+o.msgs+"/_search", body, &r); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(r.Hits.Hits))
	for _, h := range r.Hits.Hits {
		out = append(out, strings.TrimPrefix(h.ID, "wm:"))
	}
	return out, nil
}

// SearchMessages implements Index.
func (o *OpenSearch) SearchMessages(ctx context.Context, q MessageQuery) (MessagePage, error) {
	return searchChunked(ctx, q, func(ctx context.Context, c chunk, after *sortKey, size int) ([]rawHit, int, error) {
		var must []any
		for _, t := range q.Query.Terms {
			must = append(must, map[string]any{"term": map[string]any{"text": t}})
		}
		for _, p := range q.Query.Phrases {
			must = append(must, map[string]any{"match_phrase": map[string]any{"text": strings.Join(p, " ")}})
		}
		var should []any
		if len(c.whole) > 0 {
			should = append(should, map[string]any{"terms": map[string]any{"conv": c.whole}})
		}
		for _, s := range c.ranged {
			should = append(should, map[string]any{"bool": map[string]any{"filter": []any{
				map[string]any{"term": map[string]any{"conv": s.ConversationID}},
				map[string]any{"range": map[string]any{"seq": map[string]any{"gt": s.AfterSeq}}},
			}}})
		}
		boolq := map[string]any{
			"must":   must,
			"filter": []any{map[string]any{"bool": map[string]any{"should": should, "minimum_should_match": 1}}},
		}
		if q.Viewer != "" {
			boolq["must_not"] = []any{map[string]any{"term": map[string]any{"hidden": q.Viewer}}}
		}
		body := map[string]any{"size": size, "_source": false, "track_total_hits": true, "query": map[string]any{"bool": boolq}}
		if q.Order == Relevance {
			body["sort"] = []any{map[string]any{"_score": "desc"}, map[string]any{"id": "desc"}}
			if after != nil {
				body["search_after"] = []any{after.Score, after.ID}
			}
		} else {
			body["sort"] = []any{map[string]any{"sent": "desc"}, map[string]any{"id": "desc"}}
			if after != nil {
				body["search_after"] = []any{sentField(after.Sent), after.ID}
			}
		}
		var r searchResp
		if _, err := o.do(ctx, http.MethodPost, "/"+o.msgs+"/_search", body, &r); err != nil {
			return nil, 0, err
		}
		out := make([]rawHit, 0, len(r.Hits.Hits))
		for _, h := range r.Hits.Hits {
			k, err := parseDocID(h.ID)
			if err != nil || len(h.Sort) < 2 {
				continue
			}
			rh := rawHit{Key: k, sortKey: sortKey{ID: sortID(k)}}
			if q.Order == Relevance {
				rh.Score, _ = h.Sort[0].(float64)
			} else {
				s, _ := h.Sort[0].(string)
				rh.Sent = parseSent(s)
			}
			out = append(out, rh)
		}
		return out, r.Hits.Total.Value, nil
	})
}

// SearchUsers implements Index.
func (o *OpenSearch) SearchUsers(ctx context.Context, q UserQuery) (UserPage, error) {
	var page UserPage
	pu, pw := userPrefixes(q.Prefix)
	after, err := parseUserCursor(q.After)
	if err != nil || pu == "" || q.First <= 0 {
		return page, err
	}
	body := map[string]any{
		"size": q.First + 1, "_source": false, "track_total_hits": false,
		"query": map[string]any{"bool": map[string]any{"should": []any{
			map[string]any{"prefix": map[string]any{"username": pu}},
			map[string]any{"prefix": map[string]any{"words": pw}},
		}, "minimum_should_match": 1}},
		"sort": []any{map[string]any{"username": "asc"}, map[string]any{"uid": "asc"}},
	}
	if after != "" {
		name, id, _ := strings.Cut(after, "\x00")
		body["search_after"] = []any{name, id}
	}
	var r searchResp
	if _, err := o.do(ctx, http.MethodPost, "/"+o.users+"/_search", body, &r); err != nil {
		return page, err
	}
	for i, h := range r.Hits.Hits {
		if i == q.First {
			page.HasNext = true
			break
		}
		name, _ := h.Sort[0].(string)
		page.IDs = append(page.IDs, h.ID)
		page.Cursors = append(page.Cursors, userCursor(name+"\x00"+h.ID))
	}
	return page, nil
}

// scan pages through every document of index matching query, ordered by
// the keyword field sortField.
func (o *OpenSearch) scan(ctx context.Context, index string, query any, sortField string, source []string, fn func(id string, src json.RawMessage) error) error {
	var after []any
	for {
		body := map[string]any{"size": 1000, "query": query, "sort": []any{map[string]any{sortField: "asc"}}, "track_total_hits": false}
		if source == nil {
			body["_source"] = false
		} else {
			body["_source"] = source
		}
		if after != nil {
			body["search_after"] = after
		}
		var r searchResp
		if _, err := o.do(ctx, http.MethodPost, "/"+url.PathEscape(index)+"/_search", body, &r); err != nil {
			return err
		}
		for _, h := range r.Hits.Hits {
			if err := fn(h.ID, h.Source); err != nil {
				return err
			}
			after = h.Sort
		}
		if len(r.Hits.Hits) < 1000 {
			return nil
		}
	}
}

// Hides implements Rebuilder.
func (o *OpenSearch) Hides(ctx context.Context, fn func(Hide) error) error {
	return o.scan(ctx, o.msgs, map[string]any{"exists": map[string]any{"field": "hidden"}}, "id", []string{"hidden"}, func(id string, src json.RawMessage) error {
		k, err := parseDocID(id)
		if err != nil {
			return nil
		}
		var s struct {
			Hidden []string `json:"hidden"`
		}
		if err := json.Unmarshal(src, &s); err != nil {
			return fmt.Errorf("search: decode hides of %s: %w", id, err)
		}
		for _, u := range s.Hidden {
			if err := fn(Hide{Key: k, UserID: u}); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteAll drops the aliases' indices; tests call it to clean up.
func (o *OpenSearch) DeleteAll(ctx context.Context) error {
	_, err := o.do(ctx, http.MethodDelete, "/"+o.msgs+"_*,"+o.users+"_*", nil, nil)
	return err
}

// Close implements Index.
func (o *OpenSearch) Close() error { return o.c.Close() }
