package chat

import "messenger/storage"

// Events of per-member state: each goes to the member's own devices only.
type (
	// MembershipUpdated: my archive, pin, mute, level or unread mark of a
	// conversation changed.
	MembershipUpdated struct {
		Cursor     string        `json:"-"`
		Ephemeral  bool          `json:"-"`
		Membership *MyMembership `json:"membership"`
	}
	// DraftUpdated: my draft of a conversation was saved (Draft set) or
	// cleared (Draft nil: deleted or sent).
	DraftUpdated struct {
		Cursor         string         `json:"-"`
		Ephemeral      bool           `json:"-"`
		ConversationID string         `json:"conversationId"`
		Draft          *storage.Draft `json:"draft,omitempty"`
	}
	// ConversationDeleted: the owner deleted a group; its history goes
	// with it.
	ConversationDeleted struct {
		Cursor         string `json:"-"`
		Ephemeral      bool   `json:"-"`
		ConversationID string `json:"conversationId"`
		ByID           string `json:"byId"`
	}
	// UserUpdated: a user's profile changed (to them and their contacts).
	UserUpdated struct {
		Cursor    string `json:"-"`
		Ephemeral bool   `json:"-"`
		UserID    string `json:"userId"`
	}
)

// EventType implements Event.
func (*MembershipUpdated) EventType() string { return "MembershipUpdated" }

// EventType implements Event.
func (*DraftUpdated) EventType() string { return "DraftUpdated" }

// EventType implements Event.
func (*UserUpdated) EventType() string { return "UserUpdated" }

// EventType implements Event.
func (*ConversationDeleted) EventType() string { return "ConversationDeleted" }

// WithCursor implements Event.
func (e ConversationDeleted) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

// WithCursor implements Event.
func (e MembershipUpdated) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

// WithCursor implements Event.
func (e DraftUpdated) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

// WithCursor implements Event.
func (e UserUpdated) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func init() {
	RegisterEvent(func() Event { return &MembershipUpdated{} })
	RegisterEvent(func() Event { return &DraftUpdated{} })
	RegisterEvent(func() Event { return &UserUpdated{} })
	RegisterEvent(func() Event { return &ConversationDeleted{} })
}
