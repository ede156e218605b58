package chat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"messenger/storage"
)

// smallGroup is the size up to which cursor moves are sent to every member.
// In larger groups they go to the mover's own devices and to the senders of
// the messages the cursor passed: the people whose ticks change. That keeps
// one read in a 10,000-member group from becoming 10,000 events.
const smallGroup = 32

// MarkRead moves my read cursor (and my delivered cursor: reading implies
// delivery) forward to seq. Moving backward is a no-op.
func (s *Service) MarkRead(ctx context.Context, me, conversationID string, seq int64) (storage.Conversation, error) {
	return s.advance(ctx, me, conversationID, seq, storage.Read)
}

// MarkDelivered moves my delivered cursor forward to seq.
func (s *Service) MarkDelivered(ctx context.Context, me, conversationID string, seq int64) (storage.Conversation, error) {
	return s.advance(ctx, me, conversationID, seq, storage.Delivered)
}

func (s *Service) advance(ctx context.Context, me, conversationID string, seq int64, kind storage.CursorKind) (storage.Conversation, error) {
	mem, err := s.member(ctx, conversationID, me)
	if err != nil {
		return storage.Conversation{}, err
	}
	c, err := s.conversation(ctx, conversationID)
	if err != nil {
		return c, err
	}
	if seq < 0 || seq > c.LastSeq {
		return c, badInput("seq", fmt.Sprintf("seq must be between 0 and the last message's seq (%d)", c.LastSeq))
	}
	now := s.now()
	kinds := []storage.CursorKind{kind}
	if kind == storage.Read {
		s.clearUnreadMark(ctx, me, conversationID, seq)
		kinds = []storage.CursorKind{storage.Delivered, storage.Read}
	}
	for _, k := range kinds {
		old := mem.DeliveredSeq
		if k == storage.Read {
			old = mem.ReadSeq
		}
		moved, err := s.store.AdvanceCursor(ctx, conversationID, me, k, seq, now)
		if err != nil {
			return c, fmt.Errorf("chat: advance %s cursor: %w", k, err)
		}
		if !moved {
			continue
		}
		if k == storage.Read {
			s.mentionsRead(ctx, me, conversationID, seq)
		}
		to, err := s.cursorAudience(ctx, conversationID, me, old, seq)
		if err != nil {
			s.cfg.Logger.Error("cursor event skipped", "conversation", conversationID, "err", err)
			continue
		}
		to = s.cursorEventAudience(ctx, me, c, k, to)
		if c.Kind == storage.Channel {
			// A channel's admins would hear every reader: views count
			// instead (Message.viewCount); only my own sessions hear it.
			to = []string{me}
		}
		if k == storage.Read {
			s.emit(ctx, to, &ReadCursorMoved{ConversationID: conversationID, UserID: me, Seq: seq, At: now})
		} else {
			s.emit(ctx, to, &DeliveryCursorMoved{ConversationID: conversationID, UserID: me, Seq: seq, At: now})
		}
	}
	return c, nil
}

// cursorAudience is who hears that me's cursor moved from old to seq.
func (s *Service) cursorAudience(ctx context.Context, conversationID, me string, old, seq int64) ([]string, error) {
	ms, err := s.store.Members(ctx, conversationID, "", smallGroup+1)
	if err != nil {
		return nil, err
	}
	if len(ms) <= smallGroup {
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.UserID
		}
		return ids, nil
	}
	from := max(old, seq-200)
	msgs, err := s.store.ListMessages(ctx, conversationID, me, from, seq+1, 200, false)
	if err != nil {
		return nil, err
	}
	ids := []string{me}
	for _, m := range msgs {
		ids = append(ids, m.SenderID)
	}
	// Senders who have left hear nothing more from the conversation.
	out := []string{me}
	for _, id := range dedupe(ids)[1:] {
		_, err := s.store.Member(ctx, conversationID, id)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// UnreadCount counts my unread messages in one conversation.
func (s *Service) UnreadCount(ctx context.Context, me string, mem storage.Member) (int, error) {
	n, err := s.store.CountUnread(ctx, mem.ConversationID, me, max(mem.ReadSeq, mem.JoinedSeq))
	if err != nil {
		return 0, fmt.Errorf("chat: count unread: %w", err)
	}
	return n, nil
}

// TotalUnread sums my unread messages over all my conversations.
func (s *Service) TotalUnread(ctx context.Context, me string) (int, error) {
	ids, err := s.store.UserConversationIDs(ctx, me)
	if err != nil {
		return 0, fmt.Errorf("chat: list conversations: %w", err)
	}
	total := 0
	for _, id := range ids {
		mem, err := s.store.Member(ctx, id, me)
		if err != nil {
			continue
		}
		n, err := s.UnreadCount(ctx, me, mem)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// Receipt is one member's delivery and read time for one message.
type Receipt struct {
	UserID      string
	DeliveredAt *time.Time
	ReadAt      *time.Time
}

// ReceiptOf returns when a member got and read message m. Like readBy and
// readCount it answers for the current members who could see m: the
// sender, members who joined after m was sent (their cursors start past it
// without their having seen it) and non-members have no receipt.
func (s *Service) ReceiptOf(ctx context.Context, m storage.Message, userID string) (Receipt, error) {
	r := Receipt{UserID: userID}
	if userID == m.SenderID {
		return r, nil
	}
	mem, err := s.store.Member(ctx, m.ConversationID, userID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && mem.JoinedSeq >= m.Seq) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("chat: receipt: %w", err)
	}
	for _, k := range []storage.CursorKind{storage.Delivered, storage.Read} {
		at, ok, err := s.store.ReceiptTime(ctx, m.ConversationID, userID, k, m.Seq)
		if err != nil {
			return r, fmt.Errorf("chat: receipt: %w", err)
		}
		if ok {
			at := at
			if k == storage.Read {
				r.ReadAt = &at
			} else {
				r.DeliveredAt = &at
			}
		}
	}
	return r, nil
}

// Receipts pages the members whose cursor of kind reached message m.
func (s *Service) Receipts(ctx context.Context, m storage.Message, kind storage.CursorKind, first int, afterUserID string) ([]storage.Receipt, bool, error) {
	first, err := capFirst(first)
	if err != nil {
		return nil, false, err
	}
	rs, err := s.store.Receipts(ctx, m.ConversationID, m.Seq, kind, afterUserID, first+1)
	if err != nil {
		return nil, false, fmt.Errorf("chat: receipts: %w", err)
	}
	rs, more := trimPage(rs, first)
	return rs, more, nil
}
