// Package pebble is the embedded media.Store: the metadata of uploads,
// attachments and stories in a Pebble database of its own (e.g.
// <data>/media), separate from the chat store, no server needed.
//
// Keys (parts joined by pebblekv.Key, times as pebblekv.Hex of Unix nanos):
//
//	u\0<upload>                      -> Upload (JSON)
//	uc\0<created>\0<upload>          -> "" (the sweeper's index of uploads)
//	ma\0<message or draft key>       -> [upload ids] (JSON)
//	s\0<story>                       -> Story (JSON)
//	se\0<expires>\0<story>           -> Story (the sweeper's index of stories)
//	f\0<viewer>\0<story>             -> "" (feed: stories a user may see)
//	fa\0<story>\0<viewer>            -> "" (audience: who may see a story)
//	sp\0<author>\0<posted>\0<story>  -> "" (posting log, for the quota)
//	v\0<story>\0<viewer>             -> first view time (JSON)
//	vt\0<story>\0<viewed>\0<viewer>  -> "" (views in time order)
//	r\0<story>\0<user>\0<emoji>      -> reaction time (JSON)
//	w\0<upload>                      -> voice note waveform (JSON)
package pebble

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"messenger/media"
	"messenger/pebblekv"
)

var _ media.Store = (*Store)(nil)

// Store is the embedded media.Store: its own Pebble database (e.g.
// <data>/media), separate from the chat store. One process owns it, so
// claims are serialised by a mutex.
type Store struct {
	db *pebble.DB
	mu sync.Mutex // claims, views, reactions: read-check-write
}

// Config configures the embedded store.
type Config struct {
	// Dir is the database directory; it is created if missing. Required.
	Dir string
}

// Open opens (or creates) the store in cfg.Dir.
func Open(cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("media: pebble: Config.Dir is required")
	}
	db, err := pebble.Open(cfg.Dir, &pebble.Options{Logger: pebblekv.QuietLogger{}})
	if err != nil {
		return nil, fmt.Errorf("media: open %s: %w", cfg.Dir, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// ts is a time as a key part: keys sort in time order.
func ts(t time.Time) string { return pebblekv.Hex(t.UnixNano()) }

func (s *Store) get(ctx context.Context, key []byte, v any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, c, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return media.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("media: get: %w", err)
	}
	defer func() { _ = c.Close() }()
	if v == nil {
		return nil
	}
	return json.Unmarshal(b, v)
}

// getEach reads the JSON record of each id under kind\0<id>; ids without
// one are absent from the map.
func getEach[T any](ctx context.Context, s *Store, kind string, ids []string) (map[string]T, error) {
	out := make(map[string]T, len(ids))
	for _, id := range ids {
		var v T
		err := s.get(ctx, pebblekv.Key(kind, id), &v)
		if errors.Is(err, media.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, nil
}

func set(b *pebble.Batch, key []byte, v any) {
	data := []byte{}
	if v != nil {
		data, _ = json.Marshal(v)
	}
	_ = b.Set(key, data, nil)
}

// scan calls fn for each key and value under p, in key order, after the
// key after (nil = from the start of p), until fn returns false.
func (s *Store) scan(ctx context.Context, p []byte, after []byte, fn func(k, v []byte) bool) error {
	lower := p
	if after != nil {
		lower = append(append([]byte(nil), after...), 0)
	}
	return pebblekv.Scan(ctx, s.db, lower, pebblekv.Upper(p), false, func(k, v []byte) (bool, error) {
		return fn(k, v), nil
	})
}

func (s *Store) commit(b *pebble.Batch) error {
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("media: commit: %w", err)
	}
	return nil
}
