package chat

import (
	"encoding/json"
	"sync"

	"messenger/realtime"
)

// decodeCacheSize bounds the decoded events kept for sharing (two
// generations of at most this many).
const decodeCacheSize = 4096

// decodeCache shares one decoded value among the subscribers of this
// instance that receive the same event: from Redis every recipient's copy
// arrives as its own bytes, and a message to a 1,000-member group would
// otherwise be unmarshalled 1,000 times here. Events are keyed by their id
// (set by emit); values are never modified after decoding (withCursor
// copies). Eviction drops a whole generation at a time.
type decodeCache struct {
	mu       sync.Mutex
	cur, old map[string]Event
}

// decode returns ev's payload as an Event, or nil when it cannot be
// decoded.
func (c *decodeCache) decode(ev realtime.Event) Event {
	if e, ok := ev.Value.(Event); ok { // in process: the writer's own value
		return e
	}
	if ev.ID != "" {
		c.mu.Lock()
		e, ok := c.cur[ev.ID]
		if !ok {
			e, ok = c.old[ev.ID]
		}
		c.mu.Unlock()
		if ok && e.EventType() == ev.Type {
			return e
		}
	}
	e := newEvent(ev.Type)
	if e == nil || json.Unmarshal(ev.Data, e) != nil {
		return nil
	}
	if ev.ID != "" {
		c.mu.Lock()
		if len(c.cur) >= decodeCacheSize || c.cur == nil {
			c.old, c.cur = c.cur, make(map[string]Event, decodeCacheSize)
		}
		c.cur[ev.ID] = e
		c.mu.Unlock()
	}
	return e
}
