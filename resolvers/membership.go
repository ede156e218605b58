package resolvers

import (
	"time"

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

// optTime is t, or nil for the zero time.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
