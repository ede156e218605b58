package search

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"messenger/storage"
)

// sortKey is a hit's position in the result order; cursors carry it.
// Newest sorts by Sent (ms) descending, Relevance by Score descending, both
// then by ID descending so every hit has a unique position.
type sortKey struct {
	Score float64 `json:"r,omitempty"`
	Sent  int64   `json:"t,omitempty"`
	ID    string  `json:"i"`
}

type rawHit struct {
	Key
	sortKey
}

func docID(k Key) string { return storage.MessageID(k.ConversationID, k.Seq) }

// sortID is the tie-breaker of both orders: messages sent in the same
// millisecond sort by conversation, then by seq (zero-padded so it sorts as
// a number).
func sortID(k Key) string { return fmt.Sprintf("%s/%019d", k.ConversationID, k.Seq) }

func parseDocID(id string) (Key, error) {
	c, seq, err := storage.ParseMessageID(id)
	return Key{ConversationID: c, Seq: seq}, err
}

func encodeCursor(o Order, k sortKey) string {
	b, _ := json.Marshal(struct {
		O Order `json:"o"`
		sortKey
	}{o, k})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(o Order, c string) (*sortKey, error) {
	if c == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, ErrBadCursor
	}
	var v struct {
		O Order `json:"o"`
		sortKey
	}
	if json.Unmarshal(raw, &v) != nil || v.O != o || v.ID == "" {
		return nil, ErrBadCursor
	}
	return &v.sortKey, nil
}

// before reports whether a sorts before b in order o.
func before(o Order, a, b sortKey) bool {
	if o == Relevance {
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
// thousand clauses. Scopes beyond a chunk's capacity are searched by further
// queries whose results are merged in order, which is exact because all
// chunks search one index with one scoring. (Lucene counts every clause
// of the whole query against its limit of 1,024: a ranged scope costs 3.)
const (
	maxTermsPerChunk  = 50000
	maxRangesPerChunk = 250
)

type chunk struct {
	whole  []string // conversation ids searched from seq 1
	ranged []Scope  // conversations searched from AfterSeq+1
}

func chunks(scopes []Scope) []chunk {
	var whole []string
	var ranged []Scope
	for _, s := range scopes {
		if s.AfterSeq <= 0 {
			whole = append(whole, s.ConversationID)
		} else {
			ranged = append(ranged, s)
		}
	}
	var out []chunk
	for len(whole) > 0 || len(ranged) > 0 {
		var c chunk
		n := min(len(whole), maxTermsPerChunk)
		c.whole, whole = whole[:n], whole[n:]
		n = min(len(ranged), maxRangesPerChunk)
		c.ranged, ranged = ranged[:n], ranged[n:]
		out = append(out, c)
	}
	return out
}

// chunkSearch runs one engine query over one chunk: up to size hits after
// `after` in q.Order, and the chunk's total hit count.
type chunkSearch func(ctx context.Context, c chunk, after *sortKey, size int) ([]rawHit, int, error)

// searchChunked is SearchMessages for every backend: it validates q, runs
// one query per chunk of scopes and merges the pages.
func searchChunked(ctx context.Context, q MessageQuery, run chunkSearch) (MessagePage, error) {
	var page MessagePage
	if q.Order == "" {
		q.Order = Newest
	}
	if q.Order != Newest && q.Order != Relevance {
		return page, fmt.Errorf("search: unknown order %q", q.Order)
	}
	if q.First <= 0 || q.Query.Empty() {
		return page, nil
	}
	after, err := decodeCursor(q.Order, q.After)
	if err != nil {
		return page, err
	}
	var all []rawHit
	for _, c := range chunks(q.Scopes) {
		hits, total, err := run(ctx, c, after, q.First+1)
		if err != nil {
			return page, err
		}
		page.Total += total
		all = append(all, hits...)
	}
	sort.Slice(all, func(i, j int) bool { return before(q.Order, all[i].sortKey, all[j].sortKey) })
	if len(all) > q.First {
		all, page.HasNext = all[:q.First], true
	}
	page.Hits = make([]MessageHit, len(all))
	for i, h := range all {
		page.Hits[i] = MessageHit{Key: h.Key, Cursor: encodeCursor(q.Order, h.sortKey)}
	}
	return page, nil
}

// sentField is the zero-padded send time in ms: it sorts as a string, so
// both backends sort and page on it the same way.
func sentField(ms int64) string { return fmt.Sprintf("%015d", ms) }

func parseSent(s string) int64 {
	n, _ := strconv.ParseInt(strings.TrimLeft(s, "0"), 10, 64)
	return n
}

// userCursor pages users by username key.
func userCursor(usernameKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("u:" + usernameKey))
}

func parseUserCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(raw), "u:") {
		return "", ErrBadCursor
	}
	return string(raw[2:]), nil
}

// userTerms are the prefixes a user is found by: the folded username and
// each folded word of the display name, plus the whole folded display name.
func userTerms(u User) (username string, words []string) {
	username = fold(u.Username)
	for _, t := range Tokenize(u.DisplayName) {
		words = append(words, t.Term)
	}
	if len(words) > 1 {
		words = append(words, strings.Join(words, " "))
	}
	return username, words
}

// userPrefixes folds a user query: as a username prefix (which keeps '_',
// '.' and '-') and as a display-name prefix (words joined by one space, so
// "ann lee" finds "Ann Lee").
func userPrefixes(p string) (username, words string) {
	return fold(strings.TrimSpace(p)), userWords(p)
}

func userWords(p string) string {
	toks := Tokenize(p)
	terms := make([]string, len(toks))
	for i, t := range toks {
		terms[i] = t.Term
	}
	return strings.Join(terms, " ")
}
