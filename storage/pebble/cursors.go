package pebble

import (
	"context"
	"strconv"
	"time"

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
	*cur = seq
	b := s.db.NewBatch()
	defer b.Close()
	if err := setJSON(b, key("member", conversationID, userID), m); err != nil {
		return false, err
	}
	ts := strconv.FormatInt(at.UnixNano(), 10)
	if err := b.Set(key("cursor", conversationID, userID, string(kind), seqKey(seq)), []byte(ts), nil); err != nil {
		return false, err
	}
	return true, b.Commit(s.wo)
}

// ReceiptTime implements storage.Store.
func (s *Store) ReceiptTime(ctx context.Context, conversationID, userID string, kind storage.CursorKind, seq int64) (time.Time, bool, error) {
	p := prefix("cursor", conversationID, userID, string(kind))
	var at time.Time
	found := false
	err := s.scan(ctx, key("cursor", conversationID, userID, string(kind), seqKey(seq)), upper(p), false, func(_, v []byte) (bool, error) {
		ns, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return false, err
		}
		at, found = time.Unix(0, ns).UTC(), true
		return false, nil
	})
	return at, found, err
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
	var out []storage.Receipt
	after := afterUserID
	for len(out) < limit {
		page, err := s.Members(ctx, conversationID, after, 200)
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			if m.UserID == msg.SenderID || cursorOf(m, kind) < seq {
				continue
			}
			at, ok, err := s.ReceiptTime(ctx, conversationID, m.UserID, kind, seq)
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

// ReceiptCounts implements storage.Store.
func (s *Store) ReceiptCounts(ctx context.Context, conversationID string, seqs []int64) (map[int64]storage.MessageCounts, error) {
	msgs, err := s.Messages(ctx, conversationID, seqs)
	if err != nil {
		return nil, err
	}
	members, err := s.Members(ctx, conversationID, "", 0)
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
			if m.UserID == msg.SenderID {
				continue
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
