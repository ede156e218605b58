package resolvers

import (
	"context"

	"messenger/ids"

	"messenger/chat"
	"messenger/graph/model"
)

// conversationFilter reads the conversations(filter:) argument.
func conversationFilter(f *model.ConversationFilter) chat.ConversationFilter {
	if f == nil {
		return chat.ConversationFilter{}
	}
	return chat.ConversationFilter{Archived: f.Archived, UnreadOnly: f.UnreadOnly != nil && *f.UnreadOnly}
}

// optUploadID decodes an optional upload id; "" (remove) stays "".
func optUploadID(global *string) (*string, error) {
	if global == nil || *global == "" {
		return global, nil
	}
	id, err := ids.DecodeAs(uploadType, *global)
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// avatarURL signs an avatar image's URL.
func (r *Resolver) avatarURL(ctx context.Context, key string) (string, error) {
	m, err := r.media()
	if err != nil {
		return "", err
	}
	return m.AvatarURL(ctx, key)
}
