package cassandra

import (
	"context"
	"sort"
	"time"

	"messenger/cql"
	"messenger/storage"
)

// AddReaction implements storage.Store. The reaction row is claimed with
// INSERT ... IF NOT EXISTS (one Paxos transaction), so "added" is exact under
// concurrency; the reactions_by_user row follows, and is rewritten on
// "already there" too, which repairs a crash between the two writes.
func (s *Store) AddReaction(ctx context.Context, conversationID string, seq int64, userID, emoji string, at time.Time) (bool, error) {
	at = cql.Timestamp(at)
	b := bucketOf(seq)
	applied, err := s.lwt(ctx, "INSERT INTO reactions (conversation_id, bucket, seq, emoji, user_id, reacted_at) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS",
		conversationID, b, seq, emoji, userID, at).MapScanCAS(map[string]any{})
	if err != nil {
		return false, wrap(err, "add reaction to %s", storage.MessageID(conversationID, seq))
	}
	err = s.query(ctx, "INSERT INTO reactions_by_user (conversation_id, user_id, bucket, seq, emoji) VALUES (?, ?, ?, ?, ?)",
		conversationID, userID, b, seq, emoji).Exec()
	if err != nil {
		return false, wrap(err, "add reaction to %s", storage.MessageID(conversationID, seq))
	}
	return applied, nil
}

// RemoveReaction implements storage.Store, the mirror of AddReaction.
func (s *Store) RemoveReaction(ctx context.Context, conversationID string, seq int64, userID, emoji string) (bool, error) {
	b := bucketOf(seq)
	applied, err := s.lwt(ctx, "DELETE FROM reactions WHERE conversation_id = ? AND bucket = ? AND seq = ? AND emoji = ? AND user_id = ? IF EXISTS",
		conversationID, b, seq, emoji, userID).MapScanCAS(map[string]any{})
	if err != nil {
		return false, wrap(err, "remove reaction from %s", storage.MessageID(conversationID, seq))
	}
	err = s.query(ctx, "DELETE FROM reactions_by_user WHERE conversation_id = ? AND user_id = ? AND bucket = ? AND seq = ? AND emoji = ?",
		conversationID, userID, b, seq, emoji).Exec()
	if err != nil {
		return false, wrap(err, "remove reaction from %s", storage.MessageID(conversationID, seq))
	}
	return applied, nil
}

// seqsByBucket groups distinct positive seqs by bucket.
func seqsByBucket(seqs []int64) ([]int64, map[int64][]int64) {
	by := map[int64][]int64{}
	seen := map[int64]bool{}
	var buckets []int64
	for _, seq := range seqs {
		if seq <= 0 || seen[seq] {
			continue
		}
		seen[seq] = true
		b := bucketOf(seq)
		if _, ok := by[b]; !ok {
			buckets = append(buckets, b)
		}
		by[b] = append(by[b], seq)
	}
	return buckets, by
}

// Reactions implements storage.Store: per bucket, one GROUP BY (seq, emoji)
// query, so Cassandra counts and returns one row per emoji, not one per
// reaction.
func (s *Store) Reactions(ctx context.Context, conversationID string, seqs []int64) (map[int64][]storage.ReactionSummary, error) {
	buckets, by := seqsByBucket(seqs)
	found := make([][]storage.ReactionSummary, len(buckets))
	err := cql.Parallel(ctx, len(buckets), func(ctx context.Context, i int) error {
		iter := s.query(ctx, `SELECT seq, emoji, count(*), min(reacted_at) FROM reactions
			WHERE conversation_id = ? AND bucket = ? AND seq IN ? GROUP BY seq, emoji`,
			conversationID, buckets[i], by[buckets[i]]).Iter()
		var (
			seq   int64
			emoji string
			count int64
			first time.Time
		)
		for iter.Scan(&seq, &emoji, &count, &first) {
			found[i] = append(found[i], storage.ReactionSummary{
				MessageID: storage.MessageID(conversationID, seq), Emoji: emoji, Count: int(count), FirstAt: first.UTC(),
			})
		}
		return iter.Close()
	})
	if err != nil {
		return nil, wrap(err, "read reactions of %s", conversationID)
	}
	out := make(map[int64][]storage.ReactionSummary)
	for _, sums := range found {
		for _, r := range sums {
			_, seq, _ := storage.ParseMessageID(r.MessageID)
			out[seq] = append(out[seq], r)
		}
	}
	for _, sums := range out {
		// Rows come in emoji order; order by first use, ties by emoji.
		sort.SliceStable(sums, func(a, b int) bool { return sums[a].FirstAt.Before(sums[b].FirstAt) })
	}
	return out, nil
}

// ReactionsBy implements storage.Store: one slice of the user's
// reactions_by_user partition per bucket.
func (s *Store) ReactionsBy(ctx context.Context, conversationID string, seqs []int64, userID string) (map[int64][]string, error) {
	buckets, by := seqsByBucket(seqs)
	found := make([]map[int64][]string, len(buckets))
	err := cql.Parallel(ctx, len(buckets), func(ctx context.Context, i int) error {
		iter := s.query(ctx, "SELECT seq, emoji FROM reactions_by_user WHERE conversation_id = ? AND user_id = ? AND bucket = ? AND seq IN ?",
			conversationID, userID, buckets[i], by[buckets[i]]).Iter()
		found[i] = map[int64][]string{}
		var seq int64
		var emoji string
		for iter.Scan(&seq, &emoji) {
			found[i][seq] = append(found[i][seq], emoji)
		}
		return iter.Close()
	})
	if err != nil {
		return nil, wrap(err, "read reactions of %s in %s", userID, conversationID)
	}
	out := make(map[int64][]string)
	for _, m := range found {
		for seq, emojis := range m {
			out[seq] = emojis
		}
	}
	return out, nil
}

// ReactionUsers implements storage.Store: one slice of the message's
// (seq, emoji) rows, after afterUserID.
func (s *Store) ReactionUsers(ctx context.Context, conversationID string, seq int64, emoji, afterUserID string, limit int) ([]storage.Receipt, error) {
	if limit <= 0 {
		return nil, nil
	}
	iter := s.query(ctx, `SELECT user_id, reacted_at FROM reactions
		WHERE conversation_id = ? AND bucket = ? AND seq = ? AND emoji = ? AND user_id > ? LIMIT ?`,
		conversationID, bucketOf(seq), seq, emoji, afterUserID, limit).Iter()
	var out []storage.Receipt
	var user string
	var at time.Time
	for iter.Scan(&user, &at) {
		out = append(out, storage.Receipt{UserID: user, At: at.UTC()})
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "read reactions of %s", storage.MessageID(conversationID, seq))
	}
	return out, nil
}
