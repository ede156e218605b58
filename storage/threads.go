package storage

import (
	"context"
	"time"
)

// MaxMentions is the most users one message may mention by name.
const MaxMentions = 50

// MessageRefs are what a message points at: a quoted message, the thread it
// is a reply in, and whom it mentions. They are written with the message
// (AppendMessage) and indexed in the same call, so a created message is
// always findable through its thread and its mentions.
type MessageRefs struct {
	// ReplyToSeq is the seq of the message this one quotes, in the same
	// conversation (0: none).
	ReplyToSeq int64 `json:",omitempty"`
	// ThreadRootSeq makes this message a reply in the thread of that
	// message, in the same conversation (0: not a thread reply). Threads are
	// one level deep: a root is never itself a reply.
	ThreadRootSeq int64 `json:",omitempty"`
	// Mentions are the users mentioned by name (at most MaxMentions, no
	// duplicates, never the sender).
	Mentions []string `json:",omitempty"`
	// MentionAll mentions every member (@all), as the domain allowed.
	MentionAll bool `json:",omitempty"`
}

// ThreadSummary is the state of one thread as one viewer sees it.
type ThreadSummary struct {
	RootSeq      int64
	ReplyCount   int
	LastReplySeq int64
	LastReplyAt  time.Time
	// Participants are the users who replied, ordered by user id, at most
	// MaxThreadParticipants of them.
	Participants []string
	// Unread counts the replies after the viewer's read position that the
	// viewer did not send.
	Unread int
}

// MaxThreadParticipants bounds ThreadSummary.Participants.
const MaxThreadParticipants = 100

// MentionRange asks for one conversation's unread mentions of a user: those
// with AfterSeq < seq <= LastSeq (AfterSeq is the user's read position, at
// least the seq they joined at; LastSeq the conversation's newest seq).
type MentionRange struct {
	ConversationID string
	AfterSeq       int64
	LastSeq        int64
}

// Replies is the thread and mention index of the messages. AppendMessage
// maintains it: a created message with ThreadRootSeq is listed in that
// thread, and one with Mentions or MentionAll is an unread mention of those
// users, in the same call that makes the message durable, idempotently (a
// retry or a replay writes the same entries). Counts are derived from the
// entries themselves, never kept in counters, so they cannot drift under
// concurrent senders or retries.
type Replies interface {
	// ThreadSummaries returns the summary of each root in rootSeqs that has
	// at least one reply, as viewerID sees it (Unread counts the replies
	// with seq > readSeq not sent by viewerID). Roots without replies are
	// absent from the map. One read per root, made together.
	ThreadSummaries(ctx context.Context, conversationID string, rootSeqs []int64, viewerID string, readSeq int64) (map[int64]ThreadSummary, error)
	// ThreadReplies pages the seqs of a thread's replies with afterSeq <
	// seq < beforeSeq (beforeSeq 0 = no upper bound), oldest first, or
	// newest first when newestFirst, at most limit of them.
	ThreadReplies(ctx context.Context, conversationID string, rootSeq, afterSeq, beforeSeq int64, limit int, newestFirst bool) ([]int64, error)
	// UnreadMentions pages the seqs of the messages of one conversation
	// that mention userID (by name or by MentionAll, not sent by them) with
	// afterSeq < seq, oldest first, at most limit.
	UnreadMentions(ctx context.Context, userID, conversationID string, afterSeq int64, limit int) ([]int64, error)
	// CountUnreadMentions counts, for each range, the messages in it that
	// mention userID (a message mentioning them by name and by MentionAll
	// counts once). Conversations with no unread mention may be absent. Its
	// cost must not grow with the number of ranges beyond a small read per
	// range: one read of the user's own mention entries, and mentions of
	// everyone looked up only where the conversation has one in range.
	CountUnreadMentions(ctx context.Context, userID string, ranges []MentionRange) (map[string]int, error)
	// ClearMentions forgets userID's named mentions in a conversation up to
	// throughSeq (they were read). Counts never depend on it having run:
	// they are bounded by the ranges asked; it only keeps the index small.
	ClearMentions(ctx context.Context, userID, conversationID string, throughSeq int64) error
	// SetMentions replaces the mentions of an existing message (matched by
	// ConversationID and Seq) with m.Mentions and m.MentionAll, and moves the
	// index with them: an edit, or a recall (both empty). ErrNotFound when
	// the message does not exist. onlyFor, when set, makes the message
	// mention that one user no more, by name or by MentionAll (they hid it),
	// and leaves the message as it is.
	SetMentions(ctx context.Context, m Message, onlyFor string) error
}
