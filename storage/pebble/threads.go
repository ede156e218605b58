package pebble

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"messenger/pebblekv"
	"messenger/storage"
)

// Keys of the thread and mention index (storage.Replies):
// thr\0<conv>\0<root hex>\0<seq hex> -> threadEntry JSON (one per reply);
// thp\0<conv>\0<root hex>\0<user> -> "" (who replied);
// ment\0<user>\0<conv>\0<seq hex> -> "" (a named mention, until read);
// mall\0<conv>\0<seq hex> -> sender id (a message mentioning everyone).

type threadEntry struct {
	S string    // sender
	T time.Time // sent at
}

// indexRefs adds a created message's thread and mention entries to b, in
// the batch that stores the message.
func indexRefs(b *pebble.Batch, m storage.Message) error {
	if m.ThreadRootSeq > 0 {
		root := seqKey(m.ThreadRootSeq)
		data, err := json.Marshal(threadEntry{S: m.SenderID, T: m.SentAt})
		if err != nil {
			return err
		}
		if err := b.Set(pebblekv.Key("thr", m.ConversationID, root, seqKey(m.Seq)), data, nil); err != nil {
			return err
		}
		if err := b.Set(pebblekv.Key("thp", m.ConversationID, root, m.SenderID), nil, nil); err != nil {
			return err
		}
	}
	return setMentionKeys(b, m, false)
}

// setMentionKeys writes (or, with del, deletes) m's mention entries.
func setMentionKeys(b *pebble.Batch, m storage.Message, del bool) error {
	op := func(k, v []byte) error {
		if del {
			return b.Delete(k, nil)
		}
		return b.Set(k, v, nil)
	}
	for _, u := range m.Mentions {
		if u == m.SenderID {
			continue
		}
		if err := op(pebblekv.Key("ment", u, m.ConversationID, seqKey(m.Seq)), nil); err != nil {
			return err
		}
	}
	if m.MentionAll {
		return op(pebblekv.Key("mall", m.ConversationID, seqKey(m.Seq)), []byte(m.SenderID))
	}
	return nil
}

func parseSeqKey(s string) int64 {
	n, _ := strconv.ParseInt(s, 16, 64)
	return n
}

// ThreadSummaries implements storage.Replies.
func (s *Store) ThreadSummaries(ctx context.Context, conversationID string, rootSeqs []int64, viewerID string, readSeq int64) (map[int64]storage.ThreadSummary, error) {
	out := make(map[int64]storage.ThreadSummary, len(rootSeqs))
	for _, root := range rootSeqs {
		sum := storage.ThreadSummary{RootSeq: root}
		p := pebblekv.Prefix("thr", conversationID, seqKey(root))
		err := s.scan(ctx, p, pebblekv.Upper(p), false, func(k, v []byte) (bool, error) {
			var e threadEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return false, err
			}
			seq := parseSeqKey(pebblekv.Last(k))
			sum.ReplyCount++
			sum.LastReplySeq, sum.LastReplyAt = seq, e.T
			if seq > readSeq && e.S != viewerID {
				sum.Unread++
			}
			return true, nil
		})
		if err != nil {
			return nil, err
		}
		if sum.ReplyCount == 0 {
			continue
		}
		pp := pebblekv.Prefix("thp", conversationID, seqKey(root))
		err = s.scan(ctx, pp, pebblekv.Upper(pp), false, func(k, _ []byte) (bool, error) {
			sum.Participants = append(sum.Participants, pebblekv.Last(k))
			return len(sum.Participants) < storage.MaxThreadParticipants, nil
		})
		if err != nil {
			return nil, err
		}
		out[root] = sum
	}
	return out, nil
}

// ThreadReplies implements storage.Replies.
func (s *Store) ThreadReplies(ctx context.Context, conversationID string, rootSeq, afterSeq, beforeSeq int64, limit int, newestFirst bool) ([]int64, error) {
	if limit <= 0 {
		return nil, nil
	}
	root := seqKey(rootSeq)
	p := pebblekv.Prefix("thr", conversationID, root)
	lower := pebblekv.Key("thr", conversationID, root, seqKey(afterSeq+1))
	up := pebblekv.Upper(p)
	if beforeSeq > 0 {
		up = pebblekv.Key("thr", conversationID, root, seqKey(beforeSeq))
	}
	var out []int64
	err := s.scan(ctx, lower, up, newestFirst, func(k, _ []byte) (bool, error) {
		out = append(out, parseSeqKey(pebblekv.Last(k)))
		return len(out) < limit, nil
	})
	return out, err
}

// mentionSeqs lists the seqs > afterSeq of conversationID that mention
// userID, in order, at most limit (limit <= 0: all).
func (s *Store) mentionSeqs(ctx context.Context, userID, conversationID string, afterSeq int64, limit int) ([]int64, error) {
	var named, all []int64
	hidden := map[int64]bool{}
	p := pebblekv.Prefix("ment", userID, conversationID)
	err := s.scan(ctx, pebblekv.Key("ment", userID, conversationID, seqKey(afterSeq+1)), pebblekv.Upper(p), false, func(k, v []byte) (bool, error) {
		if string(v) == hiddenMark {
			hidden[parseSeqKey(pebblekv.Last(k))] = true
		} else {
			named = append(named, parseSeqKey(pebblekv.Last(k)))
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	pa := pebblekv.Prefix("mall", conversationID)
	err = s.scan(ctx, pebblekv.Key("mall", conversationID, seqKey(afterSeq+1)), pebblekv.Upper(pa), false, func(k, v []byte) (bool, error) {
		if seq := parseSeqKey(pebblekv.Last(k)); string(v) != userID && !hidden[seq] {
			all = append(all, seq)
		}
		return limit <= 0 || len(all) < limit, nil
	})
	if err != nil {
		return nil, err
	}
	return mergeSeqs(named, all, hidden, limit), nil
}

// hiddenMark is the value of a ment key of a message the user hid for
// themself: it mentions them no more, even by @all.
const hiddenMark = "h"

// mergeSeqs merges two ascending seq lists without duplicates and without
// hidden ones, at most limit (limit <= 0: all).
func mergeSeqs(a, b []int64, hidden map[int64]bool, limit int) []int64 {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	out = slices.Compact(out)
	out = slices.DeleteFunc(out, func(seq int64) bool { return hidden[seq] })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// UnreadMentions implements storage.Replies.
func (s *Store) UnreadMentions(ctx context.Context, userID, conversationID string, afterSeq int64, limit int) ([]int64, error) {
	if limit <= 0 {
		return nil, nil
	}
	return s.mentionSeqs(ctx, userID, conversationID, afterSeq, limit)
}

// CountUnreadMentions implements storage.Replies.
func (s *Store) CountUnreadMentions(ctx context.Context, userID string, ranges []storage.MentionRange) (map[string]int, error) {
	out := make(map[string]int, len(ranges))
	for _, r := range ranges {
		if r.LastSeq <= r.AfterSeq {
			continue
		}
		seqs, err := s.mentionSeqs(ctx, userID, r.ConversationID, r.AfterSeq, 0)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, seq := range seqs {
			if seq <= r.LastSeq {
				n++
			}
		}
		if n > 0 {
			out[r.ConversationID] = n
		}
	}
	return out, nil
}

// ClearMentions implements storage.Replies.
func (s *Store) ClearMentions(ctx context.Context, userID, conversationID string, throughSeq int64) error {
	if throughSeq <= 0 {
		return nil
	}
	return s.db.DeleteRange(pebblekv.Prefix("ment", userID, conversationID),
		pebblekv.Key("ment", userID, conversationID, seqKey(throughSeq+1)), s.wo)
}

// SetMentions implements storage.Replies.
func (s *Store) SetMentions(ctx context.Context, m storage.Message, onlyFor string) error {
	defer s.lock(m.ConversationID)()
	k := pebblekv.Key("msg", m.ConversationID, seqKey(m.Seq))
	var cur storage.Message
	if err := s.getJSON(ctx, k, &cur); err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if onlyFor != "" {
		if err := b.Set(pebblekv.Key("ment", onlyFor, m.ConversationID, seqKey(m.Seq)), []byte(hiddenMark), nil); err != nil {
			return err
		}
		return b.Commit(s.wo)
	}
	if err := setMentionKeys(b, cur, true); err != nil {
		return err
	}
	cur.Mentions, cur.MentionAll = slices.Clone(m.Mentions), m.MentionAll
	if err := setMentionKeys(b, cur, false); err != nil {
		return err
	}
	if err := setJSON(b, k, cur); err != nil {
		return err
	}
	return b.Commit(s.wo)
}
