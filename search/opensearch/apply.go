package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"messenger/search"
	"messenger/search/internal/paging"
)

// Apply implements search.Index.
func (o *Index) Apply(ctx context.Context, b search.Batch) error {
	if err := o.ensure(ctx); err != nil {
		return err
	}
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
func (o *Index) bulk(ctx context.Context, lines [][]byte) error {
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
				err = fmt.Errorf("%w: %v", search.ErrUnavailable, err)
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

func (o *Index) apply(ctx context.Context, msgs, users string, b search.Batch) error {
	var lines [][]byte
	for _, m := range b.Upserts {
		id := paging.DocID(m.Key())
		// A partial update keeps the document's hidden-for set.
		lines = append(lines,
			line(map[string]any{"update": map[string]any{"_index": msgs, "_id": id, "retry_on_conflict": 3}}),
			line(map[string]any{"doc": map[string]any{
				"kind": "msg", "id": paging.SortID(m.Key()), "conv": m.ConversationID, "seq": m.Seq, "sender": m.SenderID,
				"text": search.IndexText(m.Body), "sent": paging.SentField(m.SentAt.UnixMilli()),
			}, "doc_as_upsert": true}))
	}
	for _, k := range b.Deletes {
		lines = append(lines, line(map[string]any{"delete": map[string]any{"_index": msgs, "_id": paging.DocID(k)}}))
	}
	for _, u := range b.Users {
		name, words := search.UserTerms(u)
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
			line(map[string]any{"index": map[string]any{"_index": msgs, "_id": paging.WatermarkID(c)}}),
			line(map[string]any{"kind": "wm", "conv": c, "wm": seq}))
	}
	if !b.SyncedAt.IsZero() {
		lines = append(lines,
			line(map[string]any{"index": map[string]any{"_index": msgs, "_id": paging.SyncedID}}),
			line(map[string]any{"kind": "sync", "wm": b.SyncedAt.UnixMilli()}))
	}
	return o.bulk(ctx, lines)
}

// applyHides adds users to hidden-for sets. The test distribution has no
// scripting, so it is a read-modify-write guarded by the documents' seq_no
// (optimistic concurrency): a concurrent change makes the batch fail with
// search.ErrUnavailable and the caller retries it.
func (o *Index) applyHides(ctx context.Context, msgs string, hides []search.Hide) error {
	if len(hides) == 0 {
		return nil
	}
	o.hideMu.Lock()
	defer o.hideMu.Unlock()
	byID := map[string][]search.Hide{}
	var ids []string
	for _, h := range hides {
		id := paging.DocID(h.Key)
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
			if !slices.Contains(hidden, h.UserID) {
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
			line(map[string]any{"kind": "msg", "id": paging.SortID(k), "conv": k.ConversationID, "seq": k.Seq, "hidden": hidden}))
	}
	return o.bulk(ctx, lines)
}
