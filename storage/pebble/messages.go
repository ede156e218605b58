package pebble

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/cockroachdb/pebble/v2"

	"messenger/pebblekv"
	"messenger/storage"
)

// Keys: msg\0<conv>\0<seq hex> -> Message JSON;
// idem\0<conv>\0<sender>\0<clientMessageID> -> seq hex;
// hidden\0<user>\0<conv>\0<seq hex> -> "".

// AppendMessage implements storage.Store. The conversation's stripe is
// held while the seq is taken and the batch applied, not while the WAL
// syncs (appendBatch): the next send to the conversation need not wait for
// this one's fsync, and its own sync covers this one's too (the WAL is
// written in order).
func (s *Store) AppendMessage(ctx context.Context, m storage.Message) (storage.Message, bool, error) {
	unlock := s.lock(m.ConversationID)
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	idem := pebblekv.Key("idem", m.ConversationID, m.SenderID, m.ClientMessageID)
	if v, closer, err := s.db.Get(idem); err == nil {
		seq := string(v)
		_ = closer.Close()
		var existing storage.Message
		if err := s.getJSON(ctx, pebblekv.Key("msg", m.ConversationID, seq), &existing); err != nil {
			return existing, false, err
		}
		locked = false
		unlock()
		// A retry can arrive while the original waits for its sync: it is
		// answered only once the original is durable too.
		return existing, false, s.syncWAL()
	}
	c, err := s.conversation(ctx, m.ConversationID)
	if err != nil {
		return m, false, err
	}
	m.Seq = c.LastSeq + 1
	m.ID = storage.MessageID(m.ConversationID, m.Seq)
	c.LastSeq = m.Seq
	if m.SentAt.After(c.LastActivityAt) {
		c.LastActivityAt = m.SentAt
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("msg", m.ConversationID, seqKey(m.Seq)), m); err != nil {
		return m, false, err
	}
	if err := setJSON(b, pebblekv.Key("conv", c.ID), c); err != nil {
		return m, false, err
	}
	if m.ClientMessageID != "" {
		if err := b.Set(idem, []byte(seqKey(m.Seq)), nil); err != nil {
			return m, false, err
		}
	}
	if err := b.Set(fanOutKey(storage.PendingFanOutOf(m)), nil, nil); err != nil {
		return m, false, err
	}
	if err := indexRefs(b, m); err != nil {
		return m, false, err
	}
	if err := indexSent(b, m); err != nil {
		return m, false, err
	}
	locked = false
	if err := s.appendBatch(b, unlock); err != nil {
		return m, false, err
	}
	return m, true, nil
}

// appendBatch commits b and calls unlock once b is applied (visible), before
// waiting for the WAL sync when writes are synced. Pebble makes an applied
// batch visible before its sync either way; what changes is only that the
// lock's next holder may apply its batch meanwhile. Pebble marks
// ApplyNoSyncWait experimental (CockroachDB's write path uses it); the
// contract suite runs with synced commits (TestContractSynced) so that an
// upgrade that changes it fails there.
func (s *Store) appendBatch(b *pebble.Batch, unlock func()) error {
	if !s.wo.Sync {
		err := b.Commit(s.wo)
		unlock()
		return err
	}
	err := s.db.ApplyNoSyncWait(b, s.wo)
	unlock()
	// SyncWait also when the apply failed: it returns at once if the batch
	// never reached the WAL, and the batch must not be closed before it.
	return errors.Join(err, b.SyncWait())
}

// syncWAL returns once everything written before it is durable (at once
// with NoSync).
func (s *Store) syncWAL() error {
	if !s.wo.Sync {
		return nil
	}
	return s.db.LogData(nil, s.wo)
}

// Messages implements storage.Store.
func (s *Store) Messages(ctx context.Context, conversationID string, seqs []int64) (map[int64]storage.Message, error) {
	out := make(map[int64]storage.Message, len(seqs))
	for _, seq := range seqs {
		var m storage.Message
		err := s.getJSON(ctx, pebblekv.Key("msg", conversationID, seqKey(seq)), &m)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[seq] = m
	}
	return out, nil
}

// MessageByID implements storage.Store.
func (s *Store) MessageByID(ctx context.Context, id string) (storage.Message, error) {
	conv, seq, err := storage.ParseMessageID(id)
	if err != nil {
		return storage.Message{}, err
	}
	var m storage.Message
	err = s.getJSON(ctx, pebblekv.Key("msg", conv, seqKey(seq)), &m)
	return m, err
}

func (s *Store) hiddenSeqs(ctx context.Context, userID, conversationID string) (map[string]bool, error) {
	p := pebblekv.Prefix("hidden", userID, conversationID)
	hidden := map[string]bool{}
	err := s.scan(ctx, p, pebblekv.Upper(p), false, func(k, _ []byte) (bool, error) {
		hidden[pebblekv.Last(k)] = true
		return true, nil
	})
	return hidden, err
}

// ListMessages implements storage.Store.
func (s *Store) ListMessages(ctx context.Context, conversationID, viewerID string, afterSeq, beforeSeq int64, limit int, newestFirst bool) ([]storage.Message, error) {
	hidden, err := s.hiddenSeqs(ctx, viewerID, conversationID)
	if err != nil {
		return nil, err
	}
	p := pebblekv.Prefix("msg", conversationID)
	lower := pebblekv.Key("msg", conversationID, seqKey(afterSeq+1))
	up := pebblekv.Upper(p)
	if beforeSeq > 0 {
		up = pebblekv.Key("msg", conversationID, seqKey(beforeSeq))
	}
	var out []storage.Message
	err = s.scan(ctx, lower, up, newestFirst, func(k, v []byte) (bool, error) {
		if hidden[pebblekv.Last(k)] {
			return true, nil
		}
		var m storage.Message
		if err := json.Unmarshal(v, &m); err != nil {
			return false, err
		}
		out = append(out, m)
		return len(out) < limit, nil
	})
	return out, err
}

// UpdateMessage implements storage.Store.
func (s *Store) UpdateMessage(ctx context.Context, m storage.Message) error {
	defer s.lock(m.ConversationID)()
	k := pebblekv.Key("msg", m.ConversationID, seqKey(m.Seq))
	var cur storage.Message
	if err := s.getJSON(ctx, k, &cur); err != nil {
		return err
	}
	switch {
	case cur.DeletedAt != nil:
		return nil // a tombstone is final
	case m.DeletedAt != nil:
		cur.Body, cur.DeletedAt = m.Body, m.DeletedAt
	default:
		cur.Body, cur.EditedAt = m.Body, m.EditedAt
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, k, cur); err != nil {
		return err
	}
	if cur.DeletedAt != nil {
		// In the tombstone's batch: the unread counts stop counting it.
		if err := b.Set(recallKey(m.ConversationID, m.Seq), nil, nil); err != nil {
			return err
		}
	}
	return b.Commit(s.wo)
}

// HideMessage implements storage.Store.
func (s *Store) HideMessage(ctx context.Context, userID, conversationID string, seq int64) error {
	return s.db.Set(pebblekv.Key("hidden", userID, conversationID, seqKey(seq)), nil, s.wo)
}
