package bleve

import (
	"context"
	"encoding/json"
	"fmt"

	blevesearch "github.com/blevesearch/bleve/v2"
	index "github.com/blevesearch/bleve_index_api"

	"messenger/search"
	"messenger/search/internal/paging"
)

// Apply implements search.Index.
func (b *Index) Apply(ctx context.Context, batch search.Batch) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.apply(ctx, b.gen, batch)
}

func (b *Index) apply(ctx context.Context, g *indexes, batch search.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.hideMu.Lock()
	defer b.hideMu.Unlock()
	mb := g.messages.NewBatch()
	// The documents this batch writes, with their hidden-for sets: bleve
	// replaces whole documents, so each is written once, in its final state.
	type state struct {
		msg    *search.Message
		hidden []string
		gone   bool
	}
	docs := map[string]*state{}
	var order []string
	load := func(id string) (*state, error) {
		if st, ok := docs[id]; ok {
			return st, nil
		}
		m, h, err := storedMessage(g.messages, id)
		if err != nil {
			return nil, err
		}
		st := &state{msg: m, hidden: h}
		docs[id] = st
		order = append(order, id)
		return st, nil
	}
	for _, m := range batch.Upserts {
		st, err := load(paging.DocID(m.Key()))
		if err != nil {
			return err
		}
		m := m
		st.msg, st.gone = &m, false
	}
	for _, k := range batch.Deletes {
		st, err := load(paging.DocID(k))
		if err != nil {
			return err
		}
		st.msg, st.hidden, st.gone = nil, nil, true
	}
	for _, h := range batch.Hides {
		st, err := load(paging.DocID(h.Key))
		if err != nil {
			return err
		}
		if !st.gone && !contains(st.hidden, h.UserID) {
			st.hidden = append(st.hidden, h.UserID)
		}
	}
	for _, id := range order {
		st := docs[id]
		if st.gone {
			mb.Delete(id)
			continue
		}
		if err := mb.Index(id, messageDoc(id, st.msg, st.hidden)); err != nil {
			return fmt.Errorf("search: bleve index %s: %w", id, err)
		}
	}
	if err := g.messages.Batch(mb); err != nil {
		return fmt.Errorf("search: bleve batch: %w", err)
	}
	if len(batch.Users) > 0 {
		ub := g.users.NewBatch()
		for _, u := range batch.Users {
			name, words := search.UserTerms(u)
			if err := ub.Index(u.ID, map[string]any{"username": name, "words": words}); err != nil {
				return fmt.Errorf("search: bleve index user %s: %w", u.ID, err)
			}
		}
		if err := g.users.Batch(ub); err != nil {
			return fmt.Errorf("search: bleve users batch: %w", err)
		}
	}
	if len(batch.Watermarks) > 0 || !batch.SyncedAt.IsZero() {
		wb := g.messages.NewBatch()
		for c, seq := range batch.Watermarks {
			if err := wb.Index(paging.WatermarkID(c), map[string]any{"kind": "wm", "conv": c, "wm": float64(seq)}); err != nil {
				return fmt.Errorf("search: bleve watermark %s: %w", c, err)
			}
		}
		if !batch.SyncedAt.IsZero() {
			if err := wb.Index(paging.SyncedID, map[string]any{"kind": "sync", "wm": float64(batch.SyncedAt.UnixMilli())}); err != nil {
				return fmt.Errorf("search: bleve synced-at: %w", err)
			}
		}
		if err := g.messages.Batch(wb); err != nil {
			return fmt.Errorf("search: bleve watermarks: %w", err)
		}
	}
	return nil
}

// messageDoc is a message's bleve document; m nil is a stub that only
// carries hides received before the message itself.
func messageDoc(id string, m *search.Message, hidden []string) map[string]any {
	k, _ := paging.ParseDocID(id)
	d := map[string]any{"kind": "msg", "conv": k.ConversationID, "seq": float64(k.Seq), "sid": paging.SortID(k)}
	if m != nil {
		src, _ := json.Marshal(m)
		d["sender"], d["text"], d["sent"], d["src"] = m.SenderID, search.IndexText(m.Body), paging.SentField(m.SentAt.UnixMilli()), string(src)
	}
	if len(hidden) > 0 {
		d["hidden"] = hidden
	}
	return d
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// storedMessage reads back what bleve stored of a message: its source
// (bleve cannot update a field in place, so a hide re-indexes the whole
// document) and its hidden-for set.
func storedMessage(idx blevesearch.Index, id string) (m *search.Message, hidden []string, err error) {
	d, err := idx.Document(id)
	if err != nil {
		return nil, nil, fmt.Errorf("search: bleve get %s: %w", id, err)
	}
	if d == nil {
		return nil, nil, nil
	}
	var src []byte
	d.VisitFields(func(f index.Field) {
		switch f.Name() {
		case "hidden":
			hidden = append(hidden, string(f.Value()))
		case "src":
			src = append([]byte(nil), f.Value()...)
		}
	})
	if len(src) > 0 {
		m = new(search.Message)
		if err := json.Unmarshal(src, m); err != nil {
			return nil, nil, fmt.Errorf("search: bleve decode %s: %w", id, err)
		}
	}
	return m, hidden, nil
}
