package observe

import (
	"context"

	"messenger/search"
)

// Index wraps a search index: writes, watermark reads and searches are
// timed (backend "search"); rebuilds pass through untimed.
func (o *Observer) Index(idx search.Rebuilder) search.Rebuilder {
	return observedIndex{Rebuilder: idx, o: o}
}

type observedIndex struct {
	search.Rebuilder
	o *Observer
}

var _ search.Rebuilder = observedIndex{}

func (x observedIndex) Apply(ctx context.Context, b search.Batch) error {
	ctx, c := x.o.begin(ctx, "search", "apply")
	err := x.Rebuilder.Apply(ctx, b)
	c.end(err)
	return err
}

func (x observedIndex) Watermarks(ctx context.Context, conversationIDs []string) (map[string]int64, error) {
	ctx, c := x.o.begin(ctx, "search", "watermarks")
	res, err := x.Rebuilder.Watermarks(ctx, conversationIDs)
	c.end(err)
	return res, err
}

func (x observedIndex) WatermarkedConversations(ctx context.Context, afterID string, limit int) ([]string, error) {
	ctx, c := x.o.begin(ctx, "search", "watermarked_conversations")
	res, err := x.Rebuilder.WatermarkedConversations(ctx, afterID, limit)
	c.end(err)
	return res, err
}

func (x observedIndex) SearchMessages(ctx context.Context, q search.MessageQuery) (search.MessagePage, error) {
	ctx, c := x.o.begin(ctx, "search", "search_messages")
	res, err := x.Rebuilder.SearchMessages(ctx, q)
	c.end(err)
	return res, err
}

func (x observedIndex) SearchUsers(ctx context.Context, q search.UserQuery) (search.UserPage, error) {
	ctx, c := x.o.begin(ctx, "search", "search_users")
	res, err := x.Rebuilder.SearchUsers(ctx, q)
	c.end(err)
	return res, err
}
