package pebble

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/cockroachdb/pebble/v2"

	"messenger/pebblekv"
	"messenger/storage"
)

// Keys: memcount\0<conv> -> the member count in decimal, written in the
// batch of every membership change under the conversation's lock.
// Conversations created before the count was kept have no key: they are
// counted once by scanning their members, and the count is stored.

// MemberCount implements storage.Store.
func (s *Store) MemberCount(ctx context.Context, conversationID string) (int, error) {
	if n, ok, err := s.storedMemberCount(conversationID); err != nil || ok {
		return int(n), err
	}
	defer s.lock(conversationID)()
	n, err := s.memberCount(ctx, conversationID)
	if err != nil {
		return 0, err
	}
	if _, err := s.conversation(ctx, conversationID); errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setMemberCount(b, conversationID, n); err != nil {
		return 0, err
	}
	return int(n), b.Commit(s.wo)
}

// memberCount returns conversationID's member count, counting the members
// once when no count is stored yet. The caller holds the conversation's
// lock.
func (s *Store) memberCount(ctx context.Context, conversationID string) (int64, error) {
	if n, ok, err := s.storedMemberCount(conversationID); err != nil || ok {
		return n, err
	}
	ids, err := s.MemberIDs(ctx, conversationID)
	return int64(len(ids)), err
}

func (s *Store) storedMemberCount(conversationID string) (int64, bool, error) {
	v, closer, err := s.db.Get(pebblekv.Key("memcount", conversationID))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("pebble: get member count: %w", err)
	}
	defer func() { _ = closer.Close() }()
	n, err := strconv.ParseInt(string(v), 10, 64)
	return n, err == nil, err
}

func setMemberCount(b *pebble.Batch, conversationID string, n int64) error {
	return b.Set(pebblekv.Key("memcount", conversationID), []byte(strconv.FormatInt(n, 10)), nil)
}
