package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/whitespace"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

var (
	_ Index     = (*Bleve)(nil)
	_ Rebuilder = (*Bleve)(nil)
)

// BleveConfig configures the embedded index.
type BleveConfig struct {
	// Dir holds the index generations and the CURRENT pointer; it is
	// created if missing. Required.
	Dir string
}

// Bleve is the embedded Index: bleve indexes on local disk, one process per
// directory (bleve locks it). Layout: Dir/CURRENT names the live generation,
// Dir/<generation>/{messages,users}.bleve hold it. A generation's name
// starts with the mapping version, so a mapping change rebuilds into a new
// directory and flips CURRENT (atomically, by rename).
type Bleve struct {
	dir string
	mu  sync.RWMutex // guards gen; writers take it shared, Promote exclusively
	gen *bleveGen
	// hideMu serialises the read-modify-write of hidden-for sets.
	hideMu sync.Mutex
}

type bleveGen struct {
	name     string
	dir      string
	messages bleve.Index
	users    bleve.Index
}

const (
	// bleveMappingVersion changes whenever the mapping below changes.
	bleveMappingVersion = "v1"
	wsAnalyzer          = "messenger_ws"
)

// NewBleve opens (or creates) the embedded index in cfg.Dir.
func NewBleve(cfg BleveConfig) (*Bleve, error) {
	if cfg.Dir == "" {
		return nil, errors.New("search: BleveConfig.Dir is required")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("search: create %s: %w", cfg.Dir, err)
	}
	b := &Bleve{dir: cfg.Dir}
	cur, err := os.ReadFile(filepath.Join(cfg.Dir, "CURRENT"))
	// An older mapping version stays live until `reindex` replaces it: a
	// fresh index would know no conversation to catch up.
	if err == nil && strings.TrimSpace(string(cur)) != "" {
		b.gen, err = openBleveGen(filepath.Join(cfg.Dir, strings.TrimSpace(string(cur))))
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	// No index yet: start the first generation.
	g, err := b.newGen()
	if err != nil {
		return nil, err
	}
	b.gen = g
	if err := b.writeCurrent(g.name); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *Bleve) newGen() (*bleveGen, error) {
	name := bleveMappingVersion + "_" + time.Now().UTC().Format("20060102T150405.000000000")
	dir := filepath.Join(b.dir, name)
	mi, err := bleve.NewUsing(filepath.Join(dir, "messages.bleve"), messageMapping(), scorch.Name, scorch.Name, scorchConfig())
	if err != nil {
		return nil, fmt.Errorf("search: create bleve index %s: %w", dir, err)
	}
	ui, err := bleve.New(filepath.Join(dir, "users.bleve"), userMapping())
	if err != nil {
		mi.Close()
		return nil, fmt.Errorf("search: create bleve index %s: %w", dir, err)
	}
	return &bleveGen{name: name, dir: dir, messages: mi, users: ui}, nil
}

// scorchConfig tunes the messages index for a steady trickle of small
// batches (one per indexer flush): the persister naps so that several
// in-memory segments are merged in memory into one file, instead of each
// becoming a file that the merger later rewrites, tier by tier. Measured:
// at 200 sends/s, segment merging was half of the API's CPU without it, and
// at 1,000 sends/s the nap still saves 130–230 µs per message.
//
// A batch returns once it is searchable, not once it is on disk
// (unsafe_batch): otherwise every batch would wait out the persister's nap,
// and a message took up to 4 s to become searchable. What a crash loses is
// the unpersisted tail, seconds of it, and the indexer repairs it: its
// watermarks are persisted in the same snapshots as the documents, and
// after a restart it rechecks the day before the index's SyncedAt.
func scorchConfig() map[string]any {
	return map[string]any{
		"unsafe_batch":           true,
		"scorchPersisterOptions": map[string]any{"PersisterNapTimeMSec": 2000},
	}
}

func openBleveGen(dir string) (*bleveGen, error) {
	mi, err := bleve.OpenUsing(filepath.Join(dir, "messages.bleve"), scorchConfig())
	if err != nil {
		return nil, fmt.Errorf("search: open bleve index %s: %w", dir, err)
	}
	ui, err := bleve.Open(filepath.Join(dir, "users.bleve"))
	if err != nil {
		mi.Close()
		return nil, fmt.Errorf("search: open bleve index %s: %w", dir, err)
	}
	return &bleveGen{name: filepath.Base(dir), dir: dir, messages: mi, users: ui}, nil
}

func (b *Bleve) writeCurrent(name string) error {
	tmp := filepath.Join(b.dir, "CURRENT.tmp")
	if err := os.WriteFile(tmp, []byte(name+"\n"), 0o644); err != nil {
		return fmt.Errorf("search: write CURRENT: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(b.dir, "CURRENT")); err != nil {
		return fmt.Errorf("search: write CURRENT: %w", err)
	}
	return nil
}

func (g *bleveGen) close() error {
	return errors.Join(g.messages.Close(), g.users.Close())
}

func messageMapping() mapping.IndexMapping {
	m := bleve.NewIndexMapping()
	m.ScoringModel = "bm25"
	if err := m.AddCustomAnalyzer(wsAnalyzer, map[string]any{"type": custom.Name, "tokenizer": whitespace.Name}); err != nil {
		panic(err) // static configuration
	}
	kw := func(store bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store, f.IncludeInAll, f.IncludeTermVectors = store, false, false
		return f
	}
	text := bleve.NewTextFieldMapping()
	text.Analyzer, text.Store, text.IncludeInAll, text.IncludeTermVectors = wsAnalyzer, false, false, true
	seq := bleve.NewNumericFieldMapping()
	seq.Store, seq.IncludeInAll = false, false
	wm := bleve.NewNumericFieldMapping()
	wm.Store, wm.IncludeInAll, wm.Index = true, false, false
	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("kind", kw(false))
	doc.AddFieldMappingsAt("conv", kw(true))
	doc.AddFieldMappingsAt("seq", seq)
	doc.AddFieldMappingsAt("sender", kw(false))
	doc.AddFieldMappingsAt("text", text)
	doc.AddFieldMappingsAt("sent", kw(false))
	doc.AddFieldMappingsAt("sid", kw(false))
	doc.AddFieldMappingsAt("hidden", kw(true))
	doc.AddFieldMappingsAt("wm", wm)
	src := bleve.NewKeywordFieldMapping()
	src.Store, src.Index, src.IncludeInAll = true, false, false
	doc.AddFieldMappingsAt("src", src)
	m.DefaultMapping = doc
	m.DefaultAnalyzer = keyword.Name
	return m
}

func userMapping() mapping.IndexMapping {
	m := bleve.NewIndexMapping()
	kw := bleve.NewKeywordFieldMapping()
	kw.Store, kw.IncludeInAll = false, false
	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("username", kw)
	doc.AddFieldMappingsAt("words", kw)
	m.DefaultMapping = doc
	m.DefaultAnalyzer = keyword.Name
	return m
}

func (b *Bleve) live() *bleveGen {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.gen
}

// Apply implements Index.
func (b *Bleve) Apply(ctx context.Context, batch Batch) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.apply(ctx, b.gen, batch)
}

func (b *Bleve) apply(ctx context.Context, g *bleveGen, batch Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.hideMu.Lock()
	defer b.hideMu.Unlock()
	mb := g.messages.NewBatch()
	// The documents this batch writes, with their hidden-for sets: bleve
	// replaces whole documents, so each is written once, in its final state.
	type state struct {
		msg    *Message
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
		st, err := load(docID(m.Key()))
		if err != nil {
			return err
		}
		m := m
		st.msg, st.gone = &m, false
	}
	for _, k := range batch.Deletes {
		st, err := load(docID(k))
		if err != nil {
			return err
		}
		st.msg, st.hidden, st.gone = nil, nil, true
	}
	for _, h := range batch.Hides {
		st, err := load(docID(h.Key))
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
			name, words := userTerms(u)
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
			if err := wb.Index(wmID(c), map[string]any{"kind": "wm", "conv": c, "wm": float64(seq)}); err != nil {
				return fmt.Errorf("search: bleve watermark %s: %w", c, err)
			}
		}
		if !batch.SyncedAt.IsZero() {
			if err := wb.Index(syncedID, map[string]any{"kind": "sync", "wm": float64(batch.SyncedAt.UnixMilli())}); err != nil {
				return fmt.Errorf("search: bleve synced-at: %w", err)
			}
		}
		if err := g.messages.Batch(wb); err != nil {
			return fmt.Errorf("search: bleve watermarks: %w", err)
		}
	}
	return nil
}

// Key returns the message's key.
func (m Message) Key() Key { return Key{ConversationID: m.ConversationID, Seq: m.Seq} }

// messageDoc is a message's bleve document; m nil is a stub that only
// carries hides received before the message itself.
func messageDoc(id string, m *Message, hidden []string) map[string]any {
	k, _ := parseDocID(id)
	d := map[string]any{"kind": "msg", "conv": k.ConversationID, "seq": float64(k.Seq), "sid": sortID(k)}
	if m != nil {
		src, _ := json.Marshal(m)
		d["sender"], d["text"], d["sent"], d["src"] = m.SenderID, IndexText(m.Body), sentField(m.SentAt.UnixMilli()), string(src)
	}
	if len(hidden) > 0 {
		d["hidden"] = hidden
	}
	return d
}

func wmID(conversationID string) string { return "wm:" + conversationID }

// syncedID is the document holding Batch.SyncedAt (in unix ms, in the
// watermark field: no mapping change). Message ids always contain a dot.
const syncedID = "sync:indexer"

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
func storedMessage(idx bleve.Index, id string) (m *Message, hidden []string, err error) {
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
		m = new(Message)
		if err := json.Unmarshal(src, m); err != nil {
			return nil, nil, fmt.Errorf("search: bleve decode %s: %w", id, err)
		}
	}
	return m, hidden, nil
}

// Watermarks implements Index.
func (b *Bleve) Watermarks(ctx context.Context, conversationIDs []string) (map[string]int64, error) {
	g := b.live()
	out := make(map[string]int64, len(conversationIDs))
	for _, c := range conversationIDs {
		d, err := g.messages.Document(wmID(c))
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

// SyncedAt implements Index.
func (b *Bleve) SyncedAt(ctx context.Context) (time.Time, error) {
	d, err := b.live().messages.Document(syncedID)
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

// WatermarkedConversations implements Index.
func (b *Bleve) WatermarkedConversations(ctx context.Context, afterID string, limit int) ([]string, error) {
	g := b.live()
	q := query.NewTermQuery("wm")
	q.SetField("kind")
	req := bleve.NewSearchRequestOptions(q, limit, 0, false)
	req.SortBy([]string{"_id"})
	req.Score = "none"
	if afterID != "" {
		req.SetSearchAfter([]string{wmID(afterID)})
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

// SearchMessages implements Index.
func (b *Bleve) SearchMessages(ctx context.Context, q MessageQuery) (MessagePage, error) {
	g := b.live()
	return searchChunked(ctx, q, func(ctx context.Context, c chunk, after *sortKey, size int) ([]rawHit, int, error) {
		return bleveChunk(ctx, g.messages, q, c, after, size)
	})
}

func bleveChunk(ctx context.Context, idx bleve.Index, q MessageQuery, c chunk, after *sortKey, size int) ([]rawHit, int, error) {
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
	for _, id := range c.whole {
		tq := query.NewTermQuery(id)
		tq.SetField("conv")
		scope = append(scope, tq)
	}
	for _, s := range c.ranged {
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
	req := bleve.NewSearchRequestOptions(bq, size, 0, false)
	req.Fields = []string{"conv"}
	if q.Order == Relevance {
		req.SortBy([]string{"-_score", "-sid"})
		if after != nil {
			req.SetSearchAfter([]string{strconv.FormatFloat(after.Score, 'g', -1, 64), after.ID})
		}
	} else {
		req.SortBy([]string{"-sent", "-sid"})
		req.Score = "none"
		if after != nil {
			req.SetSearchAfter([]string{sentField(after.Sent), after.ID})
		}
	}
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, 0, fmt.Errorf("search: bleve search: %w", err)
	}
	return bleveHits(res.Hits, q.Order), int(res.Total), nil
}

func bleveHits(hits bsearch.DocumentMatchCollection, o Order) []rawHit {
	out := make([]rawHit, 0, len(hits))
	for _, h := range hits {
		k, err := parseDocID(h.ID)
		if err != nil {
			continue
		}
		rh := rawHit{Key: k, sortKey: sortKey{ID: sortID(k)}}
		if o == Relevance {
			rh.Score = h.Score
		} else if len(h.Sort) > 0 {
			rh.Sent = parseSent(h.Sort[0])
		}
		out = append(out, rh)
	}
	return out
}

// SearchUsers implements Index.
func (b *Bleve) SearchUsers(ctx context.Context, q UserQuery) (UserPage, error) {
	var page UserPage
	pu, pw := userPrefixes(q.Prefix)
	after, err := parseUserCursor(q.After)
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
	req := bleve.NewSearchRequestOptions(query.NewDisjunctionQuery(either), q.First+1, 0, false)
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
		page.Cursors = append(page.Cursors, userCursor(h.Sort[0]+"\x00"+h.ID))
	}
	return page, nil
}

// Close implements Index.
func (b *Bleve) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.gen.close()
}

// NewGeneration implements Rebuilder.
func (b *Bleve) NewGeneration(ctx context.Context) (Generation, error) {
	g, err := b.newGen()
	if err != nil {
		return nil, err
	}
	return &bleveGeneration{b: b, g: g}, nil
}

type bleveGeneration struct {
	b *Bleve
	g *bleveGen
}

func (n *bleveGeneration) Name() string { return n.g.name }

func (n *bleveGeneration) Apply(ctx context.Context, batch Batch) error {
	return n.b.apply(ctx, n.g, batch)
}

func (n *bleveGeneration) Promote(ctx context.Context) error {
	n.b.mu.Lock()
	defer n.b.mu.Unlock()
	if err := n.b.writeCurrent(n.g.name); err != nil {
		return err
	}
	old := n.b.gen
	n.b.gen = n.g
	err := old.close()
	return errors.Join(err, os.RemoveAll(old.dir))
}

func (n *bleveGeneration) Abandon(ctx context.Context) error {
	return errors.Join(n.g.close(), os.RemoveAll(n.g.dir))
}

// Hides implements Rebuilder.
func (b *Bleve) Hides(ctx context.Context, fn func(Hide) error) error {
	g := b.live()
	after := ""
	for {
		q := query.NewWildcardQuery("*")
		q.SetField("hidden")
		req := bleve.NewSearchRequestOptions(q, 1000, 0, false)
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
			k, err := parseDocID(h.ID)
			if err != nil {
				continue
			}
			_, users, err := storedMessage(g.messages, h.ID)
			if err != nil {
				return err
			}
			sort.Strings(users)
			for _, u := range users {
				if err := fn(Hide{Key: k, UserID: u}); err != nil {
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
