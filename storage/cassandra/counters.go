package cassandra

import (
	"context"
	"errors"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
)

// Unread counts are seq arithmetic (docs/counters.md): the seqs in
// (afterSeq, last_seq] are all messages (seqs are contiguous), so the unread
// count is last_seq - afterSeq less the exceptions in that range, the union
// of two sets of rows (migration 016):
//
//   - unread_exceptions((user, conversation), seq): the user's own sends,
//     written by persist with the message's own write timestamp (so every
//     rewrite of a claimed message writes the same cell), and the messages
//     the user hid, written in one logged batch with hidden_by;
//   - recalled_messages(conversation, seq): messages deleted for everyone,
//     written in one logged batch with the tombstone.
//
// Rows are set members, not counters: an insert retried by the driver, by a
// client's retried send or by a takeover that rewrites the head writes the
// same row again, which changes nothing. That is why the count is idempotent
// where a Cassandra counter column (an increment, replayed on a timeout) is
// not.

// sentWrites records a claimed message as its sender's own, for persist.
func (s *Store) sentWrites(ctx context.Context, h head) []*gocql.Query {
	m := h.msg
	if m.SenderID == "" {
		return nil
	}
	return []*gocql.Query{s.query(ctx, `INSERT INTO unread_exceptions (user_id, conversation_id, seq) VALUES (?, ?, ?) USING TIMESTAMP ?`,
		m.SenderID, m.ConversationID, m.Seq, h.writeTS)}
}

// CountUnread implements storage.Store: three single-partition reads in
// parallel (last_seq and the two exception ranges), whatever the number of
// unread messages.
func (s *Store) CountUnread(ctx context.Context, conversationID, userID string, afterSeq int64) (int, error) {
	afterSeq = max(afterSeq, 0)
	var last int64
	sets := [2][]int64{}
	err := cql.Parallel(ctx, 3, func(ctx context.Context, i int) error {
		switch i {
		case 0:
			err := s.query(ctx, `SELECT last_seq FROM conversations WHERE id = ?`, conversationID).Scan(&last)
			if errors.Is(err, gocql.ErrNotFound) {
				return nil
			}
			return err
		case 1:
			return s.seqs(ctx, &sets[0], `SELECT seq FROM unread_exceptions WHERE user_id = ? AND conversation_id = ? AND seq > ?`, userID, conversationID, afterSeq)
		default:
			return s.seqs(ctx, &sets[1], `SELECT seq FROM recalled_messages WHERE conversation_id = ? AND seq > ?`, conversationID, afterSeq)
		}
	})
	if err != nil {
		return 0, wrap(err, "count unread in %s", conversationID)
	}
	if last <= afterSeq {
		return 0, nil
	}
	except := map[int64]bool{}
	for _, set := range sets {
		for _, seq := range set {
			if seq <= last {
				except[seq] = true
			}
		}
	}
	return int(last-afterSeq) - len(except), nil
}

// seqs collects the seq column of a query's rows into out.
func (s *Store) seqs(ctx context.Context, out *[]int64, q string, args ...any) error {
	iter := s.query(ctx, q, args...).Iter()
	var seq int64
	for iter.Scan(&seq) {
		*out = append(*out, seq)
	}
	return iter.Close()
}
