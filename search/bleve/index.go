// Package bleve is the embedded search.Index: bleve indexes in a directory
// on local disk, no server needed.
package bleve

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	blevesearch "github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/whitespace"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"

	"messenger/search"
)

var (
	_ search.Index     = (*Index)(nil)
	_ search.Rebuilder = (*Index)(nil)
)

// Config configures the embedded index.
type Config struct {
	// Dir holds the index generations and the CURRENT pointer; it is
	// created if missing. Required.
	Dir string
}

// Index is the embedded search.Index: bleve indexes on local disk, one
// process per directory (bleve locks it). Layout: Dir/CURRENT names the live generation,
// Dir/<generation>/{messages,users}.bleve hold it. A generation's name
// starts with the mapping version, so a mapping change rebuilds into a new
// directory and flips CURRENT (atomically, by rename).
type Index struct {
	dir string
	mu  sync.RWMutex // guards gen; writers take it shared, Promote exclusively
	gen *indexes
	// hideMu serialises the read-modify-write of hidden-for sets.
	hideMu sync.Mutex
}

// indexes are the two bleve indexes of one generation.
type indexes struct {
	name     string
	dir      string
	messages blevesearch.Index
	users    blevesearch.Index
}

const (
	// mappingVersion changes whenever the mapping below changes.
	mappingVersion = "v1"
	wsAnalyzer     = "messenger_ws"
)

// Open opens (or creates) the embedded index in cfg.Dir.
func Open(cfg Config) (*Index, error) {
	if cfg.Dir == "" {
		return nil, errors.New("bleve: Config.Dir is required")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("search: create %s: %w", cfg.Dir, err)
	}
	b := &Index{dir: cfg.Dir}
	cur, err := os.ReadFile(filepath.Join(cfg.Dir, "CURRENT"))
	// An older mapping version stays live until `reindex` replaces it: a
	// fresh index would know no conversation to catch up.
	if err == nil && strings.TrimSpace(string(cur)) != "" {
		b.gen, err = openGen(filepath.Join(cfg.Dir, strings.TrimSpace(string(cur))))
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

func (b *Index) newGen() (*indexes, error) {
	name := mappingVersion + "_" + time.Now().UTC().Format("20060102T150405.000000000")
	dir := filepath.Join(b.dir, name)
	mi, err := blevesearch.NewUsing(filepath.Join(dir, "messages.bleve"), messageMapping(), scorch.Name, scorch.Name, scorchConfig())
	if err != nil {
		return nil, fmt.Errorf("search: create bleve index %s: %w", dir, err)
	}
	ui, err := blevesearch.New(filepath.Join(dir, "users.bleve"), userMapping())
	if err != nil {
		mi.Close()
		return nil, fmt.Errorf("search: create bleve index %s: %w", dir, err)
	}
	return &indexes{name: name, dir: dir, messages: mi, users: ui}, nil
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

func openGen(dir string) (*indexes, error) {
	mi, err := blevesearch.OpenUsing(filepath.Join(dir, "messages.bleve"), scorchConfig())
	if err != nil {
		return nil, fmt.Errorf("search: open bleve index %s: %w", dir, err)
	}
	ui, err := blevesearch.Open(filepath.Join(dir, "users.bleve"))
	if err != nil {
		mi.Close()
		return nil, fmt.Errorf("search: open bleve index %s: %w", dir, err)
	}
	return &indexes{name: filepath.Base(dir), dir: dir, messages: mi, users: ui}, nil
}

func (b *Index) writeCurrent(name string) error {
	tmp := filepath.Join(b.dir, "CURRENT.tmp")
	if err := os.WriteFile(tmp, []byte(name+"\n"), 0o644); err != nil {
		return fmt.Errorf("search: write CURRENT: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(b.dir, "CURRENT")); err != nil {
		return fmt.Errorf("search: write CURRENT: %w", err)
	}
	return nil
}

func (g *indexes) close() error {
	return errors.Join(g.messages.Close(), g.users.Close())
}

func messageMapping() mapping.IndexMapping {
	m := blevesearch.NewIndexMapping()
	m.ScoringModel = "bm25"
	if err := m.AddCustomAnalyzer(wsAnalyzer, map[string]any{"type": custom.Name, "tokenizer": whitespace.Name}); err != nil {
		panic(err) // static configuration
	}
	kw := func(store bool) *mapping.FieldMapping {
		f := blevesearch.NewKeywordFieldMapping()
		f.Store, f.IncludeInAll, f.IncludeTermVectors = store, false, false
		return f
	}
	text := blevesearch.NewTextFieldMapping()
	text.Analyzer, text.Store, text.IncludeInAll, text.IncludeTermVectors = wsAnalyzer, false, false, true
	seq := blevesearch.NewNumericFieldMapping()
	seq.Store, seq.IncludeInAll = false, false
	wm := blevesearch.NewNumericFieldMapping()
	wm.Store, wm.IncludeInAll, wm.Index = true, false, false
	doc := blevesearch.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("kind", kw(false))
	doc.AddFieldMappingsAt("conv", kw(true))
	doc.AddFieldMappingsAt("seq", seq)
	doc.AddFieldMappingsAt("sender", kw(false))
	doc.AddFieldMappingsAt("text", text)
	doc.AddFieldMappingsAt("sent", kw(false))
	doc.AddFieldMappingsAt("sid", kw(false))
	doc.AddFieldMappingsAt("hidden", kw(true))
	doc.AddFieldMappingsAt("wm", wm)
	src := blevesearch.NewKeywordFieldMapping()
	src.Store, src.Index, src.IncludeInAll = true, false, false
	doc.AddFieldMappingsAt("src", src)
	m.DefaultMapping = doc
	m.DefaultAnalyzer = keyword.Name
	return m
}

func userMapping() mapping.IndexMapping {
	m := blevesearch.NewIndexMapping()
	kw := blevesearch.NewKeywordFieldMapping()
	kw.Store, kw.IncludeInAll = false, false
	doc := blevesearch.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("username", kw)
	doc.AddFieldMappingsAt("words", kw)
	m.DefaultMapping = doc
	m.DefaultAnalyzer = keyword.Name
	return m
}

func (b *Index) live() *indexes {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.gen
}

// Close implements search.Index.
func (b *Index) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.gen.close()
}

// NewGeneration implements search.Rebuilder.
func (b *Index) NewGeneration(ctx context.Context) (search.Generation, error) {
	g, err := b.newGen()
	if err != nil {
		return nil, err
	}
	return &generation{b: b, g: g}, nil
}

type generation struct {
	b *Index
	g *indexes
}

func (n *generation) Name() string { return n.g.name }

func (n *generation) Apply(ctx context.Context, batch search.Batch) error {
	return n.b.apply(ctx, n.g, batch)
}

func (n *generation) Promote(ctx context.Context) error {
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

func (n *generation) Abandon(ctx context.Context) error {
	return errors.Join(n.g.close(), os.RemoveAll(n.g.dir))
}
