package resolvers

import (
	"context"

	"messenger/chat"
	"messenger/fault"
	"messenger/graph/model"
	"messenger/ids"
	"messenger/loaders"
	"messenger/storage"
)

// sendRefs reads the reply, thread and mention fields of a message to
// send from their global ids.
func sendRefs(input model.SendMessageInput) (chat.SendRefs, error) {
	var refs chat.SendRefs
	var err error
	if input.ReplyToID != nil {
		if refs.ReplyToID, err = ids.DecodeAs(ids.Message, *input.ReplyToID); err != nil {
			return refs, &fault.Error{Code: fault.BadUserInput, Message: "replyToId is not a message id", Field: "replyToId"}
		}
	}
	if input.ThreadRootID != nil {
		if refs.ThreadRootID, err = ids.DecodeAs(ids.Message, *input.ThreadRootID); err != nil {
			return refs, &fault.Error{Code: fault.BadUserInput, Message: "threadRootId is not a message id", Field: "threadRootId"}
		}
	}
	if refs.Mentions, err = mentionIDs(input.Mentions); err != nil {
		return refs, err
	}
	refs.MentionAll = input.MentionAll != nil && *input.MentionAll
	return refs, nil
}

func mentionIDs(globals []string) ([]string, error) {
	out, err := decodeAll(ids.User, globals)
	if err != nil {
		return nil, &fault.Error{Code: fault.BadUserInput, Message: "mentions must be user ids", Field: "mentions"}
	}
	return out, nil
}

// messageConnection is a page of messages as a connection, with the page
// named to the loaders (attachments of the whole page in one lookup).
func messageConnection(ctx context.Context, p chat.MessagePage) *model.MessageConnection {
	loaders.For(ctx).Page(p.Messages)
	c := &model.MessageConnection{Edges: make([]*model.MessageEdge, len(p.Messages))}
	for i := range p.Messages {
		c.Edges[i] = &model.MessageEdge{Cursor: chat.MessageCursor(p.Messages[i].Seq), Node: &p.Messages[i]}
	}
	var start, end string
	if len(c.Edges) > 0 {
		start, end = c.Edges[0].Cursor, c.Edges[len(c.Edges)-1].Cursor
	}
	c.PageInfo = pageInfo(start, end, p.HasPrevious, p.HasNext)
	return c
}

func threadRootID(m *storage.Message) *string {
	if m == nil || m.ThreadRootSeq == 0 {
		return nil
	}
	id := ids.Encode(ids.Message, storage.MessageID(m.ConversationID, m.ThreadRootSeq))
	return &id
}

// mentionsMe tells whether m mentions the caller.
func mentionsMe(ctx context.Context, m *storage.Message) (bool, error) {
	me, err := caller(ctx)
	if err != nil || m == nil {
		return false, err
	}
	return chat.MentionsUser(*m, me), nil
}
