// Package bleve is the embedded search.Index: bleve indexes in a directory
// on local disk, no server needed.
package bleve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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
	// Logger says when an unusable index was set aside (default
	// slog.Default()).
	Logger *slog.Logger
}

// Index is the embedded search.Index: bleve indexes on local disk, one
// process per directory (bleve locks it: a second process waits). Layout:
// Dir/CURRENT names the live generation, Dir/<generation>/{messages,users}.bleve
// hold it. A generation's name starts with the mapping version, so a
// mapping change rebuilds into a new directory and flips CURRENT
// (atomically, by rename). An unusable generation is renamed
// <generation>.broken-<time> (the newest two are kept).
type Index struct {
	dir string
	log *slog.Logger
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
	mappingVersion = "v2"
	wsAnalyzer     = "messenger_ws"
)

// Open opens the embedded index in cfg.Dir, or creates it. An index that
// cannot be used (see openLive) never stops a start: it is set aside and an
// empty one takes its place, which the indexer rebuilds from durable
// storage (see indexer.Indexer.Rebuilding).
func Open(cfg Config) (*Index, error) {
	if cfg.Dir == "" {
		return nil, errors.New("bleve: Config.Dir is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("search: create %s: %w", cfg.Dir, err)
	}
	b := &Index{dir: cfg.Dir, log: cfg.Logger}
	g, err := b.openLive()
	if err != nil {
		return nil, err
	}
	if g != nil {
		b.gen = g
		return b, nil
	}
	// No usable index: start the first generation.
	if g, err = b.newGen(); err != nil {
		return nil, err
	}
	if err := b.writeCurrent(g.name); err != nil {
		return nil, errors.Join(err, g.close())
	}
	b.gen = g
	return b, nil
}

// newGen creates an empty generation. Its mappings are on disk before it
// returns: the messages index is created with safe batches (each waits for
// the persister) and reopened with scorchConfig, whose unsafe batches let a
// crash in the persister's first nap lose the mapping itself, leaving an
// index that cannot be opened.
func (b *Index) newGen() (*indexes, error) {
	name := mappingVersion + "_" + time.Now().UTC().Format("20060102T150405.000000000")
	dir := filepath.Join(b.dir, name)
	path := filepath.Join(dir, "messages.bleve")
	mi, err := blevesearch.NewUsing(path, messageMapping(), scorch.Name, scorch.Name, nil)
	if err == nil {
		err = mi.Close()
	}
	if err == nil {
		mi, err = blevesearch.OpenUsing(path, scorchConfig())
	}
	if err != nil {
		return nil, fmt.Errorf("search: create bleve index %s: %w", dir, err)
	}
	ui, err := blevesearch.New(filepath.Join(dir, "users.bleve"), userMapping())
	if err != nil {
		_ = mi.Close()
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

// openGen opens a generation and checks its segments (see verify). Bleve
// panics on some corrupt files: that is an error here, at start, not a
// crash.
func openGen(dir string) (_ *indexes, err error) {
	g := &indexes{name: filepath.Base(dir), dir: dir}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("search: open bleve index %s: corrupt: %v", dir, r)
		}
		if err != nil {
			g.closeQuietly()
		}
	}()
	if g.messages, err = blevesearch.OpenUsing(filepath.Join(dir, "messages.bleve"), scorchConfig()); err != nil {
		return nil, fmt.Errorf("search: open bleve index %s: %w", dir, err)
	}
	if g.users, err = blevesearch.Open(filepath.Join(dir, "users.bleve")); err != nil {
		return nil, fmt.Errorf("search: open bleve index %s: %w", dir, err)
	}
	for _, idx := range []blevesearch.Index{g.messages, g.users} {
		if err := verify(idx); err != nil {
			return nil, fmt.Errorf("search: open bleve index %s: %w", dir, err)
		}
	}
	return g, nil
}

// writeCurrent makes name the live generation, durably: a crash leaves
// CURRENT naming either the old generation or the new one.
func (b *Index) writeCurrent(name string) error {
	tmp := filepath.Join(b.dir, "CURRENT.tmp")
	err := writeSynced(tmp, []byte(name+"\n"))
	if err == nil {
		err = os.Rename(tmp, filepath.Join(b.dir, "CURRENT"))
	}
	if err == nil {
		err = syncDir(b.dir)
	}
	if err != nil {
		return fmt.Errorf("search: write CURRENT: %w", err)
	}
	return nil
}

func (g *indexes) close() error {
	return errors.Join(g.messages.Close(), g.users.Close())
}

// closeQuietly closes what a failed open left open; bleve may panic on a
// corrupt index here too.
func (g *indexes) closeQuietly() {
	defer func() { _ = recover() }()
	if g.messages != nil {
		_ = g.messages.Close()
	}
	if g.users != nil {
		_ = g.users.Close()
	}
}

func messageMapping() mapping.IndexMapping {
	m := blevesearch.NewIndexMapping()
	m.ScoringModel = "bm25"
	if err := m.AddCustomAnalyzer(wsAnalyzer, map[string]any{"type": custom.Name, "tokenizer": whitespace.Name}); err != nil {
		panic(err) // static configuration
	}
	// Doc values (the uninverted copy a sort or facet reads) only where a
	// query sorts: "sent" and "sid". Every other field's would be built
	// for each document and merged for nothing (v2; v1 generations keep
	// the mapping stored in them).
	kw := func(store, sorted bool) *mapping.FieldMapping {
		f := blevesearch.NewKeywordFieldMapping()
		f.Store, f.IncludeInAll, f.IncludeTermVectors, f.DocValues = store, false, false, sorted
		return f
	}
	text := blevesearch.NewTextFieldMapping()
	text.Analyzer, text.Store, text.IncludeInAll, text.IncludeTermVectors, text.DocValues = wsAnalyzer, false, false, true, false
	seq := blevesearch.NewNumericFieldMapping()
	seq.Store, seq.IncludeInAll, seq.DocValues = false, false, false
	wm := blevesearch.NewNumericFieldMapping()
	wm.Store, wm.IncludeInAll, wm.Index, wm.DocValues = true, false, false, false
	doc := blevesearch.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("kind", kw(false, false))
	doc.AddFieldMappingsAt("conv", kw(true, false))
	doc.AddFieldMappingsAt("seq", seq)
	doc.AddFieldMappingsAt("sender", kw(false, false))
	doc.AddFieldMappingsAt("text", text)
	doc.AddFieldMappingsAt("sent", kw(false, true))
	doc.AddFieldMappingsAt("sid", kw(false, true))
	doc.AddFieldMappingsAt("hidden", kw(true, false))
	doc.AddFieldMappingsAt("wm", wm)
	src := blevesearch.NewKeywordFieldMapping()
	src.Store, src.Index, src.IncludeInAll, src.DocValues = true, false, false, false
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
