package chat

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"messenger/realtime"
	"messenger/storage"
)

// Event is something that happened that concerns a user. The GraphQL Event
// interface is bound to it; every event type below implements it, and so
// do the event types other domains register (RegisterEvent). Durable
// events carry the Cursor of the receiving user's log; ephemeral ones
// (typing, presence) have none.
type Event interface {
	// EventType names the event, as in the schema.
	EventType() string
	// WithCursor returns a copy of the event stamped with the receiving
	// user's cursor, or marked ephemeral when cursor is "". The event
	// itself may be shared by every recipient (the in-process log hands
	// out the value the writer made), so it is copied, never changed; the
	// copy shares its pointers, which resolvers only read.
	WithCursor(cursor string) Event
}

// Durable events.
type (
	// MessageAdded: a message was sent.
	MessageAdded struct {
		Cursor    string           `json:"-"`
		Ephemeral bool             `json:"-"`
		Message   *storage.Message `json:"message"`
	}
	// ConversationUpdated: a conversation was created or changed.
	ConversationUpdated struct {
		Cursor       string                `json:"-"`
		Ephemeral    bool                  `json:"-"`
		Conversation *storage.Conversation `json:"conversation"`
		// Changed names the fields an update changed (empty: not said).
		Changed []string `json:"changed,omitempty"`
	}
	// MessageUpdated: a message was edited.
	MessageUpdated struct {
		Cursor    string           `json:"-"`
		Ephemeral bool             `json:"-"`
		Message   *storage.Message `json:"message"`
	}
	// MessageDeleted: deleted for everyone, or by the receiver for themself.
	MessageDeleted struct {
		Cursor         string `json:"-"`
		Ephemeral      bool   `json:"-"`
		ConversationID string `json:"conversationId"`
		MessageID      string `json:"messageId"`
		Seq            int64  `json:"seq"`
		ForEveryone    bool   `json:"forEveryone"`
		// DeletedByID is the moderator who deleted someone else's message
		// for everyone ("" for a sender's recall or a hide).
		DeletedByID string `json:"deletedById,omitempty"`
	}
	// ReactionUpdated: a reaction was added or removed.
	ReactionUpdated struct {
		Cursor    string           `json:"-"`
		Ephemeral bool             `json:"-"`
		Message   *storage.Message `json:"message"`
		UserID    string           `json:"userId"`
		Emoji     string           `json:"emoji"`
		Added     bool             `json:"added"`
	}
	// ReadCursorMoved: a member read up to Seq.
	ReadCursorMoved struct {
		Cursor         string    `json:"-"`
		Ephemeral      bool      `json:"-"`
		ConversationID string    `json:"conversationId"`
		UserID         string    `json:"userId"`
		Seq            int64     `json:"seq"`
		At             time.Time `json:"at"`
	}
	// DeliveryCursorMoved: messages up to Seq reached a member's device.
	DeliveryCursorMoved struct {
		Cursor         string    `json:"-"`
		Ephemeral      bool      `json:"-"`
		ConversationID string    `json:"conversationId"`
		UserID         string    `json:"userId"`
		Seq            int64     `json:"seq"`
		At             time.Time `json:"at"`
	}
	// MemberJoined: a user joined a conversation.
	MemberJoined struct {
		Cursor       string                `json:"-"`
		Ephemeral    bool                  `json:"-"`
		Conversation *storage.Conversation `json:"conversation"`
		UserID       string                `json:"userId"`
		ByID         string                `json:"byId,omitempty"`
	}
	// MemberLeft: a user left or was removed.
	MemberLeft struct {
		Cursor         string `json:"-"`
		Ephemeral      bool   `json:"-"`
		ConversationID string `json:"conversationId"`
		UserID         string `json:"userId"`
		ByID           string `json:"byId,omitempty"`
	}
)

// Ephemeral events.
type (
	// TypingUpdated: someone started or stopped typing.
	TypingUpdated struct {
		Cursor         string     `json:"-"`
		Ephemeral      bool       `json:"-"`
		ConversationID string     `json:"conversationId"`
		UserID         string     `json:"userId"`
		Typing         bool       `json:"typing"`
		ExpiresAt      *time.Time `json:"expiresAt,omitempty"`
	}
	// PresenceUpdated: someone came online or went offline.
	PresenceUpdated struct {
		Cursor     string     `json:"-"`
		Ephemeral  bool       `json:"-"`
		UserID     string     `json:"userId"`
		Online     bool       `json:"online"`
		LastSeenAt *time.Time `json:"lastSeenAt,omitempty"`
	}
)

// EventType implements Event.
func (*MessageAdded) EventType() string        { return "MessageAdded" }
func (*ConversationUpdated) EventType() string { return "ConversationUpdated" }
func (*MessageUpdated) EventType() string      { return "MessageUpdated" }
func (*MessageDeleted) EventType() string      { return "MessageDeleted" }
func (*ReactionUpdated) EventType() string     { return "ReactionUpdated" }
func (*ReadCursorMoved) EventType() string     { return "ReadCursorMoved" }
func (*DeliveryCursorMoved) EventType() string { return "DeliveryCursorMoved" }
func (*MemberJoined) EventType() string        { return "MemberJoined" }
func (*MemberLeft) EventType() string          { return "MemberLeft" }
func (*TypingUpdated) EventType() string       { return "TypingUpdated" }
func (*PresenceUpdated) EventType() string     { return "PresenceUpdated" }

// WithCursor implements Event.
func (e MessageAdded) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func (e ConversationUpdated) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func (e MessageUpdated) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func (e MessageDeleted) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func (e ReactionUpdated) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func (e ReadCursorMoved) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func (e DeliveryCursorMoved) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func (e MemberJoined) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func (e MemberLeft) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func (e TypingUpdated) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func (e PresenceUpdated) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

// eventTypes makes an empty event of each registered type, by EventType:
// what a subscriber decodes an event's bytes into when its log keeps them
// in another process (Redis).
var eventTypes = struct {
	sync.RWMutex
	zero map[string]func() Event
}{zero: map[string]func() Event{}}

// RegisterEvent makes the events that zero makes (an empty value of one
// event type) decodable by every subscriber: a domain that publishes its
// own event types (media: stories) registers each from an init function.
// Registering a type name twice keeps the last.
func RegisterEvent(zero func() Event) {
	eventTypes.Lock()
	defer eventTypes.Unlock()
	eventTypes.zero[zero().EventType()] = zero
}

func init() {
	for _, zero := range []func() Event{
		func() Event { return &MessageAdded{} },
		func() Event { return &ConversationUpdated{} },
		func() Event { return &MessageUpdated{} },
		func() Event { return &MessageDeleted{} },
		func() Event { return &ReactionUpdated{} },
		func() Event { return &ReadCursorMoved{} },
		func() Event { return &DeliveryCursorMoved{} },
		func() Event { return &MemberJoined{} },
		func() Event { return &MemberLeft{} },
		func() Event { return &TypingUpdated{} },
		func() Event { return &PresenceUpdated{} },
	} {
		RegisterEvent(zero)
	}
}

// newEvent returns an empty event of the registered type typ, or nil.
func newEvent(typ string) Event {
	eventTypes.RLock()
	zero := eventTypes.zero[typ]
	eventTypes.RUnlock()
	if zero == nil {
		return nil
	}
	return zero()
}

// withCursor stamps e for one recipient (see Event.WithCursor).
func withCursor(e Event, cursor string) Event { return e.WithCursor(cursor) }

func encode(e Event) (realtime.Event, error) {
	data, err := json.Marshal(e)
	return realtime.Event{Type: e.EventType(), Data: data, Value: e}, err
}

// emit appends a durable event to the logs of userIDs. The durable write it
// reports has already happened, so a failure here is not returned: the
// event is deferred to the outbox, whose sweeper appends it when the log is
// back (see outbox.go). The event gets an id first, so that replay adds it
// only where a partly failed append did not.
func (s *Service) emit(ctx context.Context, userIDs []string, e Event) {
	ev, err := encode(e)
	if err != nil {
		s.cfg.Logger.Error("event not encodable", "type", e.EventType(), "err", err)
		return
	}
	ev.ID = newEventID()
	ctx = context.WithoutCancel(ctx)
	if err := s.log.Append(ctx, userIDs, ev); err != nil {
		s.deferFanOut(ctx, userIDs, ev, err)
	}
}

// signal sends an ephemeral event to whoever of userIDs is subscribed now.
func (s *Service) signal(ctx context.Context, userIDs []string, e Event) {
	ev, err := encode(e)
	if err == nil {
		err = s.log.Signal(context.WithoutCancel(ctx), userIDs, ev)
	}
	if err != nil {
		s.cfg.Logger.Warn("signal dropped", "type", e.EventType(), "err", err)
	}
}
