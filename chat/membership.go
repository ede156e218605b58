package chat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"messenger/storage"
)

// MaxPinned is how many conversations a user may pin.
const MaxPinned = 5

// MembershipChange is an updateMembership: nil fields stay as they are.
// Muted false unmutes; Muted true without MutedUntil mutes forever;
// MutedUntil mutes until then.
type MembershipChange struct {
	Archived          *bool
	Pinned            *bool
	Muted             *bool
	MutedUntil        *time.Time
	NotificationLevel *storage.NotificationLevel
}

// MyMembership is my private state in one conversation as it reads now:
// Archived already reflects the un-archiving of a later message.
type MyMembership struct {
	ConversationID    string
	Archived          bool
	PinnedAt          time.Time
	MutedUntil        time.Time
	NotificationLevel storage.NotificationLevel
	MarkedUnread      bool
}

// Muted reports whether the conversation is muted at t.
func (m MyMembership) Muted(t time.Time) bool { return t.Before(m.MutedUntil) }

// effectiveArchived applies "a new message un-archives unless muted" to a
// stored state: it is read, never written, so a message to a 10,000-member
// group costs nothing here. A message that came while the member was muted
// (the conversation's last activity before the mute's end) keeps it
// archived.
func effectiveArchived(st storage.MemberState, c storage.Conversation) bool {
	if !st.Archived {
		return false
	}
	if c.LastSeq <= st.ArchivedSeq {
		return true
	}
	return c.LastActivityAt.Before(st.MutedUntil)
}

func view(st storage.MemberState, c storage.Conversation) MyMembership {
	return MyMembership{
		ConversationID: st.ConversationID, Archived: effectiveArchived(st, c), PinnedAt: st.PinnedAt,
		MutedUntil: st.MutedUntil, NotificationLevel: st.NotificationLevel, MarkedUnread: st.UnreadMark > 0,
	}
}

// MyMembership returns my state in a conversation I am a member of.
func (s *Service) MyMembership(ctx context.Context, me, conversationID string) (MyMembership, error) {
	if _, err := s.member(ctx, conversationID, me); err != nil {
		return MyMembership{}, err
	}
	c, err := s.conversation(ctx, conversationID)
	if err != nil {
		return MyMembership{}, err
	}
	st, err := s.store.MemberState(ctx, conversationID, me)
	if err != nil {
		return MyMembership{}, fmt.Errorf("chat: state of %s: %w", conversationID, err)
	}
	return view(st, c), nil
}

// UpdateMembership changes my archive, pin, mute and notification level of
// one conversation. Nobody else sees them; my devices hear
// MembershipUpdated. At most MaxPinned conversations are pinned.
func (s *Service) UpdateMembership(ctx context.Context, me, conversationID string, ch MembershipChange) (MyMembership, error) {
	now := s.now()
	if ch.MutedUntil != nil && ch.Muted != nil && !*ch.Muted {
		return MyMembership{}, badInput("mutedUntil", "give mutedUntil or muted: false, not both")
	}
	if ch.MutedUntil != nil && !ch.MutedUntil.After(now) {
		return MyMembership{}, badInput("mutedUntil", "mutedUntil must be in the future")
	}
	if l := ch.NotificationLevel; l != nil && *l != "" && *l != storage.NotifyAll && *l != storage.NotifyMentions && *l != storage.NotifyNone {
		return MyMembership{}, badInput("notificationLevel", "unknown notification level")
	}
	if _, err := s.member(ctx, conversationID, me); err != nil {
		return MyMembership{}, err
	}
	c, err := s.conversation(ctx, conversationID)
	if err != nil {
		return MyMembership{}, err
	}
	st, err := s.store.MemberState(ctx, conversationID, me)
	if err != nil {
		return MyMembership{}, fmt.Errorf("chat: state of %s: %w", conversationID, err)
	}
	// Store what the member sees: an archive a message already undid is
	// not revived by muting later.
	st.Archived = effectiveArchived(st, c)
	if ch.Archived != nil {
		st.Archived = *ch.Archived
		st.ArchivedSeq = c.LastSeq
	}
	if ch.Pinned != nil {
		if *ch.Pinned && st.PinnedAt.IsZero() {
			if err := s.roomToPin(ctx, me, conversationID); err != nil {
				return MyMembership{}, err
			}
			st.PinnedAt = now
		} else if !*ch.Pinned {
			st.PinnedAt = time.Time{}
		}
	}
	switch {
	case ch.MutedUntil != nil:
		st.MutedUntil = ch.MutedUntil.UTC().Truncate(time.Millisecond)
	case ch.Muted != nil && *ch.Muted:
		st.MutedUntil = storage.MutedForever
	case ch.Muted != nil:
		st.MutedUntil = time.Time{}
	}
	if ch.NotificationLevel != nil {
		st.NotificationLevel = *ch.NotificationLevel
	}
	if err := s.store.SetMemberState(ctx, me, st); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return MyMembership{}, notFound("conversation")
		}
		return MyMembership{}, fmt.Errorf("chat: update membership: %w", err)
	}
	v := view(st, c)
	s.emit(ctx, []string{me}, &MembershipUpdated{Membership: &v})
	return v, nil
}

// roomToPin refuses a pin beyond MaxPinned among my current conversations.
// Two devices pinning at the same instant may both pass: the limit is a
// screen's, not a store invariant.
func (s *Service) roomToPin(ctx context.Context, me, conversationID string) error {
	states, err := s.store.MemberStates(ctx, me)
	if err != nil {
		return fmt.Errorf("chat: states of %s: %w", me, err)
	}
	ids, err := s.store.UserConversationIDs(ctx, me)
	if err != nil {
		return fmt.Errorf("chat: list conversations: %w", err)
	}
	pinned := 0
	for _, id := range ids {
		if id != conversationID && !states[id].PinnedAt.IsZero() {
			pinned++
		}
	}
	if pinned >= MaxPinned {
		return badInput("pinned", fmt.Sprintf("at most %d conversations can be pinned; unpin one first", MaxPinned))
	}
	return nil
}

// MarkUnread marks a conversation unread for me: my read cursor reads as
// one message back, before the newest message someone else sent, so its
// unreadCount is at least 1 on all my devices until I read it again
// (MarkRead up to it). Receipts others see do not move back.
func (s *Service) MarkUnread(ctx context.Context, me, conversationID string) (storage.Conversation, error) {
	if _, err := s.member(ctx, conversationID, me); err != nil {
		return storage.Conversation{}, err
	}
	c, err := s.conversation(ctx, conversationID)
	if err != nil {
		return c, err
	}
	msgs, err := s.store.ListMessages(ctx, conversationID, me, 0, 0, 50, true)
	if err != nil {
		return c, fmt.Errorf("chat: mark unread: %w", err)
	}
	var mark int64
	for _, m := range msgs {
		if m.SenderID != me && m.DeletedAt == nil {
			mark = m.Seq
			break
		}
	}
	if mark == 0 {
		return c, badInput("conversationId", "no recent message from someone else to mark unread")
	}
	st, err := s.store.MemberState(ctx, conversationID, me)
	if err != nil {
		return c, fmt.Errorf("chat: state of %s: %w", conversationID, err)
	}
	st.Archived = effectiveArchived(st, c)
	st.UnreadMark = mark
	if err := s.store.SetMemberState(ctx, me, st); err != nil {
		return c, fmt.Errorf("chat: mark unread: %w", err)
	}
	v := view(st, c)
	s.emit(ctx, []string{me}, &MembershipUpdated{Membership: &v})
	return c, nil
}

// readMark applies my unread mark to my membership (see MarkUnread).
func (s *Service) readMark(ctx context.Context, m storage.Member) (storage.Member, error) {
	st, err := s.store.MemberState(ctx, m.ConversationID, m.UserID)
	if err != nil {
		return m, fmt.Errorf("chat: state of %s: %w", m.ConversationID, err)
	}
	if st.UnreadMark > 0 {
		m.ReadSeq = min(max(m.ReadSeq, m.JoinedSeq), st.UnreadMark-1)
	}
	return m, nil
}

// clearUnreadMark drops my unread mark once I read up to it.
func (s *Service) clearUnreadMark(ctx context.Context, me, conversationID string, seq int64) {
	st, err := s.store.MemberState(ctx, conversationID, me)
	if err != nil || st.UnreadMark == 0 || seq < st.UnreadMark {
		return
	}
	st.UnreadMark = 0
	if err := s.store.SetMemberState(ctx, me, st); err != nil {
		s.cfg.Logger.Warn("unread mark not cleared", "conversation", conversationID, "err", err)
		return
	}
	if c, err := s.conversation(ctx, conversationID); err == nil {
		v := view(st, c)
		s.emit(ctx, []string{me}, &MembershipUpdated{Membership: &v})
	}
}

// MemberStates returns every per-member state I have set, by conversation
// id, in one read (loaders read it once per request).
func (s *Service) MemberStates(ctx context.Context, me string) (map[string]storage.MemberState, error) {
	return s.store.MemberStates(ctx, me)
}

// Drafts returns all my drafts by conversation id, in one read.
func (s *Service) Drafts(ctx context.Context, me string) (map[string]storage.Draft, error) {
	return s.store.Drafts(ctx, me)
}

// ViewMembership is my state st in conversation c as it reads now (see
// MyMembership); the caller has checked that c is mine.
func ViewMembership(c storage.Conversation, st storage.MemberState) MyMembership {
	st.ConversationID = c.ID
	return view(st, c)
}
