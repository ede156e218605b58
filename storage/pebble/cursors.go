package pebble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"messenger/pebblekv"

	"messenger/storage"
)

// Keys: cursor\0<conv>\0<user>\0<kind>\0<seq hex> -> unix nanos. Every
// forward move of a cursor appends one entry, so "when did X's cursor first
// reach seq" is the first entry at or after seq: one seek.

// AdvanceCursor implements storage.Store.
func (s *Store) AdvanceCursor(ctx context.Context, conversationID, userID string, kind storage.CursorKind, seq int64, at time.Time) (bool, error) {
	defer s.lock(conversationID)()
	m, err := s.Member(ctx, conversationID, userID)
	if err != nil {
		return false, err
	}
	cur := &m.ReadSeq
	if kind == storage.Delivered {
		cur = &m.DeliveredSeq
	}
	if seq <= *cur {
		return false, nil
	}
	from := *cur
	*cur = seq
	kept, err := s.positionsKept(conversationID)
	if err != nil {
		return false, err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if kept {
		positions := posDeltas{}
		positions.move(conversationID, string(kind), from, seq)
		if err := s.applyPositions(b, positions); err != nil {
			return false, err
		}
	}
	if err := setJSON(b, pebblekv.Key("member", conversationID, userID), m); err != nil {
		return false, err
	}
	ts := strconv.FormatInt(at.UnixNano(), 10)
	if err := b.Set(pebblekv.Key("cursor", conversationID, userID, string(kind), seqKey(seq)), []byte(ts), nil); err != nil {
		return false, err
	}
	return true, b.Commit(s.wo)
}

// ReceiptTime implements storage.Store.
func (s *Store) ReceiptTime(ctx context.Context, conversationID, userID string, kind storage.CursorKind, seq int64) (time.Time, bool, error) {
	it, err := s.cursorIter(ctx, conversationID)
	if err != nil {
		return time.Time{}, false, err
	}
	defer func() { _ = it.Close() }()
	return receiptAt(it, conversationID, userID, kind, seq)
}

// cursorIter iterates over the cursor moves of one conversation.
func (s *Store) cursorIter(ctx context.Context, conversationID string) (*pebble.Iterator, error) {
	p := pebblekv.Prefix("cursor", conversationID)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: p, UpperBound: pebblekv.Upper(p)})
	if err != nil {
		return nil, fmt.Errorf("pebble: iterate: %w", err)
	}
	return it, nil
}

// receiptAt seeks it to the first move of userID's cursor at or after seq:
// the moment the cursor first reached seq.
func receiptAt(it *pebble.Iterator, conversationID, userID string, kind storage.CursorKind, seq int64) (time.Time, bool, error) {
	if !it.SeekGE(pebblekv.Key("cursor", conversationID, userID, string(kind), seqKey(seq))) {
		return time.Time{}, false, it.Error()
	}
	if !bytes.HasPrefix(it.Key(), pebblekv.Prefix("cursor", conversationID, userID, string(kind))) {
		return time.Time{}, false, nil
	}
	ns, err := strconv.ParseInt(string(it.Value()), 10, 64)
	if err != nil {
		return time.Time{}, false, err
	}
	return time.Unix(0, ns).UTC(), true, nil
}

func cursorOf(m storage.Member, kind storage.CursorKind) int64 {
	if kind == storage.Delivered {
		return m.DeliveredSeq
	}
	return m.ReadSeq
}

// Receipts implements storage.Store.
func (s *Store) Receipts(ctx context.Context, conversationID string, seq int64, kind storage.CursorKind, afterUserID string, limit int) ([]storage.Receipt, error) {
	msgs, err := s.Messages(ctx, conversationID, []int64{seq})
	if err != nil {
		return nil, err
	}
	msg, ok := msgs[seq]
	if !ok {
		return nil, storage.ErrNotFound
	}
	it, err := s.cursorIter(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	defer func() { _ = it.Close() }()
	var out []storage.Receipt
	after := afterUserID
	for len(out) < limit {
		page, err := s.Members(ctx, conversationID, after, 200)
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			if m.UserID == msg.SenderID || m.JoinedSeq >= seq || cursorOf(m, kind) < seq {
				continue // the sender, those who joined after it, those not there yet
			}
			at, ok, err := receiptAt(it, conversationID, m.UserID, kind, seq)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			out = append(out, storage.Receipt{UserID: m.UserID, At: at})
			if len(out) == limit {
				break
			}
		}
		if len(page) < 200 {
			break
		}
		after = page[len(page)-1].UserID
	}
	return out, nil
}

// ReceiptCounts implements storage.Store. It reads the messages (for their
// senders), the senders' memberships and the position histogram from the
// oldest asked seq on (see positions.go): not the members.
func (s *Store) ReceiptCounts(ctx context.Context, conversationID string, seqs []int64) (map[int64]storage.MessageCounts, error) {
	out := make(map[int64]storage.MessageCounts, len(seqs))
	msgs, err := s.Messages(ctx, conversationID, seqs)
	if err != nil || len(msgs) == 0 {
		return out, err
	}
	kept, err := s.positionsKept(conversationID)
	if err != nil {
		return nil, err
	}
	if !kept {
		if err := s.buildPositions(ctx, conversationID); err != nil {
			return nil, err
		}
	}
	found := make([]int64, 0, len(msgs))
	for seq := range msgs {
		found = append(found, seq)
	}
	pos, err := s.atOrAfter(ctx, conversationID, found)
	if err != nil {
		return nil, err
	}
	senders := map[string]*storage.Member{}
	for _, m := range msgs {
		if _, ok := senders[m.SenderID]; ok {
			continue
		}
		mem, err := s.Member(ctx, conversationID, m.SenderID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			senders[m.SenderID] = nil
		case err != nil:
			return nil, err
		default:
			senders[m.SenderID] = &mem
		}
	}
	for seq, m := range msgs {
		// Cursors never trail the join point, so everyone who joined at
		// seq or later is also counted at seq or beyond: subtract them.
		c := storage.MessageCounts{
			Read:      int(pos[string(storage.Read)][seq] - pos[joined][seq]),
			Delivered: int(pos[string(storage.Delivered)][seq] - pos[joined][seq]),
		}
		if sender := senders[m.SenderID]; sender != nil && sender.JoinedSeq < seq {
			if sender.ReadSeq >= seq {
				c.Read--
			}
			if sender.DeliveredSeq >= seq {
				c.Delivered--
			}
		}
		out[seq] = c
	}
	return out, nil
}
