package observe

import (
	"context"

	"messenger/loaders"
	"messenger/storage"
)

// Loaders wraps the dataloaders' source: each batched read is timed
// (backend "storage", op the loader) and its size and latency recorded by
// loader. ReactionsBy passes through untimed.
func (o *Observer) Loaders(src loaders.Source) loaders.Source {
	return observedSource{Source: src, o: o}
}

// observedSource records the dataloaders' batch sizes and store latency.
type observedSource struct {
	loaders.Source
	o *Observer
}

var _ loaders.Source = observedSource{}

func (s observedSource) observe(c call, loader string, n int, err error) {
	d := c.end(err)
	s.o.batches.WithLabelValues(loader).Observe(float64(n))
	s.o.batchTime.WithLabelValues(loader).Observe(d.Seconds())
}

func (s observedSource) Users(ctx context.Context, ids []string) (map[string]storage.User, error) {
	ctx, c := s.o.begin(ctx, "storage", "users")
	res, err := s.Source.Users(ctx, ids)
	s.observe(c, "users", len(ids), err)
	return res, err
}

func (s observedSource) Conversations(ctx context.Context, ids []string) (map[string]storage.Conversation, error) {
	ctx, c := s.o.begin(ctx, "storage", "conversations")
	res, err := s.Source.Conversations(ctx, ids)
	s.observe(c, "conversations", len(ids), err)
	return res, err
}

func (s observedSource) Messages(ctx context.Context, conv string, seqs []int64) (map[int64]storage.Message, error) {
	ctx, c := s.o.begin(ctx, "storage", "messages")
	res, err := s.Source.Messages(ctx, conv, seqs)
	s.observe(c, "messages", len(seqs), err)
	return res, err
}

func (s observedSource) ReceiptCounts(ctx context.Context, conv string, seqs []int64) (map[int64]storage.MessageCounts, error) {
	ctx, c := s.o.begin(ctx, "storage", "receipt_counts")
	res, err := s.Source.ReceiptCounts(ctx, conv, seqs)
	s.observe(c, "receipt_counts", len(seqs), err)
	return res, err
}

func (s observedSource) Reactions(ctx context.Context, conv string, seqs []int64) (map[int64][]storage.ReactionSummary, error) {
	ctx, c := s.o.begin(ctx, "storage", "reactions")
	res, err := s.Source.Reactions(ctx, conv, seqs)
	s.observe(c, "reactions", len(seqs), err)
	return res, err
}
