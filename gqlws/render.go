package gqlws

import (
	"bytes"
	"sync"
)

// renderCacheSize bounds the kept renderings (two generations of at most
// this many).
const renderCacheSize = 1024

// renderCache keeps the data of results that pushed streams marked as
// shared (see Push.Ready), so that the subscribers of one
// event with one document get one execution between them: the first to
// look a rendering up makes it, the others wait for it (an execution takes
// microseconds) and reuse it. Eviction drops a whole generation at a time.
type renderCache struct {
	mu       sync.Mutex
	cur, old map[renderKey]*rendering
}

type renderKey struct {
	doc string
	key any
}

// rendering is a result's data with the place of its patch, data[at:at+n],
// once done is closed; ok is false if the result could not be kept.
type rendering struct {
	done  chan struct{}
	ok    bool
	data  []byte
	at, n int
}

// lookup returns the rendering for (doc, key); mine is true when the
// caller must make it and then call settle.
func (c *renderCache) lookup(doc string, key any) (r *rendering, mine bool) {
	k := renderKey{doc, key}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r = c.cur[k]; r != nil {
		return r, false
	}
	if r = c.old[k]; r != nil {
		return r, false
	}
	if len(c.cur) >= renderCacheSize || c.cur == nil {
		c.old, c.cur = c.cur, make(map[renderKey]*rendering, renderCacheSize)
	}
	r = &rendering{done: make(chan struct{})}
	c.cur[k] = r
	return r, true
}

// settle keeps a copy of data in r, unless data is nil or its patch does
// not occur exactly once (as a JSON string), so it could not be replaced
// unambiguously; then the waiters execute the operation themselves.
func (r *rendering) settle(data []byte, patch string) {
	defer close(r.done)
	if data == nil {
		return
	}
	r.at = len(data)
	if patch != "" {
		quoted := make([]byte, 0, len(patch)+2)
		quoted = append(append(append(quoted, '"'), patch...), '"')
		i := bytes.Index(data, quoted)
		if i < 0 || bytes.Contains(data[i+1:], quoted) {
			return
		}
		r.at, r.n = i+1, len(patch)
	}
	r.data = bytes.Clone(data)
	r.ok = true
}
