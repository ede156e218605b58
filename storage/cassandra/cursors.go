package cassandra

import (
	"context"
	"errors"
	"fmt"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

func cursorColumn(kind storage.CursorKind) string {
	if kind == storage.Delivered {
		return "delivered_seq"
	}
	return "read_seq"
}

func cursorOf(m storage.Member, kind storage.CursorKind) int64 {
	if kind == storage.Delivered {
		return m.DeliveredSeq
	}
	return m.ReadSeq
}

// AdvanceCursor implements storage.Store.
//
// The cursor is a max register (written USING TIMESTAMP <seq>), so racing
// moves from two devices always leave the larger seq, with no Paxos round.
// The history row is written first: a crash in between leaves a row that
// ReceiptTime ignores until the cursor really gets there. Cost: one read,
// two writes in sequence.
func (s *Store) AdvanceCursor(ctx context.Context, conversationID, userID string, kind storage.CursorKind, seq int64, at time.Time) (bool, error) {
	m, err := s.Member(ctx, conversationID, userID)
	if err != nil {
		return false, err
	}
	if seq <= cursorOf(m, kind) {
		return false, nil
	}
	if err := s.query(ctx, "INSERT INTO cursor_history (conversation_id, user_id, kind, seq, at) VALUES (?, ?, ?, ?, ?)",
		conversationID, userID, string(kind), seq, cql.Timestamp(at)).Exec(); err != nil {
		return false, wrap(err, "move %s cursor of %s in %s", kind, userID, conversationID)
	}
	err = s.query(ctx, "UPDATE members USING TIMESTAMP ? SET "+cursorColumn(kind)+" = ? WHERE conversation_id = ? AND user_id = ?",
		seq, seq, conversationID, userID).Exec()
	if err != nil {
		return false, wrap(err, "move %s cursor of %s in %s", kind, userID, conversationID)
	}
	return true, nil
}

// firstReached is when a cursor's history first reached seq: one seek.
func (s *Store) firstReached(ctx context.Context, conversationID, userID string, kind storage.CursorKind, seq int64) (time.Time, bool, error) {
	var at time.Time
	err := s.query(ctx, "SELECT at FROM cursor_history WHERE conversation_id = ? AND user_id = ? AND kind = ? AND seq >= ? LIMIT 1",
		conversationID, userID, string(kind), seq).Scan(&at)
	if errors.Is(err, gocql.ErrNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, wrap(err, "read %s cursor history of %s in %s", kind, userID, conversationID)
	}
	return at.UTC(), true, nil
}

// ReceiptTime implements storage.Store: the history seek and the member's
// cursor are read in parallel; a history row the cursor never reached (see
// AdvanceCursor) does not count.
func (s *Store) ReceiptTime(ctx context.Context, conversationID, userID string, kind storage.CursorKind, seq int64) (time.Time, bool, error) {
	var (
		at      time.Time
		found   bool
		reached bool
	)
	err := cql.Parallel(ctx, 2, func(ctx context.Context, i int) error {
		if i == 0 {
			var err error
			at, found, err = s.firstReached(ctx, conversationID, userID, kind, seq)
			return err
		}
		r, err := s.memberRow(ctx, conversationID, userID)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		reached = err == nil && cursorOf(r.Member, kind) >= seq
		return err
	})
	if err != nil {
		return time.Time{}, false, err
	}
	if !found || !reached {
		return time.Time{}, false, nil
	}
	return at, true, nil
}

// receiptPage is how many member rows Receipts reads at a time.
const receiptPage = 500

// Receipts implements storage.Store. It walks the members partition in user
// id order and seeks each qualifying member's cursor history, in parallel,
// only as many as the page still needs.
func (s *Store) Receipts(ctx context.Context, conversationID string, seq int64, kind storage.CursorKind, afterUserID string, limit int) ([]storage.Receipt, error) {
	msgs, err := s.Messages(ctx, conversationID, []int64{seq})
	if err != nil {
		return nil, err
	}
	msg, ok := msgs[seq]
	if !ok {
		return nil, fmt.Errorf("cassandra: receipts of %s: %w", storage.MessageID(conversationID, seq), storage.ErrNotFound)
	}
	var out []storage.Receipt
	after := afterUserID
	for len(out) < limit {
		var candidates []string
		rows := 0
		iter := s.query(ctx, "SELECT "+memberColumns+" FROM members WHERE conversation_id = ? AND user_id > ? LIMIT ?",
			conversationID, after, receiptPage).Iter()
		for {
			r, ok := scanMember(conversationID, iter.Scan)
			if !ok {
				break
			}
			rows++
			after = r.UserID
			// A member who joined at or after seq never saw the message:
			// their cursor starts past it without them having read it.
			if r.active && r.UserID != msg.SenderID && r.JoinedSeq < seq && cursorOf(r.Member, kind) >= seq {
				candidates = append(candidates, r.UserID)
			}
		}
		if err := iter.Close(); err != nil {
			return nil, wrap(err, "read members of %s", conversationID)
		}
		for len(candidates) > 0 && len(out) < limit {
			n := min(limit-len(out), len(candidates))
			chunk := candidates[:n]
			candidates = candidates[n:]
			times := make([]*time.Time, n)
			err := cql.Parallel(ctx, n, func(ctx context.Context, i int) error {
				at, ok, err := s.firstReached(ctx, conversationID, chunk[i], kind, seq)
				if ok {
					times[i] = &at
				}
				return err
			})
			if err != nil {
				return nil, err
			}
			for i, at := range times {
				if at != nil {
					out = append(out, storage.Receipt{UserID: chunk[i], At: *at})
				}
			}
		}
		if rows < receiptPage {
			break
		}
	}
	return out, nil
}

// ReceiptCounts implements storage.Store: the messages' senders (one read
// per bucket) and one read of the members partition, counted in memory.
func (s *Store) ReceiptCounts(ctx context.Context, conversationID string, seqs []int64) (map[int64]storage.MessageCounts, error) {
	var (
		msgs    map[int64]storage.Message
		members []storage.Member
	)
	err := cql.Parallel(ctx, 2, func(ctx context.Context, i int) error {
		var err error
		if i == 0 {
			msgs, err = s.Messages(ctx, conversationID, seqs)
		} else {
			members, err = s.Members(ctx, conversationID, "", 0)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[int64]storage.MessageCounts, len(seqs))
	for _, seq := range seqs {
		msg, ok := msgs[seq]
		if !ok {
			continue
		}
		var c storage.MessageCounts
		for _, m := range members {
			if m.UserID == msg.SenderID || m.JoinedSeq >= seq {
				continue // the sender, and members who joined after it was sent
			}
			if m.ReadSeq >= seq {
				c.Read++
			}
			if m.DeliveredSeq >= seq {
				c.Delivered++
			}
		}
		out[seq] = c
	}
	return out, nil
}
