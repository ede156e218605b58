package resolvers

import (
	"context"
	"strconv"

	"messenger/chat"
	"messenger/fault"
	"messenger/graph/model"
	"messenger/ids"
)

// editConnection is a page of previous versions as a connection.
func editConnection(p chat.EditPage) *model.MessageEditConnection {
	c := &model.MessageEditConnection{Edges: make([]*model.MessageEditEdge, len(p.Edits))}
	for i := range p.Edits {
		c.Edges[i] = &model.MessageEditEdge{Cursor: chat.EditCursor(p.Edits[i]), Node: &p.Edits[i]}
	}
	var start, end string
	if len(c.Edges) > 0 {
		start, end = c.Edges[0].Cursor, c.Edges[len(c.Edges)-1].Cursor
	}
	c.PageInfo = pageInfo(start, end, false, p.HasNext)
	return c
}

// aroundOf reads messages(around:): a message's global id, or a seq.
func aroundOf(around string) (chat.Around, error) {
	if id, err := ids.DecodeAs(ids.Message, around); err == nil {
		return chat.Around{MessageID: id}, nil
	}
	seq, err := strconv.ParseInt(around, 10, 64)
	if err != nil || seq <= 0 {
		return chat.Around{}, &fault.Error{Code: fault.BadUserInput, Message: "around is a message id or a positive seq", Field: "around"}
	}
	return chat.Around{Seq: seq}, nil
}

// messagesAround is messages(around:), a page centred on one message.
func (r *queryResolver) messagesAround(ctx context.Context, me, conv, around string, a chat.HistoryArgs) (chat.MessagePage, error) {
	at, err := aroundOf(around)
	if err != nil {
		return chat.MessagePage{}, err
	}
	return r.Chat.HistoryAround(ctx, me, conv, at, a)
}
