package pebble

import (
	"context"
	"encoding/json"
	"time"

	"messenger/pebblekv"
	"messenger/storage"
)

// Keys: pin\0<conv>\0<seq hex> -> Pin (JSON), a conversation's pins;
// edit\0<conv>\0<seq hex>\0<replaced unix nanos hex> -> Edit (JSON), a
// message's previous versions in time order;
// fwd\0<conv>\0<sender>\0<client message id> -> Forward (JSON), the mark
// of a forwarded copy under its send key. Pins are written under the
// conversation's lock, so the limit holds against concurrent pinners.

// PinMessage implements storage.Store.
func (s *Store) PinMessage(ctx context.Context, p storage.Pin, limit int) (bool, error) {
	defer s.lock(p.ConversationID)()
	k := pebblekv.Key("pin", p.ConversationID, seqKey(p.Seq))
	if present, err := s.exists(k); err != nil || present {
		return false, err
	}
	pins, err := s.Pins(ctx, p.ConversationID)
	if err != nil {
		return false, err
	}
	if len(pins) >= limit {
		return false, storage.ErrPinLimit
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, k, p); err != nil {
		return false, err
	}
	return true, b.Commit(s.wo)
}

// UnpinMessage implements storage.Store.
func (s *Store) UnpinMessage(ctx context.Context, conversationID string, seq int64) (bool, error) {
	defer s.lock(conversationID)()
	k := pebblekv.Key("pin", conversationID, seqKey(seq))
	if present, err := s.exists(k); err != nil || !present {
		return false, err
	}
	return true, s.db.Delete(k, s.wo)
}

// Pins implements storage.Store.
func (s *Store) Pins(ctx context.Context, conversationID string) ([]storage.Pin, error) {
	p := pebblekv.Prefix("pin", conversationID)
	var pins []storage.Pin
	err := s.scan(ctx, p, pebblekv.Upper(p), false, func(_, v []byte) (bool, error) {
		var pin storage.Pin
		if err := json.Unmarshal(v, &pin); err != nil {
			return false, err
		}
		pins = append(pins, pin)
		return true, nil
	})
	storage.SortPins(pins)
	return pins, err
}

// AddEdit implements storage.Store.
func (s *Store) AddEdit(ctx context.Context, e storage.Edit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	k := pebblekv.Key("edit", e.ConversationID, seqKey(e.Seq), pebblekv.Hex(e.ReplacedAt.UnixNano()))
	if err := setJSON(b, k, e); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// Edits implements storage.Store.
func (s *Store) Edits(ctx context.Context, conversationID string, seq int64, before time.Time, limit int) ([]storage.Edit, error) {
	p := pebblekv.Prefix("edit", conversationID, seqKey(seq))
	upper := pebblekv.Upper(p)
	if !before.IsZero() {
		upper = pebblekv.Key("edit", conversationID, seqKey(seq), pebblekv.Hex(before.UnixNano()))
	}
	var edits []storage.Edit
	if limit <= 0 {
		return edits, nil
	}
	err := s.scan(ctx, p, upper, true, func(_, v []byte) (bool, error) {
		var e storage.Edit
		if err := json.Unmarshal(v, &e); err != nil {
			return false, err
		}
		edits = append(edits, e)
		return len(edits) < limit, nil
	})
	return edits, err
}

// DropEdits implements storage.Store.
func (s *Store) DropEdits(ctx context.Context, conversationID string, seq int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := pebblekv.Prefix("edit", conversationID, seqKey(seq))
	return s.db.DeleteRange(p, pebblekv.Upper(p), s.wo)
}

// PutForward implements storage.Store.
func (s *Store) PutForward(ctx context.Context, f storage.Forward) error {
	defer s.lock(f.Key.ConversationID)()
	k := forwardKey(f.Key)
	if present, err := s.exists(k); err != nil || present {
		return err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, k, f); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// Forwards implements storage.Store.
func (s *Store) Forwards(ctx context.Context, keys []storage.ForwardKey) (map[storage.ForwardKey]storage.Forward, error) {
	out := make(map[storage.ForwardKey]storage.Forward, len(keys))
	for _, key := range keys {
		var f storage.Forward
		err := s.getJSON(ctx, forwardKey(key), &f)
		if err == storage.ErrNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[key] = f
	}
	return out, nil
}

func forwardKey(k storage.ForwardKey) []byte {
	return pebblekv.Key("fwd", k.ConversationID, k.SenderID, k.ClientMessageID)
}
