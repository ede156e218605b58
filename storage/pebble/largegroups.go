package pebble

import (
	"context"

	"messenger/pebblekv"
)

// Keys: streamed\0<conv> -> "" marks a streamed conversation (sticky);
// ustreamed\0<user>\0<conv> -> "" is a user's index of the streamed
// conversations they are in. A mark is set under the conversation's lock,
// so concurrent markers see one marked=true.

// MarkStreamed implements storage.Store.
func (s *Store) MarkStreamed(ctx context.Context, conversationID string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	defer s.lock(conversationID)()
	k := pebblekv.Key("streamed", conversationID)
	if present, err := s.exists(k); err != nil || present {
		return false, err
	}
	return true, s.db.Set(k, nil, s.wo)
}

// Streamed implements storage.Store.
func (s *Store) Streamed(ctx context.Context, ids []string) (map[string]bool, error) {
	out := make(map[string]bool)
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		present, err := s.exists(pebblekv.Key("streamed", id))
		if err != nil {
			return nil, err
		}
		if present {
			out[id] = true
		}
	}
	return out, nil
}

// SetStreamedMember implements storage.Store.
func (s *Store) SetStreamedMember(ctx context.Context, userID, conversationID string, member bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := pebblekv.Key("ustreamed", userID, conversationID)
	if member {
		return s.db.Set(k, nil, s.wo)
	}
	return s.db.Delete(k, s.wo)
}

// StreamedOf implements storage.Store.
func (s *Store) StreamedOf(ctx context.Context, userID string) ([]string, error) {
	p := pebblekv.Prefix("ustreamed", userID)
	var ids []string
	err := s.scan(ctx, p, pebblekv.Upper(p), false, func(k, _ []byte) (bool, error) {
		ids = append(ids, pebblekv.Last(k))
		return true, nil
	})
	return ids, err
}
