package pebble

import (
	"context"
	"errors"

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
