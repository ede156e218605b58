package resolvers

import (
	"context"

	"messenger/graph/model"
	"messenger/ids"
	"messenger/loaders"
	"messenger/storage"
)

// blockedConnection is a page of the users I block (the cursor is the
// user's global id, like userAtConnection's).
func blockedConnection(ctx context.Context, bs []storage.Block, more, hasPrev bool) (*model.UserConnection, error) {
	c := &model.UserConnection{Edges: make([]*model.UserEdge, len(bs))}
	for i, b := range bs {
		u, err := user(ctx, b.BlockedID)
		if err != nil {
			return nil, err
		}
		c.Edges[i] = &model.UserEdge{Cursor: ids.Encode(ids.User, b.BlockedID), Node: u}
	}
	var start, end string
	if len(bs) > 0 {
		start, end = c.Edges[0].Cursor, c.Edges[len(bs)-1].Cursor
	}
	c.PageInfo = pageInfo(start, end, hasPrev, more)
	return c, nil
}

// visibleReadCount is n, or 0 in a direct conversation whose read receipts
// the caller may not see (chat.Service.ReceiptsVisible).
func (r *Resolver) visibleReadCount(ctx context.Context, m *storage.Message, n int) (int, error) {
	if n == 0 {
		return 0, nil
	}
	me, err := caller(ctx)
	if err != nil {
		return 0, err
	}
	c, err := loaders.For(ctx).Conversation(ctx, m.ConversationID)
	if err != nil {
		return 0, err
	}
	ok, err := r.Chat.ReceiptsVisible(ctx, me, c)
	if err != nil || !ok {
		return 0, err
	}
	return n, nil
}
