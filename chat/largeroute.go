package chat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"messenger/realtime"
	"messenger/storage"
)

// Routing of a streamed conversation's events (docs/large-groups.md).
//
// A conversation is streamed once marked (noteMemberCount), but its
// events go to its stream only once the stream is *started*: the first
// message fan-out after the mark (in its turn, so ordered with the
// messages around it) appends a start marker to the stream, records the
// start (a second sticky mark, startedMark), gives every member a pointer
// to the marker's position and only then appends its message to the
// stream. Until the start every event is fanned out on write, as for a
// small conversation; after it every durable event of the conversation
// is appended once, to StreamKey.

// startedMark names, in storage.LargeGroups, the sticky mark "the stream
// of conversationID is started". Conversation ids never contain '/'.
func startedMark(conversationID string) string { return "started/" + conversationID }

// streamStartPatience bounds how long a subscription waits to read back
// the position marker it appended to its own log (placeOwn).
const streamStartPatience = 15 * time.Second

// StreamPointer is an internal event of a member's own log: read the
// stream of ConversationID after Position. A subscription consumes it; a
// client never sees it.
type StreamPointer struct {
	Cursor         string `json:"-"`
	Ephemeral      bool   `json:"-"`
	ConversationID string `json:"conversationId"`
	Position       string `json:"position"`
}

// StreamStarted is the internal start marker of a conversation's stream.
type StreamStarted struct {
	Cursor         string `json:"-"`
	Ephemeral      bool   `json:"-"`
	ConversationID string `json:"conversationId"`
}

// EventType implements Event.
func (StreamPointer) EventType() string { return "StreamPointer" }

// EventType implements Event.
func (StreamStarted) EventType() string { return "StreamStarted" }

// WithCursor implements Event.
func (e StreamPointer) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

// WithCursor implements Event.
func (e StreamStarted) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func init() {
	RegisterEvent(func() Event { return &StreamPointer{} })
	RegisterEvent(func() Event { return &StreamStarted{} })
}

// internalEvent reports whether e is for subscriptions only.
func internalEvent(e Event) bool {
	switch e.(type) {
	case *StreamPointer, *StreamStarted:
		return true
	}
	return false
}

// startedCache remembers the conversations whose stream is started: the
// mark is sticky, so a positive answer never goes stale.
type startedCache struct{ m sync.Map }

// streamState reads whether conversationID is marked and started. A
// started conversation is answered from the cache, and so is a direct
// conversation known to this instance: only a create, add or join of a
// group or channel marks (noteMemberCount), so a direct one is never
// streamed, and its messages' fan-out reads no mark.
func (s *Service) streamState(ctx context.Context, conversationID string) (marked, started bool, err error) {
	if _, ok := s.started.m.Load(conversationID); ok {
		return true, true, nil
	}
	if key, ok := s.kinds.get(conversationID); ok && key != "" && key != channelKey {
		return false, false, nil
	}
	got, err := s.store.Streamed(ctx, []string{conversationID, startedMark(conversationID)})
	if err != nil {
		return false, false, err
	}
	if got[startedMark(conversationID)] {
		s.started.m.Store(conversationID, struct{}{})
		return true, true, nil
	}
	return got[conversationID], false, nil
}

// streamStarted reports whether conversationID's events go to its stream.
// When the store cannot tell, they are fanned out on write: every member
// whose subscription reads the stream reads its own log too, so nothing
// is lost.
func (s *Service) streamStarted(ctx context.Context, conversationID string) bool {
	_, started, err := s.streamState(ctx, conversationID)
	if err != nil {
		s.cfg.Logger.Warn("stream state unknown: fanning out on write", "conversation", conversationID, "err", err)
	}
	return started
}

// audience is who hears a conversation-wide event now: nobody by name once
// its stream is started (the event goes to the stream, and the mark never
// goes back), else its members, read in pages. So a join or a leave of a
// 200,000-member group reads no member list.
func (s *Service) audience(ctx context.Context, conversationID string) ([]string, error) {
	if s.streamStarted(ctx, conversationID) {
		return nil, nil
	}
	return s.memberIDs(ctx, conversationID)
}

// emitConversation appends e, a durable event of conversationID, for all
// of its current members: once to its stream when it is started, else to
// every member's log.
func (s *Service) emitConversation(ctx context.Context, conversationID string, e Event) {
	if s.streamStarted(ctx, conversationID) {
		s.emit(ctx, []string{StreamKey(conversationID)}, e)
		return
	}
	ids, err := s.memberIDs(ctx, conversationID)
	if err != nil {
		s.cfg.Logger.Warn("event not delivered: members unknown", "type", e.EventType(), "conversation", conversationID, "err", err)
		return
	}
	s.emit(ctx, ids, e)
}

// appendConversation appends e, a durable event of conversationID meant
// for recipients (its members, as the caller counts them): once to the
// stream when it is started, else to each recipient's log. Every
// conversation-wide event goes through it (or emitConversation).
func (s *Service) appendConversation(ctx context.Context, conversationID string, recipients []string, e Event) {
	if s.streamStarted(ctx, conversationID) {
		recipients = []string{StreamKey(conversationID)}
	}
	s.emit(ctx, recipients, e)
}

// appendAt appends ev to key and returns its cursor there.
func (s *Service) appendAt(ctx context.Context, key string, ev realtime.Event) (string, error) {
	c, err := s.log.AppendAt(ctx, key, ev)
	if err != nil {
		return "", fmt.Errorf("chat: stream %s: %w", key, err)
	}
	return c, nil
}

// errNotStarted: the stream could not be started now; the fan-out goes on
// writing to the members' logs and the next one tries again.
var errNotStarted = errors.New("chat: stream not started")

// startStream switches conversationID to its stream, inside a message
// fan-out's turn: start marker (position P), the started mark, a pointer
// {conversation, P} in every member's log (and the member's index), in
// that order. A join that saw the conversation not started yet added its
// member before the mark, so the members read after it include them.
func (s *Service) startStream(ctx context.Context, conversationID string) error {
	ev, err := encode(&StreamStarted{ConversationID: conversationID})
	if err != nil {
		return err
	}
	ev.ID = newEventID()
	pos, err := s.appendAt(ctx, StreamKey(conversationID), ev)
	if err != nil {
		return fmt.Errorf("%w: %w", errNotStarted, err)
	}
	if _, err := s.store.MarkStreamed(ctx, startedMark(conversationID)); err != nil {
		return fmt.Errorf("%w: %w", errNotStarted, err)
	}
	s.started.m.Store(conversationID, struct{}{})
	ptr := &StreamPointer{ConversationID: conversationID, Position: pos}
	err = storage.EachMemberPage(ctx, s.store, conversationID, func(ms []storage.Member) error {
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.UserID
			if err := s.store.SetStreamedMember(ctx, m.UserID, conversationID, true); err != nil {
				s.cfg.Logger.Warn("streamed index not updated", "user", m.UserID, "conversation", conversationID, "err", err)
			}
		}
		s.emit(ctx, ids, ptr) // a failed append goes to the outbox
		return nil
	})
	if err != nil {
		s.cfg.Logger.Error("stream started, members not all pointed to it", "conversation", conversationID, "err", err)
	}
	s.cfg.Logger.Info("conversation stream started", "conversation", conversationID)
	return nil
}

// messageKeys returns where a message's event goes, inside its fan-out's
// turn: the stream (started now if the conversation is marked), or ids,
// the members' logs.
func (s *Service) messageKeys(ctx context.Context, conversationID string, ids []string) []string {
	marked, started, err := s.streamState(ctx, conversationID)
	if err != nil {
		s.cfg.Logger.Warn("stream state unknown: fanning out on write", "conversation", conversationID, "err", err)
		return ids
	}
	if marked && !started {
		if err := s.startStream(ctx, conversationID); err != nil {
			s.cfg.Logger.Warn("stream not started: fanning out on write", "conversation", conversationID, "err", err)
			return ids
		}
		started = true
	}
	if started {
		return []string{StreamKey(conversationID)}
	}
	return ids
}

// emitJoins tells a conversation's members that added joined (by by):
// one MemberJoined each to recipients (everyone), or, for a bulk add, one
// ConversationUpdated to recipients (the members before) and each
// newcomer's own MemberJoined to them alone. When the stream is started,
// the conversation-wide events go into it after a marker (position J),
// and every newcomer gets a pointer to J (and the index entry).
func (s *Service) emitJoins(ctx context.Context, c storage.Conversation, recipients, added []string, by string, bulk bool) {
	if !s.streamStarted(ctx, c.ID) {
		if !bulk {
			for _, id := range added {
				s.emit(ctx, recipients, &MemberJoined{Conversation: &c, UserID: id, ByID: by})
			}
			return
		}
		s.emit(ctx, recipients, &ConversationUpdated{Conversation: &c})
		for _, id := range added {
			s.emit(ctx, []string{id}, &MemberJoined{Conversation: &c, UserID: id, ByID: by})
		}
		return
	}
	ctx = context.WithoutCancel(ctx)
	key := []string{StreamKey(c.ID)}
	ev, err := encode(&StreamStarted{ConversationID: c.ID})
	if err != nil {
		return
	}
	ev.ID = newEventID()
	pos, err := s.appendAt(ctx, key[0], ev)
	if err != nil {
		// The newcomers cannot be pointed to the stream: they would miss
		// it. Their membership stands; they resync on their next
		// subscription from now (their index has the conversation).
		s.cfg.Logger.Error("newcomers not pointed to the stream", "conversation", c.ID, "joined", len(added), "err", err)
	}
	for _, id := range added {
		if err := s.store.SetStreamedMember(ctx, id, c.ID, true); err != nil {
			s.cfg.Logger.Warn("streamed index not updated", "user", id, "conversation", c.ID, "err", err)
		}
	}
	if bulk {
		s.emit(ctx, key, &ConversationUpdated{Conversation: &c})
		for _, id := range added {
			s.emit(ctx, []string{id}, &MemberJoined{Conversation: &c, UserID: id, ByID: by})
		}
	} else {
		for _, id := range added {
			s.emit(ctx, key, &MemberJoined{Conversation: &c, UserID: id, ByID: by})
		}
	}
	if pos != "" {
		s.emit(ctx, added, &StreamPointer{ConversationID: c.ID, Position: pos})
	}
}

// emitLeft tells a conversation's members (before: including the leaver)
// that userID left; in a started stream the leaver's subscriptions stop
// reading it at that event.
func (s *Service) emitLeft(ctx context.Context, conversationID string, before []string, userID, by string) {
	s.appendConversation(ctx, conversationID, before, &MemberLeft{ConversationID: conversationID, UserID: userID, ByID: by})
	if _, started, err := s.streamState(ctx, conversationID); err == nil && started {
		if err := s.store.SetStreamedMember(context.WithoutCancel(ctx), userID, conversationID, false); err != nil {
			s.cfg.Logger.Warn("streamed index not updated", "user", userID, "conversation", conversationID, "err", err)
		}
	}
}
