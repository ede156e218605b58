package media

import "messenger/chat"

// Story events. They travel through the chat domain's event logs
// (chat.Service.Publish) but are this package's: registered with chat so
// that every subscriber can decode them. Events carry the story's id; the
// API resolves the story (null once it expired or was deleted).
type (
	// StoryPosted: a contact posted a story.
	StoryPosted struct {
		Cursor    string `json:"-"`
		Ephemeral bool   `json:"-"`
		StoryID   string `json:"storyId"`
		AuthorID  string `json:"authorId"`
	}
	// StoryReaction: someone reacted to my story.
	StoryReaction struct {
		Cursor    string `json:"-"`
		Ephemeral bool   `json:"-"`
		StoryID   string `json:"storyId"`
		UserID    string `json:"userId"`
		Emoji     string `json:"emoji"`
	}
)

// EventType implements chat.Event.
func (*StoryPosted) EventType() string   { return "StoryPosted" }
func (*StoryReaction) EventType() string { return "StoryReaction" }

// WithCursor implements chat.Event.
func (e StoryPosted) WithCursor(c string) chat.Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func (e StoryReaction) WithCursor(c string) chat.Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func init() {
	chat.RegisterEvent(func() chat.Event { return &StoryPosted{} })
	chat.RegisterEvent(func() chat.Event { return &StoryReaction{} })
}
