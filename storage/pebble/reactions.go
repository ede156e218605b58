package pebble

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"messenger/storage"
)

// Keys: reaction\0<conv>\0<seq hex>\0<emoji>\0<user> -> unix nanos.

// AddReaction implements storage.Store.
func (s *Store) AddReaction(ctx context.Context, conversationID string, seq int64, userID, emoji string, at time.Time) (bool, error) {
	defer s.lock(conversationID)()
	k := key("reaction", conversationID, seqKey(seq), emoji, userID)
	present, err := s.exists(k)
	if err != nil || present {
		return false, err
	}
	return true, s.db.Set(k, []byte(strconv.FormatInt(at.UnixNano(), 10)), s.wo)
}

// RemoveReaction implements storage.Store.
func (s *Store) RemoveReaction(ctx context.Context, conversationID string, seq int64, userID, emoji string) (bool, error) {
	defer s.lock(conversationID)()
	k := key("reaction", conversationID, seqKey(seq), emoji, userID)
	present, err := s.exists(k)
	if err != nil || !present {
		return false, err
	}
	return true, s.db.Delete(k, s.wo)
}

type reactionRow struct {
	emoji, user string
	at          time.Time
}

func (s *Store) reactionRows(ctx context.Context, conversationID string, seq int64, emoji string) ([]reactionRow, error) {
	p := prefix("reaction", conversationID, seqKey(seq))
	if emoji != "" {
		p = prefix("reaction", conversationID, seqKey(seq), emoji)
	}
	var rows []reactionRow
	err := s.scan(ctx, p, upper(p), false, func(k, v []byte) (bool, error) {
		parts := strings.Split(string(k), "\x00")
		ns, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return false, err
		}
		rows = append(rows, reactionRow{emoji: parts[3], user: parts[4], at: time.Unix(0, ns).UTC()})
		return true, nil
	})
	return rows, err
}

// Reactions implements storage.Store.
func (s *Store) Reactions(ctx context.Context, conversationID string, seqs []int64) (map[int64][]storage.ReactionSummary, error) {
	out := make(map[int64][]storage.ReactionSummary, len(seqs))
	for _, seq := range seqs {
		rows, err := s.reactionRows(ctx, conversationID, seq, "")
		if err != nil {
			return nil, err
		}
		idx := map[string]int{}
		var sums []storage.ReactionSummary
		for _, r := range rows {
			i, ok := idx[r.emoji]
			if !ok {
				i = len(sums)
				idx[r.emoji] = i
				sums = append(sums, storage.ReactionSummary{MessageID: storage.MessageID(conversationID, seq), Emoji: r.emoji, FirstAt: r.at})
			}
			sums[i].Count++
			if r.at.Before(sums[i].FirstAt) {
				sums[i].FirstAt = r.at
			}
		}
		sort.SliceStable(sums, func(a, b int) bool { return sums[a].FirstAt.Before(sums[b].FirstAt) })
		if len(sums) > 0 {
			out[seq] = sums
		}
	}
	return out, nil
}

// ReactionsBy implements storage.Store.
func (s *Store) ReactionsBy(ctx context.Context, conversationID string, seqs []int64, userID string) (map[int64][]string, error) {
	out := make(map[int64][]string, len(seqs))
	for _, seq := range seqs {
		rows, err := s.reactionRows(ctx, conversationID, seq, "")
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if r.user == userID {
				out[seq] = append(out[seq], r.emoji)
			}
		}
	}
	return out, nil
}

// ReactionUsers implements storage.Store.
func (s *Store) ReactionUsers(ctx context.Context, conversationID string, seq int64, emoji, afterUserID string, limit int) ([]storage.Receipt, error) {
	rows, err := s.reactionRows(ctx, conversationID, seq, emoji)
	if err != nil {
		return nil, err
	}
	var out []storage.Receipt
	for _, r := range rows {
		if r.user <= afterUserID && afterUserID != "" {
			continue
		}
		out = append(out, storage.Receipt{UserID: r.user, At: r.at})
		if len(out) == limit {
			break
		}
	}
	return out, nil
}
