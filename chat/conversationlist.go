package chat

import (
	"context"
	"fmt"
	"time"

	"messenger/storage"
)

// ConversationFilter narrows my conversation list. Nil fields do not
// filter.
type ConversationFilter struct {
	// Archived true lists only archived conversations, false only the
	// others (the main list).
	Archived *bool
	// UnreadOnly lists only conversations with something unread for me
	// (or marked unread).
	UnreadOnly bool
}

// ConversationCounts are how many of my conversations each list holds.
type ConversationCounts struct {
	// All is every conversation not archived (the main list).
	All int
	// Archived is the archived ones.
	Archived int
	// Unread is those with something unread or marked unread, archived or
	// not.
	Unread int
	// Pinned is the pinned ones.
	Pinned int
}

// pinnedBase lifts a pinned conversation's sort key above every activity
// time (nanoseconds since 1970 stay below 2^62 until the year 2116).
const pinnedBase = int64(1) << 62

// listedConversation is a conversation with its place in my list.
type listedConversation struct {
	c   storage.Conversation
	key storage.Conversation // ID and LastActivityAt = the sort key
}

// listed loads my conversations that pass f, with their sort keys: one
// read of my memberships, one of my states, one batch of conversations;
// UnreadOnly adds a membership read per conversation with newer messages
// than my cursor.
func (s *Service) listed(ctx context.Context, me string, f ConversationFilter) ([]listedConversation, error) {
	ids, err := s.store.UserConversationIDs(ctx, me)
	if err != nil {
		return nil, fmt.Errorf("chat: list conversations: %w", err)
	}
	byID, err := s.store.Conversations(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("chat: load conversations: %w", err)
	}
	states, err := s.store.MemberStates(ctx, me)
	if err != nil {
		return nil, fmt.Errorf("chat: load states: %w", err)
	}
	out := make([]listedConversation, 0, len(byID))
	for _, c := range byID {
		st := states[c.ID]
		if f.Archived != nil && effectiveArchived(st, c) != *f.Archived {
			continue
		}
		if f.UnreadOnly {
			unread, err := s.hasUnread(ctx, me, c, st)
			if err != nil {
				return nil, err
			}
			if !unread {
				continue
			}
		}
		key := storage.Conversation{ID: c.ID, LastActivityAt: c.LastActivityAt}
		if !st.PinnedAt.IsZero() {
			key.LastActivityAt = time.Unix(0, pinnedBase+st.PinnedAt.UnixNano())
		}
		out = append(out, listedConversation{c: c, key: key})
	}
	return out, nil
}

// hasUnread reports whether c has a message I should read, or my mark.
func (s *Service) hasUnread(ctx context.Context, me string, c storage.Conversation, st storage.MemberState) (bool, error) {
	if st.UnreadMark > 0 {
		return true, nil
	}
	m, err := s.store.Member(ctx, c.ID, me)
	if err != nil {
		return false, nil // left meanwhile: not listed as unread
	}
	from := max(m.ReadSeq, m.JoinedSeq)
	if from >= c.LastSeq {
		return false, nil
	}
	n, err := s.store.CountUnread(ctx, c.ID, me, from)
	if err != nil {
		return false, fmt.Errorf("chat: count unread: %w", err)
	}
	return n > 0, nil
}

// ConversationCounts counts my conversations per list.
func (s *Service) ConversationCounts(ctx context.Context, me string) (ConversationCounts, error) {
	var n ConversationCounts
	ids, err := s.store.UserConversationIDs(ctx, me)
	if err != nil {
		return n, fmt.Errorf("chat: list conversations: %w", err)
	}
	byID, err := s.store.Conversations(ctx, ids)
	if err != nil {
		return n, fmt.Errorf("chat: load conversations: %w", err)
	}
	states, err := s.store.MemberStates(ctx, me)
	if err != nil {
		return n, fmt.Errorf("chat: load states: %w", err)
	}
	for _, c := range byID {
		st := states[c.ID]
		if effectiveArchived(st, c) {
			n.Archived++
		} else {
			n.All++
		}
		if !st.PinnedAt.IsZero() {
			n.Pinned++
		}
		unread, err := s.hasUnread(ctx, me, c, st)
		if err != nil {
			return n, err
		}
		if unread {
			n.Unread++
		}
	}
	return n, nil
}
