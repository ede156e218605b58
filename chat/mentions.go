package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"messenger/storage"
)

// Mentions are structured: a message names the users it mentions
// (SendRefs.Mentions, each a member, at most storage.MaxMentions) and may
// mention everyone (SendRefs.MentionAll). In a group of more than
// mentionAllOpenTo members only owners and admins may mention everyone.
//
// A mention is unread while its message is after the user's read cursor:
// counts are derived from the store's mention entries bounded by the read
// cursor (never kept as counters), so they cannot drift. Recalling a
// message drops its mentions; hiding it drops the hider's; an edit may
// change them (EditMentions).

// mentionAllOpenTo is the largest group in which any member may mention
// everyone.
const mentionAllOpenTo = smallGroup

// MentionsUser reports whether m mentions userID: by name, or by mentioning
// everyone (which the domain only stored when the sender was allowed to).
// A sender never mentions themself. Push uses it to let a mention through a
// conversation set to MENTIONS.
func MentionsUser(m storage.Message, userID string) bool {
	if m.SenderID == userID || m.DeletedAt != nil {
		return false
	}
	return m.MentionAll || slices.Contains(m.Mentions, userID)
}

// checkMentions validates the mentions of a message I send or edit in
// mem's conversation and returns them deduplicated, in the order given.
func (s *Service) checkMentions(ctx context.Context, mem storage.Member, mentions []string, all bool) ([]string, error) {
	var out []string
	for _, u := range mentions {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	if len(out) > storage.MaxMentions {
		return nil, badInput("mentions", fmt.Sprintf("a message mentions at most %d users; this one names %d", storage.MaxMentions, len(out)))
	}
	if err := s.allMembers(ctx, mem.ConversationID, out); err != nil {
		return nil, err
	}
	if all && mem.Role != storage.RoleOwner && mem.Role != storage.RoleAdmin {
		ms, err := s.store.Members(ctx, mem.ConversationID, "", mentionAllOpenTo+1)
		if err != nil {
			return nil, fmt.Errorf("chat: count members: %w", err)
		}
		if len(ms) > mentionAllOpenTo {
			return nil, forbidden(fmt.Sprintf("in a group of more than %d members only owners and admins may mention everyone", mentionAllOpenTo))
		}
	}
	return out, nil
}

// allMembers checks that every user in ids is a member, reading their
// memberships at once.
func (s *Service) allMembers(ctx context.Context, conversationID string, ids []string) error {
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, u := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.store.Member(ctx, conversationID, u)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if errors.Is(err, storage.ErrNotFound) {
			return badInput("mentions", fmt.Sprintf("mentioned user %s is not a member of this conversation", ids[i]))
		}
		if err != nil {
			return fmt.Errorf("chat: check mentions: %w", err)
		}
	}
	return nil
}

// EditWithMentions edits my own message's body (as Edit) and replaces whom
// it mentions. A bad body or bad mentions change nothing.
func (s *Service) EditWithMentions(ctx context.Context, me, messageID, body string, mentions []string, all bool) (storage.Message, error) {
	if err := s.validBody(body); err != nil {
		return storage.Message{}, err
	}
	if _, err := s.setMentions(ctx, me, messageID, mentions, all, false); err != nil {
		return storage.Message{}, err
	}
	return s.Edit(ctx, me, messageID, body)
}

// EditMentions replaces the mentions of my own message (an edit may change
// whom it mentions; editing the body is Edit). Members get MessageUpdated.
func (s *Service) EditMentions(ctx context.Context, me, messageID string, mentions []string, all bool) (storage.Message, error) {
	return s.setMentions(ctx, me, messageID, mentions, all, true)
}

func (s *Service) setMentions(ctx context.Context, me, messageID string, mentions []string, all, tell bool) (storage.Message, error) {
	defer s.messages.lock(messageID)()
	m, err := s.Message(ctx, me, messageID)
	if err != nil {
		return m, err
	}
	if m.SenderID != me {
		return m, forbidden("only the sender may edit a message")
	}
	if m.DeletedAt != nil {
		return m, badInput("messageId", "a deleted message cannot be edited")
	}
	mem, err := s.member(ctx, m.ConversationID, me)
	if err != nil {
		return m, err
	}
	if m.Mentions, err = s.checkMentions(ctx, mem, mentions, all); err != nil {
		return m, err
	}
	m.MentionAll = all
	if err := s.store.SetMentions(ctx, m, ""); err != nil {
		return m, fmt.Errorf("chat: set mentions: %w", err)
	}
	if !tell {
		return m, nil
	}
	s.emitConversation(ctx, m.ConversationID, &MessageUpdated{Message: &m})
	return m, nil
}

// dropMentions forgets the mentions of a message recalled for everyone.
func (s *Service) dropMentions(ctx context.Context, m storage.Message) {
	if len(m.Mentions) == 0 && !m.MentionAll {
		return
	}
	m.Mentions, m.MentionAll = nil, false
	if err := s.store.SetMentions(context.WithoutCancel(ctx), m, ""); err != nil {
		s.cfg.Logger.Warn("mentions of a recalled message kept", "message", m.ID, "err", err)
	}
}

// dropMyMention forgets my mention in a message I hid for myself.
func (s *Service) dropMyMention(ctx context.Context, me string, m storage.Message) {
	if !MentionsUser(m, me) {
		return
	}
	if err := s.store.SetMentions(context.WithoutCancel(ctx), m, me); err != nil {
		s.cfg.Logger.Warn("mention of a hidden message kept", "message", m.ID, "err", err)
	}
}

// mentionsRead tidies my mention entries once my read cursor reached seq.
// Counts never depend on it (they stop at the cursor), so a failure is
// only logged.
func (s *Service) mentionsRead(ctx context.Context, me, conversationID string, seq int64) {
	if err := s.store.ClearMentions(context.WithoutCancel(ctx), me, conversationID, seq); err != nil {
		s.cfg.Logger.Warn("read mentions not cleared", "conversation", conversationID, "err", err)
	}
}

// UnreadMentionCounts counts my unread mentions in each of the given
// conversations (those I am not a member of count 0): one membership read
// per conversation, one conversations read and one mention count for all.
func (s *Service) UnreadMentionCounts(ctx context.Context, me string, conversationIDs []string) (map[string]int, error) {
	cs, err := s.store.Conversations(ctx, conversationIDs)
	if err != nil {
		return nil, fmt.Errorf("chat: load conversations: %w", err)
	}
	ranges := make([]storage.MentionRange, 0, len(conversationIDs))
	for _, id := range conversationIDs {
		c, ok := cs[id]
		if !ok || c.LastSeq == 0 {
			continue
		}
		mem, err := s.store.Member(ctx, id, me)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("chat: membership: %w", err)
		}
		ranges = append(ranges, storage.MentionRange{ConversationID: id, AfterSeq: max(mem.ReadSeq, mem.JoinedSeq), LastSeq: c.LastSeq})
	}
	counts, err := s.store.CountUnreadMentions(ctx, me, ranges)
	if err != nil {
		return nil, fmt.Errorf("chat: count mentions: %w", err)
	}
	return counts, nil
}

// TotalUnreadMentions counts my unread mentions over all my conversations.
func (s *Service) TotalUnreadMentions(ctx context.Context, me string) (int, error) {
	ids, err := s.store.UserConversationIDs(ctx, me)
	if err != nil {
		return 0, fmt.Errorf("chat: list conversations: %w", err)
	}
	counts, err := s.UnreadMentionCounts(ctx, me, ids)
	total := 0
	for _, n := range counts {
		total += n
	}
	return total, err
}

// UnreadMentions pages the messages of a conversation that mention me and
// that I have not read, oldest first; after is a message cursor.
func (s *Service) UnreadMentions(ctx context.Context, me, conversationID string, first int, after *string) (MessagePage, error) {
	var page MessagePage
	mem, err := s.member(ctx, conversationID, me)
	if err != nil {
		return page, err
	}
	if first, err = capFirst(first); err != nil {
		return page, err
	}
	from := max(mem.ReadSeq, mem.JoinedSeq)
	if after != nil {
		seq, err := parseMessageCursor("after", *after)
		if err != nil {
			return page, err
		}
		page.HasPrevious = seq > from
		from = max(from, seq)
	}
	if first == 0 {
		return page, nil
	}
	seqs, err := s.store.UnreadMentions(ctx, me, conversationID, from, first+1)
	if err != nil {
		return page, fmt.Errorf("chat: unread mentions: %w", err)
	}
	seqs, page.HasNext = trimPage(seqs, first)
	page.Messages, err = s.messagesInOrder(ctx, conversationID, seqs)
	return page, err
}
