package loaders

import (
	"context"
	"sync"

	"github.com/graph-gophers/dataloader/v7"

	"messenger/storage"
)

// ForwardSource finds the forward marks of several messages in one lookup
// (chat.Service.ForwardMarks): by message id, for the forwarded ones only.
type ForwardSource interface {
	ForwardMarks(ctx context.Context, msgs []storage.Message) (map[string]storage.Forward, error)
}

// forwardLoads batch a request's forward-mark lookups: whole pages named
// with Page, and a dataloader, made on first use, for messages met one by
// one, so requests that never ask pay nothing.
type forwardLoads struct {
	once   sync.Once
	loader *dataloader.Loader[forwardKey, *storage.Forward]
	mu     sync.Mutex
	pages  map[*attachmentPage]*forwardPage
}

// forwardKey is what a message's forward mark depends on (a message is
// not comparable, so it cannot be the loader's key itself).
type forwardKey struct {
	ID, ConversationID, SenderID, ClientMessageID string
}

// forwardPage is the marks of one page named with Page.
type forwardPage struct {
	once  sync.Once
	found map[string]storage.Forward
	err   error
}

// pageMarks returns the marks of the page m was named in with Page, or
// nil when it was in none (or that page's lookup failed).
func (l *Loaders) pageMarks(ctx context.Context, src ForwardSource, m storage.Message) map[string]storage.Forward {
	l.attachmentLoads.mu.Lock()
	p := l.attachmentLoads.pages[m.ID]
	l.attachmentLoads.mu.Unlock()
	if p == nil {
		return nil
	}
	f := &l.forwardLoads
	f.mu.Lock()
	if f.pages == nil {
		f.pages = map[*attachmentPage]*forwardPage{}
	}
	fp := f.pages[p]
	if fp == nil {
		fp = &forwardPage{}
		f.pages[p] = fp
	}
	f.mu.Unlock()
	fp.once.Do(func() { fp.found, fp.err = src.ForwardMarks(ctx, p.msgs) })
	if fp.err != nil {
		return nil
	}
	return fp.found
}

// ForwardMark loads a message's forward mark through src (the same on
// every call for one Loaders), or nil when it is not a forwarded copy. A
// page named with Page costs one lookup; other messages are batched.
func (l *Loaders) ForwardMark(ctx context.Context, src ForwardSource, m storage.Message) (*storage.Forward, error) {
	if marks := l.pageMarks(ctx, src, m); marks != nil {
		if mark, ok := marks[m.ID]; ok {
			return &mark, nil
		}
		return nil, nil
	}
	f := &l.forwardLoads
	f.once.Do(func() {
		f.loader = newLoader(func(ctx context.Context, keys []forwardKey) []*dataloader.Result[*storage.Forward] {
			msgs := make([]storage.Message, len(keys))
			for i, k := range keys {
				msgs[i] = storage.Message{ID: k.ID, ConversationID: k.ConversationID, SenderID: k.SenderID, ClientMessageID: k.ClientMessageID}
			}
			found, err := src.ForwardMarks(ctx, msgs)
			out := make([]*dataloader.Result[*storage.Forward], len(keys))
			for i, k := range keys {
				out[i] = &dataloader.Result[*storage.Forward]{Error: err}
				if mark, ok := found[k.ID]; ok {
					out[i].Data = &mark
				}
			}
			return out
		}, l.opts)
	})
	return f.loader.Load(ctx, forwardKey{ID: m.ID, ConversationID: m.ConversationID, SenderID: m.SenderID, ClientMessageID: m.ClientMessageID})()
}
