package pebble

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"messenger/pebblekv"
	"messenger/storage"
)

// Unread counts are seq arithmetic (see docs/counters.md): of the seqs in
// (afterSeq, LastSeq] every one is a message (seqs are contiguous), so the
// unread count is LastSeq - afterSeq less the exceptions in that range, a
// union of three sets of keys written in the same batch as the change that
// makes a message not count:
//
//	sent/<user>/<conv>/<seq>   the user's own sends (AppendMessage)
//	hidden/<user>/<conv>/<seq> messages the user hid for themself (HideMessage)
//	recall/<conv>/<seq>        messages deleted for everyone (UpdateMessage)
//
// Keys are a set, so a retried write is a no-op and nothing is incremented:
// the count cannot drift. Reading costs one conversation read plus the
// exceptions after afterSeq, never the unread messages themselves.

func sentKey(userID, conversationID string, seq int64) []byte {
	return pebblekv.Key("sent", userID, conversationID, seqKey(seq))
}

func recallKey(conversationID string, seq int64) []byte {
	return pebblekv.Key("recall", conversationID, seqKey(seq))
}

// indexSent records m as its sender's own message, in the batch that stores it.
func indexSent(b *pebble.Batch, m storage.Message) error {
	return b.Set(sentKey(m.SenderID, m.ConversationID, m.Seq), nil, nil)
}

// CountUnread implements storage.Store in time independent of the number of
// unread messages.
func (s *Store) CountUnread(ctx context.Context, conversationID, userID string, afterSeq int64) (int, error) {
	c, err := s.conversation(ctx, conversationID)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	afterSeq = max(afterSeq, 0)
	if c.LastSeq <= afterSeq {
		return 0, nil
	}
	except := map[string]bool{}
	for _, p := range [][]string{{"sent", userID, conversationID}, {"hidden", userID, conversationID}, {"recall", conversationID}} {
		lower := pebblekv.Key(append(p, seqKey(afterSeq+1))...)
		upper := pebblekv.Key(append(p, seqKey(c.LastSeq+1))...)
		if err := s.scan(ctx, lower, upper, false, func(k, _ []byte) (bool, error) {
			except[pebblekv.Last(k)] = true
			return true, nil
		}); err != nil {
			return 0, err
		}
	}
	return int(c.LastSeq-afterSeq) - len(except), nil
}

// unreadIndexedKey marks a store whose messages all have their sent and
// recall keys: those written before the keys existed get them once, at Open.
var unreadIndexedKey = pebblekv.Key("meta", "unread-indexed")

// backfillUnread writes the sent and recall keys of the messages stored
// before they existed (once per data directory; keys are a set, so a
// backfill cut short by a crash is simply done again at the next Open).
func (s *Store) backfillUnread() error {
	if _, closer, err := s.db.Get(unreadIndexedKey); err == nil {
		return closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("pebble: open: %w", err)
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	p := pebblekv.Prefix("msg")
	err := s.scan(context.Background(), p, pebblekv.Upper(p), false, func(_, v []byte) (bool, error) {
		var m storage.Message
		if err := json.Unmarshal(v, &m); err != nil {
			return false, err
		}
		if err := indexSent(b, m); err != nil {
			return false, err
		}
		if m.DeletedAt != nil {
			if err := b.Set(recallKey(m.ConversationID, m.Seq), nil, nil); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if err == nil {
		err = b.Set(unreadIndexedKey, nil, nil)
	}
	if err == nil {
		err = b.Commit(pebble.Sync)
	}
	if err != nil {
		return fmt.Errorf("pebble: index unread counts: %w", err)
	}
	return nil
}
