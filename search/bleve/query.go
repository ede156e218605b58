package bleve

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	blevesearch "github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"messenger/search"
	"messenger/search/internal/paging"
)

// Watermarks implements search.Index.
func (b *Index) Watermarks(ctx context.Context, conversationIDs []string) (map[string]int64, error) {
	g := b.live()
	out := make(map[string]int64, len(conversationIDs))
	for _, c := range conversationIDs {
		d, err := g.messages.Document(paging.WatermarkID(c))
		if err != nil {
			return nil, fmt.Errorf("search: bleve watermark %s: %w", c, err)
		}
		if d == nil {
			continue
		}
		d.VisitFields(func(f index.Field) {
			if nf, ok := f.(index.NumericField); ok && f.Name() == "wm" {
				if v, err := nf.Number(); err == nil {
					out[c] = int64(v)
				}
			}
		})
	}
	return out, nil
}

// SyncedAt implements search.Index.
func (b *Index) SyncedAt(ctx context.Context) (time.Time, error) {
	d, err := b.live().messages.Document(paging.SyncedID)
	if err != nil {
		return time.Time{}, fmt.Errorf("search: bleve synced-at: %w", err)
	}
	var at time.Time
	if d != nil {
		d.VisitFields(func(f index.Field) {
			if nf, ok := f.(index.NumericField); ok && f.Name() == "wm" {
				if v, err := nf.Number(); err == nil {
					at = time.UnixMilli(int64(v)).UTC()
				}
			}
		})
	}
	return at, nil
}

// WatermarkedConversations implements search.Index.
func (b *Index) WatermarkedConversations(ctx context.Context, afterID string, limit int) ([]string, error) {
	g := b.live()
	q := query.NewTermQuery("wm")
	q.SetField("kind")
	req := blevesearch.NewSearchRequestOptions(q, limit, 0, false)
	req.SortBy([]string{"_id"})
	req.Score = "none"
	if afterID != "" {
		req.SetSearchAfter([]string{paging.WatermarkID(afterID)})
	}
	res, err := g.messages.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: bleve list watermarks: %w", err)
	}
	out := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = strings.TrimPrefix(h.ID, "wm:")
	}
	return out, nil
}

// SearchMessages implements search.Index.
func (b *Index) SearchMessages(ctx context.Context, q search.MessageQuery) (search.MessagePage, error) {
	g := b.live()
	return paging.Search(ctx, q, func(ctx context.Context, c paging.Chunk, after *paging.SortKey, size int) ([]paging.Hit, int, error) {
		return bleveChunk(ctx, g.messages, q, c, after, size)
	})
}

func bleveChunk(ctx context.Context, idx blevesearch.Index, q search.MessageQuery, c paging.Chunk, after *paging.SortKey, size int) ([]paging.Hit, int, error) {
	var must []query.Query
	for _, t := range q.Query.Terms {
		tq := query.NewTermQuery(t)
		tq.SetField("text")
		must = append(must, tq)
	}
	for _, p := range q.Query.Phrases {
		must = append(must, query.NewPhraseQuery(p, "text"))
	}
	var scope []query.Query
	for _, id := range c.Whole {
		tq := query.NewTermQuery(id)
		tq.SetField("conv")
		scope = append(scope, tq)
	}
	for _, s := range c.Ranged {
		tq := query.NewTermQuery(s.ConversationID)
		tq.SetField("conv")
		lo, incl := float64(s.AfterSeq), false
		rq := query.NewNumericRangeInclusiveQuery(&lo, nil, &incl, nil)
		rq.SetField("seq")
		scope = append(scope, query.NewConjunctionQuery([]query.Query{tq, rq}))
	}
	bq := query.NewBooleanQuery(must, nil, nil)
	if q.Viewer != "" {
		hq := query.NewTermQuery(q.Viewer)
		hq.SetField("hidden")
		bq.AddMustNot(hq)
	}
	bq.AddFilter(query.NewDisjunctionQuery(scope))
	req := blevesearch.NewSearchRequestOptions(bq, size, 0, false)
	req.Fields = []string{"conv"}
	if q.Order == search.Relevance {
		req.SortBy([]string{"-_score", "-sid"})
		if after != nil {
			req.SetSearchAfter([]string{strconv.FormatFloat(after.Score, 'g', -1, 64), after.ID})
		}
	} else {
		req.SortBy([]string{"-sent", "-sid"})
		req.Score = "none"
		if after != nil {
			req.SetSearchAfter([]string{paging.SentField(after.Sent), after.ID})
		}
	}
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, 0, fmt.Errorf("search: bleve search: %w", err)
	}
	return bleveHits(res.Hits, q.Order), int(res.Total), nil
}

func bleveHits(hits bsearch.DocumentMatchCollection, o search.Order) []paging.Hit {
	out := make([]paging.Hit, 0, len(hits))
	for _, h := range hits {
		k, err := paging.ParseDocID(h.ID)
		if err != nil {
			continue
		}
		rh := paging.Hit{Key: k, SortKey: paging.SortKey{ID: paging.SortID(k)}}
		if o == search.Relevance {
			rh.Score = h.Score
		} else if len(h.Sort) > 0 {
			rh.Sent = paging.ParseSent(h.Sort[0])
		}
		out = append(out, rh)
	}
	return out
}

// SearchUsers implements search.Index.
func (b *Index) SearchUsers(ctx context.Context, q search.UserQuery) (search.UserPage, error) {
	var page search.UserPage
	pu, pw := search.UserPrefixes(q.Prefix)
	after, err := paging.ParseUserCursor(q.After)
	if err != nil || pu == "" || q.First <= 0 {
		return page, err
	}
	g := b.live()
	uq := query.NewPrefixQuery(pu)
	uq.SetField("username")
	either := []query.Query{uq}
	if pw != "" {
		wq := query.NewPrefixQuery(pw)
		wq.SetField("words")
		either = append(either, wq)
	}
	req := blevesearch.NewSearchRequestOptions(query.NewDisjunctionQuery(either), q.First+1, 0, false)
	req.SortBy([]string{"username", "_id"})
	req.Score = "none"
	if after != "" {
		name, id, _ := strings.Cut(after, "\x00")
		req.SetSearchAfter([]string{name, id})
	}
	res, err := g.users.SearchInContext(ctx, req)
	if err != nil {
		return page, fmt.Errorf("search: bleve users: %w", err)
	}
	for i, h := range res.Hits {
		if i == q.First {
			page.HasNext = true
			break
		}
		page.IDs = append(page.IDs, h.ID)
		page.Cursors = append(page.Cursors, paging.UserCursor(h.Sort[0]+"\x00"+h.ID))
	}
	return page, nil
}

// Hides implements search.Rebuilder.
func (b *Index) Hides(ctx context.Context, fn func(search.Hide) error) error {
	g := b.live()
	after := ""
	for {
		q := query.NewWildcardQuery("*")
		q.SetField("hidden")
		req := blevesearch.NewSearchRequestOptions(q, 1000, 0, false)
		req.SortBy([]string{"_id"})
		req.Score = "none"
		if after != "" {
			req.SetSearchAfter([]string{after})
		}
		res, err := g.messages.SearchInContext(ctx, req)
		if err != nil {
			return fmt.Errorf("search: bleve list hides: %w", err)
		}
		for _, h := range res.Hits {
			k, err := paging.ParseDocID(h.ID)
			if err != nil {
				continue
			}
			_, users, err := storedMessage(g.messages, h.ID)
			if err != nil {
				return err
			}
			sort.Strings(users)
			for _, u := range users {
				if err := fn(search.Hide{Key: k, UserID: u}); err != nil {
					return err
				}
			}
			after = h.ID
		}
		if len(res.Hits) < 1000 {
			return nil
		}
	}
}
