// Package memcache is the in-process cache of persisted queries (and of
// parsed documents): bounded in bytes, least recently used first out.
package memcache

import (
	"container/list"
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// entryOverhead is what an entry costs besides its key and value: the list
// element, the map slot and the string headers.
const entryOverhead = 128

// Config configures a Cache. Zero values are the defaults.
type Config[V any] struct {
	// MaxBytes bounds the cache: adding beyond it evicts the least recently
	// used entries (default 16 MiB).
	MaxBytes int64
	// Cost is what an entry weighs against MaxBytes (default: its key's
	// length, plus its value's when the value is a string, plus a fixed
	// overhead).
	Cost func(key string, v V) int64
}

// Cache is a cache in process memory bounded in bytes, not in
// entries: the APQ cache of one instance (Cache[string]), or any
// cache of documents keyed by their text. An entry costing more than the
// whole budget is not kept. Safe for concurrent use.
type Cache[V any] struct {
	max  int64
	cost func(string, V) int64

	mu    sync.Mutex
	used  int64
	order *list.List // front: most recently used
	items map[string]*list.Element
}

type memEntry[V any] struct {
	key  string
	v    V
	cost int64
}

var _ graphql.Cache[string] = (*Cache[string])(nil)

// New returns an empty cache.
func New[V any](cfg Config[V]) *Cache[V] {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 16 << 20
	}
	if cfg.Cost == nil {
		cfg.Cost = func(key string, v V) int64 {
			n := int64(len(key)) + entryOverhead
			if s, ok := any(v).(string); ok {
				n += int64(len(s))
			}
			return n
		}
	}
	return &Cache[V]{max: cfg.MaxBytes, cost: cfg.Cost, order: list.New(), items: map[string]*list.Element{}}
}

// Get returns the entry under key and marks it recently used.
func (c *Cache[V]) Get(_ context.Context, key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*memEntry[V]).v, true
}

// Add stores v under key, evicting the least recently used entries until
// the cache is within its budget.
func (c *Cache[V]) Add(_ context.Context, key string, v V) {
	cost := c.cost(key, v)
	if cost > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.drop(el)
	}
	c.items[key] = c.order.PushFront(&memEntry[V]{key: key, v: v, cost: cost})
	c.used += cost
	for c.used > c.max {
		c.drop(c.order.Back())
	}
}

func (c *Cache[V]) drop(el *list.Element) {
	e := c.order.Remove(el).(*memEntry[V])
	delete(c.items, e.key)
	c.used -= e.cost
}

// Size is the bytes the cache holds by its costs.
func (c *Cache[V]) Size(context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, nil
}
