// Package pebble is the embedded storage backend: one Pebble database in the
// data directory, no server needed.
//
// Pebble has no multi-key transactions, so invariants that span keys (seq
// allocation, idempotent sends, unique usernames) are protected by in-process
// locks: one process owns the directory (Pebble itself takes a file lock).
// Each mutation is one atomic batch.
package pebble

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"

	"messenger/pebblekv"

	"messenger/storage"
)

var _ storage.Store = (*Store)(nil)

// Config configures the embedded store.
type Config struct {
	// Dir is the database directory; it is created if missing. Required.
	Dir string
	// NoSync acknowledges writes once they are in the write-ahead log's OS
	// buffers instead of after an fsync. The zero value (false) fsyncs every
	// commit, so an acknowledged write survives a machine crash; concurrent
	// commits share one fsync.
	NoSync bool
	// SyncInterval is the least time between two fsyncs of the write-ahead
	// log (default 2ms; negative: none). Commits that arrive while a sync
	// is pending or within the interval share the next one (group commit),
	// so a busy store pays one fsync per interval instead of one per
	// commit, for at most this much extra latency per acknowledged write.
	// A commit after a quiet interval syncs at once. Each fsync costs
	// about 50 µs of kernel CPU here: at 500µs, 1,000 sends a second still
	// paid about one each (issue #24).
	SyncInterval time.Duration
	// CacheBytes sizes the block cache (default 128 MiB; Pebble's own
	// default of 8 MiB made the load generator's reads miss and decompress).
	CacheBytes int64
}

// Store is the Pebble-backed storage.Store.
type Store struct {
	db    *pebble.DB
	wo    *pebble.WriteOptions
	users sync.Mutex
	// stripes serialise mutations of one conversation (or one direct pair).
	stripes [256]sync.Mutex
	// fanOutFloor (unix ms) is where PendingFanOuts starts reading.
	fanOutFloor atomic.Int64
}

// Open opens (or creates) the store in cfg.Dir.
func Open(cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("pebble: Config.Dir is required")
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = 128 << 20
	}
	cache := pebble.NewCache(cfg.CacheBytes)
	defer cache.Unref() // the DB holds its own reference
	if cfg.SyncInterval == 0 {
		cfg.SyncInterval = 2 * time.Millisecond
	}
	opts := &pebble.Options{Logger: pebblekv.QuietLogger{}, Cache: cache}
	// Bloom filters in every table: a send's idempotency key is a miss
	// (a new one), and without a filter each miss searched the index and a
	// data block of every table whose key range covers it (issue #24).
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	if cfg.SyncInterval > 0 {
		interval := cfg.SyncInterval
		opts.WALMinSyncInterval = func() time.Duration { return interval }
	}
	db, err := pebble.Open(cfg.Dir, opts)
	if err != nil {
		return nil, fmt.Errorf("pebble: open %s: %w", cfg.Dir, err)
	}
	wo := pebble.Sync
	if cfg.NoSync {
		wo = pebble.NoSync
	}
	s := &Store{db: db, wo: wo}
	if err := s.backfillUnread(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// Close flushes the memtable and closes the database.
func (s *Store) Close() error {
	if err := s.db.Flush(); err != nil {
		return fmt.Errorf("pebble: flush: %w", err)
	}
	return s.db.Close()
}

func (s *Store) lock(id string) func() {
	h := fnv.New32a()
	h.Write([]byte(id))
	m := &s.stripes[h.Sum32()%uint32(len(s.stripes))]
	m.Lock()
	return m.Unlock
}

// seqKey is a seq as a key part: keys sort in seq order.
func seqKey(seq int64) string { return pebblekv.Hex(seq) }

func (s *Store) getJSON(ctx context.Context, k []byte, v any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return storage.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("pebble: get: %w", err)
	}
	defer func() { _ = closer.Close() }()
	return json.Unmarshal(b, v)
}

func (s *Store) exists(k []byte) (bool, error) {
	_, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pebble: get: %w", err)
	}
	_ = closer.Close()
	return true, nil
}

func setJSON(b *pebble.Batch, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Set(k, data, nil)
}

// scan calls fn for each key/value from lower (inclusive) to upperKey
// (exclusive), in key order (reverse when reverse is set), until fn
// returns false (see pebblekv.Scan).
func (s *Store) scan(ctx context.Context, lower, upperKey []byte, reverse bool, fn func(k, v []byte) (bool, error)) error {
	return pebblekv.Scan(ctx, s.db, lower, upperKey, reverse, fn)
}
