package chat

import (
	"context"
	"fmt"
	"slices"

	"messenger/storage"
)

// Replies and threads.
//
// A reply (SendRefs.ReplyToID) quotes one message of the same
// conversation. A thread reply (SendRefs.ThreadRootID) is an ordinary
// message of the conversation, with the next seq like any other, that is
// also listed in its root's thread; threads are one level deep. So:
//   - the conversation keeps one seq order; History leaves thread replies
//     out unless asked (HistoryArgs.IncludeThreadReplies), ThreadHistory
//     pages one thread;
//   - unread counts and receipts are per conversation, as before: a thread
//     reply counts in the conversation's unread count, and the one read
//     cursor covers it (marking the conversation read up to seq N reads the
//     thread replies below N too). A thread's own unread count is its
//     replies after my read cursor that I did not send;
//   - every member gets MessageAdded (with threadRootId) and then
//     ThreadUpdated, which carries the root's new summary.

// SendRefs are the optional parts of a message being sent: what it quotes,
// the thread it replies in, and whom it mentions. Ids are message and user
// ids (not GraphQL global ids).
type SendRefs struct {
	ReplyToID    string
	ThreadRootID string
	Mentions     []string
	MentionAll   bool
}

// SendWith is Send with replies, a thread and mentions. Bad refs are
// refused with BAD_USER_INPUT before anything is written (a quoted or root
// message of another conversation, a root that is itself a thread reply,
// more than storage.MaxMentions mentions, a mentioned user who is not a
// member); mentioning everyone in a group of more than 32 members is
// FORBIDDEN unless I am an owner or admin.
func (s *Service) SendWith(ctx context.Context, me, conversationID, clientMessageID, body string, refs SendRefs, attachments ...string) (storage.Message, error) {
	return s.send(ctx, me, conversationID, clientMessageID, body, refs, attachments)
}

// resolveRefs checks refs for a message I send to mem's conversation and
// returns what the message stores.
func (s *Service) resolveRefs(ctx context.Context, mem storage.Member, refs SendRefs) (storage.MessageRefs, error) {
	var out storage.MessageRefs
	if refs.ReplyToID != "" {
		m, err := s.refMessage(ctx, mem, "replyToId", refs.ReplyToID)
		if err != nil {
			return out, err
		}
		out.ReplyToSeq = m.Seq
	}
	if refs.ThreadRootID != "" {
		root, err := s.refMessage(ctx, mem, "threadRootId", refs.ThreadRootID)
		if err != nil {
			return out, err
		}
		if root.ThreadRootSeq != 0 {
			return out, badInput("threadRootId", "threads are one level deep: reply in the thread of its root")
		}
		if root.DeletedAt != nil {
			return out, badInput("threadRootId", "the thread's root was deleted")
		}
		out.ThreadRootSeq = root.Seq
	}
	mentions, err := s.checkMentions(ctx, mem, refs.Mentions, refs.MentionAll)
	if err != nil {
		return out, err
	}
	out.Mentions, out.MentionAll = mentions, refs.MentionAll
	return out, nil
}

// refMessage loads a message a new message points at: it must be in the
// same conversation and visible to the sender.
func (s *Service) refMessage(ctx context.Context, mem storage.Member, field, id string) (storage.Message, error) {
	conv, seq, err := storage.ParseMessageID(id)
	if err != nil {
		return storage.Message{}, badInput(field, "no such message")
	}
	if conv != mem.ConversationID {
		return storage.Message{}, badInput(field, "the message is in another conversation")
	}
	got, err := s.store.Messages(ctx, conv, []int64{seq})
	if err != nil {
		return storage.Message{}, fmt.Errorf("chat: load %s: %w", field, err)
	}
	m, ok := got[seq]
	if !ok || seq <= mem.JoinedSeq {
		return storage.Message{}, badInput(field, "no such message")
	}
	return m, nil
}

// threadSent tells every member that a thread has a new reply.
func (s *Service) threadSent(ctx context.Context, m storage.Message) {
	if m.ThreadRootSeq == 0 {
		return
	}
	s.emitConversation(ctx, m.ConversationID, &ThreadUpdated{ConversationID: m.ConversationID, RootSeq: m.ThreadRootSeq, ReplySeq: m.Seq})
}

// ThreadSummaries returns the thread summaries of messages of one
// conversation as I see them (roots with no reply are absent): one
// membership read and one store call, whatever the number of roots.
func (s *Service) ThreadSummaries(ctx context.Context, me, conversationID string, rootSeqs []int64) (map[int64]storage.ThreadSummary, error) {
	mem, err := s.member(ctx, conversationID, me)
	if err != nil {
		return nil, err
	}
	sums, err := s.store.ThreadSummaries(ctx, conversationID, rootSeqs, me, max(mem.ReadSeq, mem.JoinedSeq))
	if err != nil {
		return nil, fmt.Errorf("chat: thread summaries: %w", err)
	}
	return sums, nil
}

// ThreadHistory pages the replies of a thread whose root I can see, with
// the same arguments and page shape as History (edges oldest first).
func (s *Service) ThreadHistory(ctx context.Context, me, rootID string, a HistoryArgs) (MessagePage, error) {
	var page MessagePage
	root, err := s.Message(ctx, me, rootID)
	if err != nil {
		return page, err
	}
	if root.ThreadRootSeq != 0 {
		return page, badInput("rootId", "this message is a thread reply, not a thread's root")
	}
	mem, err := s.member(ctx, root.ConversationID, me)
	if err != nil {
		return page, err
	}
	r, err := pageRange(a, mem.JoinedSeq)
	if err != nil || r.n == 0 {
		return page, err
	}
	seqs, err := s.store.ThreadReplies(ctx, root.ConversationID, root.Seq, r.after, r.before, r.n+1, !r.forward)
	if err != nil {
		return page, fmt.Errorf("chat: thread replies: %w", err)
	}
	seqs, more := trimPage(seqs, r.n)
	msgs, err := s.messagesInOrder(ctx, root.ConversationID, seqs)
	if err != nil {
		return page, err
	}
	return r.finish(msgs, more, mem.JoinedSeq), nil
}

// messagesInOrder loads seqs of one conversation in the order given,
// skipping any not found.
func (s *Service) messagesInOrder(ctx context.Context, conversationID string, seqs []int64) ([]storage.Message, error) {
	got, err := s.store.Messages(ctx, conversationID, seqs)
	if err != nil {
		return nil, fmt.Errorf("chat: load messages: %w", err)
	}
	out := make([]storage.Message, 0, len(seqs))
	for _, seq := range seqs {
		if m, ok := got[seq]; ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// pageArgs are Relay arguments read into seq bounds.
type pageArgs struct {
	after, before int64
	n             int
	forward       bool
}

// pageRange reads Relay arguments as History does.
func pageRange(a HistoryArgs, joinedSeq int64) (pageArgs, error) {
	var r pageArgs
	var err error
	if a.First != nil && a.Last != nil {
		return r, badInput("first", "give first or last, not both")
	}
	if a.After != nil {
		if r.after, err = parseMessageCursor("after", *a.After); err != nil {
			return r, err
		}
	}
	if a.Before != nil {
		if r.before, err = parseMessageCursor("before", *a.Before); err != nil {
			return r, err
		}
	}
	r.after = max(r.after, joinedSeq)
	r.forward = a.First != nil || (a.After != nil && a.Last == nil)
	r.n = 20
	if a.First != nil {
		r.n = *a.First
	} else if a.Last != nil {
		r.n = *a.Last
	}
	if r.n < 0 {
		return r, badInput("first", "first and last must not be negative")
	}
	r.n = min(r.n, MaxPage)
	return r, nil
}

// finish makes a page, oldest first, of msgs read in r's direction.
func (r pageArgs) finish(msgs []storage.Message, more bool, joinedSeq int64) MessagePage {
	var page MessagePage
	if r.forward {
		page.HasNext, page.HasPrevious = more, r.after > joinedSeq
	} else {
		slices.Reverse(msgs)
		page.HasPrevious, page.HasNext = more, r.before > 0
	}
	page.Messages = msgs
	return page
}

// listHistory reads a history page for History: with thread replies, one
// store read; without, it reads on past the replies it leaves out until
// the page is full or the history ends.
func (s *Service) listHistory(ctx context.Context, conversationID, me string, afterSeq, beforeSeq int64, limit int, newestFirst, withReplies bool) ([]storage.Message, error) {
	if withReplies {
		return s.store.ListMessages(ctx, conversationID, me, afterSeq, beforeSeq, limit, newestFirst)
	}
	var out []storage.Message
	for len(out) < limit {
		batch, err := s.store.ListMessages(ctx, conversationID, me, afterSeq, beforeSeq, limit, newestFirst)
		if err != nil {
			return nil, err
		}
		for _, m := range batch {
			if m.ThreadRootSeq == 0 && len(out) < limit {
				out = append(out, m)
			}
		}
		if len(batch) < limit {
			break
		}
		if last := batch[len(batch)-1].Seq; newestFirst {
			beforeSeq = last
		} else {
			afterSeq = last
		}
	}
	return out, nil
}

// QuotedMessage is the message m quotes as viewer sees it: nil when m
// quotes nothing or the viewer cannot see the quoted message (sent before
// they joined); a tombstone when it was deleted for everyone.
func QuotedMessage(m storage.Message, quoted storage.Message, found bool, viewer storage.Member) *storage.Message {
	if m.ReplyToSeq == 0 || !found || m.ReplyToSeq <= viewer.JoinedSeq {
		return nil
	}
	return &quoted
}
