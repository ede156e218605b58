package loaders

import (
	"context"
	"sync"

	"github.com/graph-gophers/dataloader/v7"

	"messenger/media"
	"messenger/storage"
)

// AttachmentSource lists the files of several messages in one lookup
// (media.Service.AttachmentsOf).
type AttachmentSource interface {
	AttachmentsOf(ctx context.Context, msgs []storage.Message) (map[string][]media.Attachment, error)
}

// attachmentLoads are a request's attachment lookups: whole pages named in
// advance (Page), and a dataloader for messages met one by one.
type attachmentLoads struct {
	once   sync.Once
	loader *dataloader.Loader[attachmentKey, []media.Attachment]
	mu     sync.Mutex
	pages  map[string]*attachmentPage // by message id
	// byKey holds the messages the loader was asked for (a message is
	// not comparable, so it cannot be the loader's key itself).
	byKey map[attachmentKey]storage.Message
}

// attachmentKey names a message as its files depend on it.
type attachmentKey struct {
	ID      string
	Deleted bool
}

// attachmentPage is one page of messages whose files are fetched together.
type attachmentPage struct {
	msgs  []storage.Message
	once  sync.Once
	found map[string][]media.Attachment
	err   error
}

// Page names a page of messages about to be resolved (a history page): the
// first Attachments call for any of them fetches the files of the whole
// page in one lookup, however the page's fields are scheduled. Without it,
// Attachments still batches whatever arrives within the batching window.
func (l *Loaders) Page(msgs []storage.Message) {
	if l == nil || len(msgs) == 0 {
		return
	}
	l.threadLoads.page(msgs)
	p := &attachmentPage{msgs: msgs}
	a := &l.attachmentLoads
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pages == nil {
		a.pages = map[string]*attachmentPage{}
	}
	for _, m := range msgs {
		a.pages[m.ID] = p
	}
}

// Attachments loads a message's files through src (the server's media
// service; the same on every call for one Loaders). A page named with Page
// costs one lookup; other messages are batched by a dataloader made on
// first use, so requests that show no files pay nothing.
func (l *Loaders) Attachments(ctx context.Context, src AttachmentSource, m storage.Message) ([]media.Attachment, error) {
	a := &l.attachmentLoads
	a.mu.Lock()
	p := a.pages[m.ID]
	a.mu.Unlock()
	if p != nil {
		p.once.Do(func() { p.found, p.err = src.AttachmentsOf(ctx, p.msgs) })
		if p.err == nil {
			if as, ok := p.found[m.ID]; ok {
				return as, nil
			}
		}
		// A failed page, or a message that changed since: ask on its own.
	}
	a.once.Do(func() {
		a.loader = newLoader(func(ctx context.Context, keys []attachmentKey) []*dataloader.Result[[]media.Attachment] {
			msgs := make([]storage.Message, len(keys))
			a.mu.Lock()
			for i, k := range keys {
				msgs[i] = a.byKey[k]
			}
			a.mu.Unlock()
			found, err := src.AttachmentsOf(ctx, msgs)
			out := make([]*dataloader.Result[[]media.Attachment], len(keys))
			for i, k := range keys {
				out[i] = &dataloader.Result[[]media.Attachment]{Data: found[k.ID], Error: err}
			}
			return out
		}, l.opts)
	})
	k := attachmentKey{ID: m.ID, Deleted: m.DeletedAt != nil}
	a.mu.Lock()
	if a.byKey == nil {
		a.byKey = map[attachmentKey]storage.Message{}
	}
	a.byKey[k] = m
	a.mu.Unlock()
	return a.loader.Load(ctx, k)()
}
