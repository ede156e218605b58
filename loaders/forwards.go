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

// forwardLoads batch a request's forward-mark lookups; the dataloader is
// made on first use, so requests that never ask pay nothing.
type forwardLoads struct {
	once   sync.Once
	loader *dataloader.Loader[storage.Message, *storage.Forward]
}

// ForwardMark loads a message's forward mark through src (the same on
// every call for one Loaders), or nil when it is not a forwarded copy.
// The messages of a page arrive within one batching window and cost one
// lookup.
func (l *Loaders) ForwardMark(ctx context.Context, src ForwardSource, m storage.Message) (*storage.Forward, error) {
	f := &l.forwardLoads
	f.once.Do(func() {
		f.loader = newLoader(func(ctx context.Context, keys []storage.Message) []*dataloader.Result[*storage.Forward] {
			found, err := src.ForwardMarks(ctx, keys)
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
	return f.loader.Load(ctx, m)()
}
