package cassandra

import (
	"sync"

	"messenger/storage"
)

// headCacheSize bounds the heads one process remembers.
const headCacheSize = 10000

// headCache remembers the sequencer tip of conversations this process sent to, so a
// send usually needs no read of the sequencer before its Paxos transaction
// (a stale entry costs one failed transaction, which returns the fresh
// tip), and lower bounds of LastSeq seen by reads, so the newest page of
// history usually starts in the right bucket without reading the
// conversation row.
type headCache struct {
	mu    sync.Mutex
	heads map[string]tip
	hints map[string]int64
}

func (c *headCache) get(conversationID string) (tip, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.heads[conversationID]
	return h, ok
}

func (c *headCache) put(conversationID string, h tip) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.heads[conversationID]; ok && old.last > h.last {
		return
	}
	// Only durable tips are cached, and a send compares only sender and
	// client id with them: the content stays in Cassandra.
	msgs := make([]storage.Message, len(h.msgs))
	for i, m := range h.msgs {
		msgs[i] = storage.Message{ID: m.ID, ConversationID: m.ConversationID, Seq: m.Seq, SenderID: m.SenderID, ClientMessageID: m.ClientMessageID}
	}
	h.msgs = msgs
	c.heads = bounded(c.heads)
	c.heads[conversationID] = h
}

// hint records that a conversation's LastSeq is at least seq.
func (c *headCache) hint(conversationID string, seq int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.hints[conversationID]; ok && old >= seq {
		return
	}
	c.hints = bounded(c.hints)
	c.hints[conversationID] = seq
}

// lastSeqHint is a lower bound of a conversation's LastSeq, if this process
// knows one.
func (c *headCache) lastSeqHint(conversationID string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok1 := c.heads[conversationID]
	n, ok2 := c.hints[conversationID]
	return max(h.last, n), ok1 || ok2
}

// bounded makes m ready for one more entry: allocated, and with an
// arbitrary entry evicted when full.
func bounded[V any](m map[string]V) map[string]V {
	if m == nil {
		return make(map[string]V)
	}
	if len(m) >= headCacheSize {
		for k := range m {
			delete(m, k)
			break
		}
	}
	return m
}
