package pebble

import (
	"context"
	"fmt"
	"messenger/pebblekv"
)

// Listing reads the primary records' keys (conv\0<id>, user\0<id>) in key
// order, which is the ids' byte order: ids never contain the separator, so
// the order of the keys is the order of the ids.

// ConversationIDs implements storage.Store: ids in byte order.
func (s *Store) ConversationIDs(ctx context.Context, afterID string, limit int) ([]string, error) {
	return s.listIDs(ctx, "conv", afterID, limit)
}

// UserIDs implements storage.Store: ids in byte order.
func (s *Store) UserIDs(ctx context.Context, afterID string, limit int) ([]string, error) {
	return s.listIDs(ctx, "user", afterID, limit)
}

// listIDs returns up to limit ids of the records under kind\0, after afterID.
func (s *Store) listIDs(ctx context.Context, kind, afterID string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	p := pebblekv.Prefix(kind)
	lower := p
	if afterID != "" {
		// The smallest key after kind\0<afterID>: no id contains a zero byte.
		lower = append(pebblekv.Key(kind, afterID), 0)
	}
	out := make([]string, 0, min(limit, 1024))
	err := s.scan(ctx, lower, pebblekv.Upper(p), false, func(k, _ []byte) (bool, error) {
		out = append(out, string(k[len(p):]))
		return len(out) < limit, nil
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: list %s ids after %q: %w", kind, afterID, err)
	}
	return out, nil
}
