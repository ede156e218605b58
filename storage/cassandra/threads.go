package cassandra

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

// mentionAllBucketSize is how many seqs share one mention_all partition:
// large, since only messages that mention everyone have rows there, and an
// unread range then usually touches one partition.
const mentionAllBucketSize = 100_000

func mentionAllBucket(seq int64) int64 { return seq / mentionAllBucketSize }

// encodeRefs is the refs column of a message ("" when it has none).
func encodeRefs(r storage.MessageRefs) string {
	if r.ReplyToSeq == 0 && r.ThreadRootSeq == 0 && len(r.Mentions) == 0 && !r.MentionAll {
		return ""
	}
	b, _ := json.Marshal(r)
	return string(b)
}

func decodeRefs(s string) storage.MessageRefs {
	var r storage.MessageRefs
	if s != "" {
		_ = json.Unmarshal([]byte(s), &r)
	}
	return r
}

// refWrites are the index entries of a claimed message, written by persist
// with the message's own write timestamp: a rewrite (retry, takeover) writes
// the same cells, so no entry is ever counted twice. No read first.
func (s *Store) refWrites(ctx context.Context, h head) []*gocql.Query {
	m := h.msg
	var out []*gocql.Query
	if m.ThreadRootSeq > 0 {
		out = append(out,
			s.query(ctx, `INSERT INTO thread_replies (conversation_id, root_seq, seq, sender_id, sent_at) VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?`,
				m.ConversationID, m.ThreadRootSeq, m.Seq, m.SenderID, m.SentAt, h.writeTS),
			s.query(ctx, `INSERT INTO thread_participants (conversation_id, root_seq, user_id) VALUES (?, ?, ?) USING TIMESTAMP ?`,
				m.ConversationID, m.ThreadRootSeq, m.SenderID, h.writeTS))
	}
	out = append(out, s.sentWrites(ctx, h)...) // unread exceptions, counters.go
	return append(out, s.mentionWrites(ctx, m, h.writeTS, false)...)
}

// mentionWrites writes (or, with del, deletes) m's mention entries at ts.
func (s *Store) mentionWrites(ctx context.Context, m storage.Message, ts int64, del bool) []*gocql.Query {
	var out []*gocql.Query
	for _, u := range m.Mentions {
		if u == m.SenderID {
			continue
		}
		if del {
			out = append(out, s.query(ctx, `DELETE FROM user_mentions USING TIMESTAMP ? WHERE user_id = ? AND conversation_id = ? AND seq = ?`,
				ts, u, m.ConversationID, m.Seq))
		} else {
			out = append(out, s.query(ctx, `INSERT INTO user_mentions (user_id, conversation_id, seq) VALUES (?, ?, ?) USING TIMESTAMP ?`,
				u, m.ConversationID, m.Seq, ts))
		}
	}
	if m.MentionAll {
		if del {
			out = append(out, s.query(ctx, `DELETE FROM mention_all USING TIMESTAMP ? WHERE conversation_id = ? AND bucket = ? AND seq = ?`,
				ts, m.ConversationID, mentionAllBucket(m.Seq), m.Seq))
		} else {
			out = append(out, s.query(ctx, `INSERT INTO mention_all (conversation_id, bucket, seq, sender_id) VALUES (?, ?, ?, ?) USING TIMESTAMP ?`,
				m.ConversationID, mentionAllBucket(m.Seq), m.Seq, m.SenderID, ts),
				s.query(ctx, `INSERT INTO mention_all_head (conversation_id, last_seq) VALUES (?, ?) USING TIMESTAMP ?`,
					m.ConversationID, m.Seq, m.Seq))
		}
	}
	return out
}

func execAll(ctx context.Context, qs []*gocql.Query) error {
	return cql.Parallel(ctx, len(qs), func(ctx context.Context, i int) error { return qs[i].WithContext(ctx).Exec() })
}

// ThreadSummaries implements storage.Replies: per root, one read of its
// replies and one of its participants, all roots in parallel. The reply
// count is the number of reply rows (see thread_replies).
func (s *Store) ThreadSummaries(ctx context.Context, conversationID string, rootSeqs []int64, viewerID string, readSeq int64) (map[int64]storage.ThreadSummary, error) {
	var mu sync.Mutex
	out := make(map[int64]storage.ThreadSummary, len(rootSeqs))
	err := cql.Parallel(ctx, len(rootSeqs), func(ctx context.Context, i int) error {
		sum := storage.ThreadSummary{RootSeq: rootSeqs[i]}
		iter := s.query(ctx, "SELECT seq, sender_id, sent_at FROM thread_replies WHERE conversation_id = ? AND root_seq = ?",
			conversationID, sum.RootSeq).PageSize(5000).Iter()
		var seq int64
		var sender string
		var at time.Time
		for iter.Scan(&seq, &sender, &at) {
			sum.ReplyCount++
			sum.LastReplySeq, sum.LastReplyAt = seq, utc(at)
			if seq > readSeq && sender != viewerID {
				sum.Unread++
			}
		}
		if err := iter.Close(); err != nil {
			return wrap(err, "read thread %s", storage.MessageID(conversationID, sum.RootSeq))
		}
		if sum.ReplyCount == 0 {
			return nil
		}
		iter = s.query(ctx, "SELECT user_id FROM thread_participants WHERE conversation_id = ? AND root_seq = ? LIMIT ?",
			conversationID, sum.RootSeq, storage.MaxThreadParticipants).Iter()
		var u string
		for iter.Scan(&u) {
			sum.Participants = append(sum.Participants, u)
		}
		if err := iter.Close(); err != nil {
			return wrap(err, "read thread participants of %s", storage.MessageID(conversationID, sum.RootSeq))
		}
		mu.Lock()
		out[sum.RootSeq] = sum
		mu.Unlock()
		return nil
	})
	return out, err
}

// ThreadReplies implements storage.Replies: one slice of the thread's
// partition.
func (s *Store) ThreadReplies(ctx context.Context, conversationID string, rootSeq, afterSeq, beforeSeq int64, limit int, newestFirst bool) ([]int64, error) {
	if limit <= 0 {
		return nil, nil
	}
	if beforeSeq <= 0 {
		beforeSeq = 1 << 62
	}
	order := "ASC"
	if newestFirst {
		order = "DESC"
	}
	iter := s.query(ctx, "SELECT seq FROM thread_replies WHERE conversation_id = ? AND root_seq = ? AND seq > ? AND seq < ? ORDER BY seq "+order+" LIMIT ?",
		conversationID, rootSeq, afterSeq, beforeSeq, limit).Iter()
	var out []int64
	var seq int64
	for iter.Scan(&seq) {
		out = append(out, seq)
	}
	return out, wrap(iter.Close(), "page thread %s", storage.MessageID(conversationID, rootSeq))
}

// mentionAllSeqs reads the @all messages of a conversation with afterSeq <
// seq <= lastSeq not sent by userID, at most limit (<= 0: all).
func (s *Store) mentionAllSeqs(ctx context.Context, userID, conversationID string, afterSeq, lastSeq int64, limit int) ([]int64, error) {
	var out []int64
	for b := mentionAllBucket(afterSeq + 1); b <= mentionAllBucket(lastSeq); b++ {
		iter := s.query(ctx, "SELECT seq, sender_id FROM mention_all WHERE conversation_id = ? AND bucket = ? AND seq > ? AND seq <= ?",
			conversationID, b, afterSeq, lastSeq).Iter()
		var seq int64
		var sender string
		for iter.Scan(&seq, &sender) {
			if sender != userID {
				out = append(out, seq)
			}
		}
		if err := iter.Close(); err != nil {
			return nil, wrap(err, "read mentions of everyone in %s", conversationID)
		}
		if limit > 0 && len(out) >= limit {
			return out[:limit], nil
		}
	}
	return out, nil
}

// UnreadMentions implements storage.Replies.
func (s *Store) UnreadMentions(ctx context.Context, userID, conversationID string, afterSeq int64, limit int) ([]int64, error) {
	if limit <= 0 {
		return nil, nil
	}
	iter := s.query(ctx, "SELECT seq, hidden FROM user_mentions WHERE user_id = ? AND conversation_id = ? AND seq > ?",
		userID, conversationID, afterSeq).PageSize(1000).Iter()
	var named []int64
	hidden := map[int64]bool{}
	var seq int64
	var hid bool
	for iter.Scan(&seq, &hid) {
		if hid {
			hidden[seq] = true
		} else {
			named = append(named, seq)
		}
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "read mentions of %s", userID)
	}
	cs, err := s.Conversations(ctx, []string{conversationID})
	if err != nil {
		return nil, err
	}
	all, err := s.mentionAllSeqs(ctx, userID, conversationID, afterSeq, cs[conversationID].LastSeq, limit+len(hidden))
	if err != nil {
		return nil, err
	}
	out := unhidden(append(named, all...), hidden)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// CountUnreadMentions implements storage.Replies: one read of the user's
// mention partition, plus one mention_all read per range with unread
// messages.
func (s *Store) CountUnreadMentions(ctx context.Context, userID string, ranges []storage.MentionRange) (map[string]int, error) {
	want := make(map[string]storage.MentionRange, len(ranges))
	for _, r := range ranges {
		if r.LastSeq > r.AfterSeq {
			want[r.ConversationID] = r
		}
	}
	seqs := map[string][]int64{}
	hidden := map[string]map[int64]bool{}
	if len(want) == 0 {
		return map[string]int{}, nil
	}
	iter := s.query(ctx, "SELECT conversation_id, seq, hidden FROM user_mentions WHERE user_id = ?", userID).PageSize(5000).Iter()
	var conv string
	var seq int64
	var hid bool
	for iter.Scan(&conv, &seq, &hid) {
		r, ok := want[conv]
		switch {
		case !ok || seq <= r.AfterSeq || seq > r.LastSeq:
		case hid:
			if hidden[conv] == nil {
				hidden[conv] = map[int64]bool{}
			}
			hidden[conv][seq] = true
		default:
			seqs[conv] = append(seqs[conv], seq)
		}
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "count mentions of %s", userID)
	}
	list, err := s.rangesWithMentionAll(ctx, want)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	err = cql.Parallel(ctx, len(list), func(ctx context.Context, i int) error {
		r := list[i]
		all, err := s.mentionAllSeqs(ctx, userID, r.ConversationID, r.AfterSeq, r.LastSeq, 0)
		if err != nil || len(all) == 0 {
			return err
		}
		mu.Lock()
		seqs[r.ConversationID] = append(seqs[r.ConversationID], all...)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(seqs))
	for c, ss := range seqs {
		if n := len(unhidden(ss, hidden[c])); n > 0 {
			out[c] = n
		}
	}
	return out, nil
}

// unhidden sorts seqs, drops duplicates and the hidden ones.
func unhidden(seqs []int64, hidden map[int64]bool) []int64 {
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	return slices.DeleteFunc(seqs, func(seq int64) bool { return hidden[seq] })
}

// headChunk is how many conversations one mention_all_head read asks for.
const headChunk = 100

// rangesWithMentionAll keeps the ranges whose conversation mentioned
// everyone after the range's start, reading mention_all_head a chunk of
// conversations at a time.
func (s *Store) rangesWithMentionAll(ctx context.Context, want map[string]storage.MentionRange) ([]storage.MentionRange, error) {
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	var mu sync.Mutex
	var out []storage.MentionRange
	chunks := (len(ids) + headChunk - 1) / headChunk
	err := cql.Parallel(ctx, chunks, func(ctx context.Context, i int) error {
		chunk := ids[i*headChunk : min(len(ids), (i+1)*headChunk)]
		iter := s.query(ctx, "SELECT conversation_id, last_seq FROM mention_all_head WHERE conversation_id IN ?", chunk).Iter()
		var conv string
		var last int64
		for iter.Scan(&conv, &last) {
			if r := want[conv]; last > r.AfterSeq {
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
			}
		}
		return wrap(iter.Close(), "read mentions of everyone")
	})
	return out, err
}

// ClearMentions implements storage.Replies: one range delete.
func (s *Store) ClearMentions(ctx context.Context, userID, conversationID string, throughSeq int64) error {
	if throughSeq <= 0 {
		return nil
	}
	err := s.query(ctx, "DELETE FROM user_mentions WHERE user_id = ? AND conversation_id = ? AND seq <= ?",
		userID, conversationID, throughSeq).Exec()
	return wrap(err, "clear mentions of %s in %s", userID, conversationID)
}

// SetMentions implements storage.Replies. A recall (m.DeletedAt set) writes
// at the tombstone's timestamp, so an edit racing it cannot bring mentions
// back.
func (s *Store) SetMentions(ctx context.Context, m storage.Message, onlyFor string) error {
	id := storage.MessageID(m.ConversationID, m.Seq)
	if onlyFor != "" {
		err := s.query(ctx, "UPDATE user_mentions SET hidden = true WHERE user_id = ? AND conversation_id = ? AND seq = ?",
			onlyFor, m.ConversationID, m.Seq).Exec()
		return wrap(err, "drop mention of %s in %s", onlyFor, id)
	}
	got, err := s.Messages(ctx, m.ConversationID, []int64{m.Seq})
	if err != nil {
		return err
	}
	cur, ok := got[m.Seq]
	if !ok {
		return fmt.Errorf("cassandra: set mentions of %s: %w", id, storage.ErrNotFound)
	}
	ts := time.Now().UnixMicro()
	if m.DeletedAt != nil {
		ts = tombstoneTS
	}
	next := cur
	next.Mentions, next.MentionAll = slices.Clone(m.Mentions), m.MentionAll
	qs := s.mentionWrites(ctx, cur, ts-1, true)
	qs = append(qs, s.mentionWrites(ctx, next, ts, false)...)
	qs = append(qs, s.query(ctx, "UPDATE messages USING TIMESTAMP ? SET refs = ? WHERE conversation_id = ? AND bucket = ? AND seq = ?",
		ts, encodeRefs(next.MessageRefs), m.ConversationID, bucketOf(m.Seq), m.Seq))
	return wrap(execAll(ctx, qs), "set mentions of %s", id)
}
