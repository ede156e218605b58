package resolvers

import (
	"context"
	"time"

	"messenger/graph/model"
	"messenger/ids"
	"messenger/storage"
)

// optTime shows a zero time as null.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// optText shows an empty string as null.
func optText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// callerConvUser returns the caller and decodes a conversation and a user
// global id.
func callerConvUser(ctx context.Context, conversationID, userID string) (me, conv, uid string, err error) {
	if me, conv, err = callerAnd(ctx, ids.Conversation, conversationID); err != nil {
		return
	}
	uid, err = ids.DecodeAs(ids.User, userID)
	return
}

// ptrs returns pointers to the elements of xs.
func ptrs[T any](xs []T) []*T {
	out := make([]*T, len(xs))
	for i := range xs {
		out[i] = &xs[i]
	}
	return out
}

// moderationLogConnection pages log entries (cursor: chat.ModerationCursor).
func moderationLogConnection(es []storage.ModerationEntry, cursor func(storage.ModerationEntry) string, hasPrev, more bool) *model.ModerationLogConnection {
	c := &model.ModerationLogConnection{Edges: make([]*model.ModerationLogEdge, len(es))}
	for i := range es {
		c.Edges[i] = &model.ModerationLogEdge{Cursor: cursor(es[i]), Node: &es[i]}
	}
	var start, end string
	if len(es) > 0 {
		start, end = c.Edges[0].Cursor, c.Edges[len(es)-1].Cursor
	}
	c.PageInfo = pageInfo(start, end, hasPrev, more)
	return c
}
