package opensearch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"messenger/search"
	"messenger/search/internal/paging"
)

// SyncedAt implements search.Index.
func (o *Index) SyncedAt(ctx context.Context) (time.Time, error) {
	if err := o.ensure(ctx); err != nil {
		return time.Time{}, err
	}
	var got struct {
		Found  bool `json:"found"`
		Source struct {
			WM int64 `json:"wm"`
		} `json:"_source"`
	}
	status, err := o.do(ctx, http.MethodGet, "/"+o.msgs+"/_doc/"+paging.SyncedID, nil, &got)
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

// Watermarks implements search.Index.
func (o *Index) Watermarks(ctx context.Context, conversationIDs []string) (map[string]int64, error) {
	if err := o.ensure(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(conversationIDs))
	for len(conversationIDs) > 0 {
		n := min(len(conversationIDs), 1000)
		ids := make([]string, n)
		for i, c := range conversationIDs[:n] {
			ids[i] = paging.WatermarkID(c)
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

// WatermarkedConversations implements search.Index.
func (o *Index) WatermarkedConversations(ctx context.Context, afterID string, limit int) ([]string, error) {
	if err := o.ensure(ctx); err != nil {
		return nil, err
	}
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
		out = append(out, paging.WatermarkConversation(h.ID))
	}
	return out, nil
}

// SearchMessages implements search.Index.
func (o *Index) SearchMessages(ctx context.Context, q search.MessageQuery) (search.MessagePage, error) {
	if err := o.ensure(ctx); err != nil {
		return search.MessagePage{}, err
	}
	return paging.Search(ctx, q, func(ctx context.Context, c paging.Chunk, after *paging.SortKey, size int) ([]paging.Hit, int, error) {
		var must []any
		for _, t := range q.Query.Terms {
			must = append(must, map[string]any{"term": map[string]any{"text": t}})
		}
		for _, p := range q.Query.Phrases {
			must = append(must, map[string]any{"match_phrase": map[string]any{"text": strings.Join(p, " ")}})
		}
		var should []any
		if len(c.Whole) > 0 {
			should = append(should, map[string]any{"terms": map[string]any{"conv": c.Whole}})
		}
		for _, s := range c.Ranged {
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
		if q.Order == search.Relevance {
			body["sort"] = []any{map[string]any{"_score": "desc"}, map[string]any{"id": "desc"}}
			if after != nil {
				body["search_after"] = []any{after.Score, after.ID}
			}
		} else {
			body["sort"] = []any{map[string]any{"sent": "desc"}, map[string]any{"id": "desc"}}
			if after != nil {
				body["search_after"] = []any{paging.SentField(after.Sent), after.ID}
			}
		}
		var r searchResp
		if _, err := o.do(ctx, http.MethodPost, "/"+o.msgs+"/_search", body, &r); err != nil {
			return nil, 0, err
		}
		out := make([]paging.Hit, 0, len(r.Hits.Hits))
		for _, h := range r.Hits.Hits {
			k, err := paging.ParseDocID(h.ID)
			if err != nil || len(h.Sort) < 2 {
				continue
			}
			rh := paging.Hit{Key: k, SortKey: paging.SortKey{ID: paging.SortID(k)}}
			if q.Order == search.Relevance {
				rh.Score, _ = h.Sort[0].(float64)
			} else {
				s, _ := h.Sort[0].(string)
				rh.Sent = paging.ParseSent(s)
			}
			out = append(out, rh)
		}
		return out, r.Hits.Total.Value, nil
	})
}

// SearchUsers implements search.Index.
func (o *Index) SearchUsers(ctx context.Context, q search.UserQuery) (search.UserPage, error) {
	if err := o.ensure(ctx); err != nil {
		return search.UserPage{}, err
	}
	var page search.UserPage
	pu, pw := search.UserPrefixes(q.Prefix)
	after, err := paging.ParseUserCursor(q.After)
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
		page.Cursors = append(page.Cursors, paging.UserCursor(name+"\x00"+h.ID))
	}
	return page, nil
}

// scan pages through every document of index matching query, ordered by
// the keyword field sortField.
func (o *Index) scan(ctx context.Context, index string, query any, sortField string, source []string, fn func(id string, src json.RawMessage) error) error {
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

// Hides implements search.Rebuilder.
func (o *Index) Hides(ctx context.Context, fn func(search.Hide) error) error {
	if err := o.ensure(ctx); err != nil {
		return err
	}
	return o.scan(ctx, o.msgs, map[string]any{"exists": map[string]any{"field": "hidden"}}, "id", []string{"hidden"}, func(id string, src json.RawMessage) error {
		k, err := paging.ParseDocID(id)
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
			if err := fn(search.Hide{Key: k, UserID: u}); err != nil {
				return err
			}
		}
		return nil
	})
}
