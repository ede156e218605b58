// Package resolvers connects the generated GraphQL layer to the domain: each
// resolver reads its arguments and the caller, makes one call into the
// domain (chat) or a loader, and returns. No rules live here.
package resolvers

import (
	"context"
	"errors"

	"messenger/auth"
	"messenger/chat"
	"messenger/fault"
	"messenger/graph/model"
	"messenger/ids"
	"messenger/lifecycle"
	"messenger/loaders"
	"messenger/media"
	"messenger/push"
	"messenger/storage"
)

// Resolver is the root resolver.
type Resolver struct {
	Chat *chat.Service
	// Media serves attachments and stories; nil disables them.
	Media *media.Service
	// Lifecycle deletes accounts and exports data; nil refuses those
	// with UNAVAILABLE.
	Lifecycle *lifecycle.Service
	// Push is the websocket transport, which subscriptions push their
	// events to (stream.go); nil: every subscription is read by a
	// goroutine that blocks on its channel.
	Push Pusher
	// Notifications registers push devices and keeps notification
	// settings; nil: those fields and mutations answer UNAVAILABLE.
	Notifications *push.Service
}

// caller returns the authenticated user's id, or UNAUTHENTICATED.
func caller(ctx context.Context) (string, error) {
	id, ok := auth.FromContext(ctx)
	if !ok {
		return "", &fault.Error{Code: fault.Unauthenticated, Message: "sign in first: send a valid token as `Authorization: Bearer <token>`"}
	}
	return id.UserID, nil
}

func optInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func optString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// user resolves a user another object refers to; a missing one is shown as
// loaders.DeletedUser rather than failing the list it is in.
func user(ctx context.Context, id string) (*storage.User, error) {
	u, err := loaders.For(ctx).UserOrDeleted(ctx, id)
	return &u, err
}

func optUser(ctx context.Context, id string) (*storage.User, error) {
	if id == "" {
		return nil, nil
	}
	return user(ctx, id)
}

func pageInfo(startCursor, endCursor string, hasPrev, hasNext bool) *model.PageInfo {
	p := &model.PageInfo{HasPreviousPage: hasPrev, HasNextPage: hasNext}
	if startCursor != "" {
		p.StartCursor, p.EndCursor = &startCursor, &endCursor
	}
	return p
}

// userAtConnection pages receipts or reactions by user id (the cursor is
// the user's global id).
func userAtConnection(rs []storage.Receipt, more, hasPrev bool) *model.UserAtConnection {
	c := &model.UserAtConnection{Edges: make([]*model.UserAtEdge, len(rs))}
	for i := range rs {
		c.Edges[i] = &model.UserAtEdge{Cursor: ids.Encode(ids.User, rs[i].UserID), Node: &rs[i]}
	}
	var start, end string
	if len(rs) > 0 {
		start, end = c.Edges[0].Cursor, c.Edges[len(rs)-1].Cursor
	}
	c.PageInfo = pageInfo(start, end, hasPrev, more)
	return c
}

// afterUser decodes a user-id paging cursor.
func afterUser(after *string) (string, error) {
	if after == nil || *after == "" {
		return "", nil
	}
	id, err := ids.DecodeAs(ids.User, *after)
	if err != nil {
		return "", &fault.Error{Code: fault.BadUserInput, Message: "malformed cursor", Field: "after"}
	}
	return id, nil
}

func role(r storage.Role) model.MemberRole { return model.MemberRole(r) }

// callerAnd returns the caller and decodes one global id argument of type typ.
func callerAnd(ctx context.Context, typ, global string) (me, id string, err error) {
	if me, err = caller(ctx); err != nil {
		return "", "", err
	}
	id, err = ids.DecodeAs(typ, global)
	return me, id, err
}

func decodeAll(typ string, globals []string) ([]string, error) {
	out := make([]string, len(globals))
	for i, g := range globals {
		id, err := ids.DecodeAs(typ, g)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

// node resolves any global id the caller may see; nil otherwise.
func (r *Resolver) node(ctx context.Context, me, global string) (ids.Node, error) {
	typ, id, err := ids.Decode(global)
	if err != nil {
		return nil, nil
	}
	var n ids.Node
	switch typ {
	case ids.User:
		var u storage.User
		u, err = loaders.For(ctx).User(ctx, id)
		n = &u
	case ids.Conversation:
		var c storage.Conversation
		c, err = r.Chat.Conversation(ctx, me, id)
		n = &c
	case ids.Message:
		var m storage.Message
		m, err = r.Chat.Message(ctx, me, id)
		n = &m
	default:
		n, err = r.mediaNode(ctx, me, typ, id)
	}
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, fault.ErrNotFound) {
		return nil, nil
	}
	return n, err
}

// events streams the caller's events: the domain's channel itself, with no
// goroutine of ours in between (an idle subscription costs one goroutine
// less). Why the stream ended (slow consumer, expired cursor, backend down)
// is handed to the transport, which asks once the channel has closed and
// closes the connection with the matching code.
// receipts pages the members whose cursor of kind reached m (readBy and
// deliveredTo).
func (r *Resolver) receipts(ctx context.Context, m *storage.Message, kind storage.CursorKind, first *int, after *string) (*model.UserAtConnection, error) {
	afterID, err := afterUser(after)
	if err != nil {
		return nil, err
	}
	me, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	rs, more, err := r.Chat.ReceiptsFor(ctx, me, *m, kind, optInt(first), afterID)
	if err != nil {
		return nil, err
	}
	return userAtConnection(rs, more, afterID != ""), nil
}
