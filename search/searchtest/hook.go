package searchtest

import (
	"sync/atomic"

	"messenger/search/indexer"
)

// Hook is a chat.Indexer that forwards the domain's notifications to the
// Indexer set last, and drops them while none is set, as a dead indexing
// process would: tests use it to stop and restart indexing around a
// simulated crash.
type Hook struct {
	cur atomic.Pointer[indexer.Indexer]
}

// Set makes ix (nil: none) receive the notifications from now on.
func (h *Hook) Set(ix *indexer.Indexer) { h.cur.Store(ix) }

// MessagesChanged forwards to the current Indexer, if any.
func (h *Hook) MessagesChanged(c string, seqs ...int64) {
	if ix := h.cur.Load(); ix != nil {
		ix.MessagesChanged(c, seqs...)
	}
}

// MessageHidden forwards to the current Indexer, if any.
func (h *Hook) MessageHidden(c string, seq int64, u string) {
	if ix := h.cur.Load(); ix != nil {
		ix.MessageHidden(c, seq, u)
	}
}

// UserChanged forwards to the current Indexer, if any.
func (h *Hook) UserChanged(u string) {
	if ix := h.cur.Load(); ix != nil {
		ix.UserChanged(u)
	}
}
