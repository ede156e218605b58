// Package paging is what the search engines (search/bleve,
// search/opensearch) share so that they answer alike: the ids of the
// documents they hold, the sort keys and cursors of message and user pages,
// and the split of a viewer's scopes into engine queries whose pages merge
// exactly.
package paging

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"messenger/search"
	"messenger/storage"
)

// SortKey is a hit's position in the result order; cursors carry it.
// Newest sorts by Sent (ms) descending, Relevance by Score descending, both
// then by ID descending so every hit has a unique position.
type SortKey struct {
	Score float64 `json:"r,omitempty"`
	Sent  int64   `json:"t,omitempty"`
	ID    string  `json:"i"`
}

// Hit is one message an engine query found, with its place in the order.
type Hit struct {
	search.Key
	SortKey
}

// DocID is the engines' document id of a message: its global message id.
func DocID(k search.Key) string { return storage.MessageID(k.ConversationID, k.Seq) }

// SortID is the tie-breaker of both orders: messages sent in the same
// millisecond sort by conversation, then by seq (zero-padded so it sorts as
// a number).
func SortID(k search.Key) string { return fmt.Sprintf("%s/%019d", k.ConversationID, k.Seq) }

// ParseDocID is the inverse of DocID.
func ParseDocID(id string) (search.Key, error) {
	c, seq, err := storage.ParseMessageID(id)
	return search.Key{ConversationID: c, Seq: seq}, err
}

func encodeCursor(o search.Order, k SortKey) string {
	b, _ := json.Marshal(struct {
		O search.Order `json:"o"`
		SortKey
	}{o, k})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(o search.Order, c string) (*SortKey, error) {
	if c == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, search.ErrBadCursor
	}
	var v struct {
		O search.Order `json:"o"`
		SortKey
	}
	if json.Unmarshal(raw, &v) != nil || v.O != o || v.ID == "" {
		return nil, search.ErrBadCursor
	}
	return &v.SortKey, nil
}

// before reports whether a sorts before b in order o.
func before(o search.Order, a, b SortKey) bool {
	if o == search.Relevance {
		if a.Score != b.Score {
			return a.Score > b.Score
		}
	} else if a.Sent != b.Sent {
		return a.Sent > b.Sent
	}
	return a.ID > b.ID
}

// Scope chunking: a user may be in tens of thousands of conversations.
// Conversations seen from the start go into one terms filter (OpenSearch
// accepts up to 65,536 terms); conversations joined later need one
// (conversation, seq range) clause each, and a query holds at most about a
// thousand clauses. Scopes beyond a Chunk's capacity are searched by further
// queries whose results are merged in order, which is exact because all
// chunks search one index with one scoring. (Lucene counts every clause
// of the whole query against its limit of 1,024: a ranged scope costs 3.)
const (
	maxTermsPerChunk  = 50000
	maxRangesPerChunk = 250
)

// Chunk is the part of a viewer's scopes that one engine query covers.
type Chunk struct {
	Whole  []string       // conversation ids searched from seq 1
	Ranged []search.Scope // conversations searched from AfterSeq+1
}

func chunks(scopes []search.Scope) []Chunk {
	var whole []string
	var ranged []search.Scope
	for _, s := range scopes {
		if s.AfterSeq <= 0 {
			whole = append(whole, s.ConversationID)
		} else {
			ranged = append(ranged, s)
		}
	}
	var out []Chunk
	for len(whole) > 0 || len(ranged) > 0 {
		var c Chunk
		n := min(len(whole), maxTermsPerChunk)
		c.Whole, whole = whole[:n], whole[n:]
		n = min(len(ranged), maxRangesPerChunk)
		c.Ranged, ranged = ranged[:n], ranged[n:]
		out = append(out, c)
	}
	return out
}

// ChunkSearch runs one engine query over one Chunk: up to size hits after
// `after` in q.Order, and the Chunk's total hit count.
type ChunkSearch func(ctx context.Context, c Chunk, after *SortKey, size int) ([]Hit, int, error)

// Search is SearchMessages for every backend: it validates q, runs one
// query per Chunk of scopes and merges the pages.
func Search(ctx context.Context, q search.MessageQuery, run ChunkSearch) (search.MessagePage, error) {
	var page search.MessagePage
	if q.Order == "" {
		q.Order = search.Newest
	}
	if q.Order != search.Newest && q.Order != search.Relevance {
		return page, fmt.Errorf("search: unknown order %q", q.Order)
	}
	if q.First <= 0 || q.Query.Empty() {
		return page, nil
	}
	after, err := decodeCursor(q.Order, q.After)
	if err != nil {
		return page, err
	}
	var all []Hit
	for _, c := range chunks(q.Scopes) {
		hits, total, err := run(ctx, c, after, q.First+1)
		if err != nil {
			return page, err
		}
		page.Total += total
		all = append(all, hits...)
	}
	sort.Slice(all, func(i, j int) bool { return before(q.Order, all[i].SortKey, all[j].SortKey) })
	if len(all) > q.First {
		all, page.HasNext = all[:q.First], true
	}
	page.Hits = make([]search.MessageHit, len(all))
	for i, h := range all {
		page.Hits[i] = search.MessageHit{Key: h.Key, Cursor: encodeCursor(q.Order, h.SortKey)}
	}
	return page, nil
}

// SentField is the zero-padded send time in ms: it sorts as a string, so
// both backends sort and page on it the same way.
func SentField(ms int64) string { return fmt.Sprintf("%015d", ms) }

// ParseSent is the inverse of SentField.
func ParseSent(s string) int64 {
	n, _ := strconv.ParseInt(strings.TrimLeft(s, "0"), 10, 64)
	return n
}

// UserCursor pages users by username key.
func UserCursor(usernameKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("u:" + usernameKey))
}

// ParseUserCursor returns the username key of a UserCursor ("" for none),
// or search.ErrBadCursor.
func ParseUserCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(raw), "u:") {
		return "", search.ErrBadCursor
	}
	return string(raw[2:]), nil
}

// Documents beside the messages, in the messages index of both engines.

// WatermarkID is the id of the document holding a conversation's watermark.
func WatermarkID(conversationID string) string { return watermarkPrefix + conversationID }

// WatermarkConversation is the conversation of a WatermarkID.
func WatermarkConversation(id string) string { return strings.TrimPrefix(id, watermarkPrefix) }

const watermarkPrefix = "wm:"

// SyncedID is the document holding Batch.SyncedAt (in unix ms, in the
// watermark field: no mapping change). Message ids always contain a dot.
const SyncedID = "sync:indexer"
