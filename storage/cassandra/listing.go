package cassandra

import (
	"context"
	"slices"
)

// ConversationIDs implements storage.Store. The order is token order (the
// Murmur3 token of the id, then the id's bytes among ids sharing a token):
// stable, but not alphabetical. Each page is a token-range scan of the
// conversations table, which touches every node's share of the ring in turn.
func (s *Store) ConversationIDs(ctx context.Context, afterID string, limit int) ([]string, error) {
	return s.listIDs(ctx, "conversations", afterID, limit)
}

// UserIDs implements storage.Store, in token order like ConversationIDs. A
// users row whose username claim was lost to another user and whose
// creator crashed before deleting it again (see CreateUser) is listed too:
// it is a user nobody can log in as.
func (s *Store) UserIDs(ctx context.Context, afterID string, limit int) ([]string, error) {
	return s.listIDs(ctx, "users", afterID, limit)
}

// listIDs pages the partition keys (column id) of table in token order.
//
// `token(id) > token(?)` alone would skip an id whose token equals
// afterID's (two 64-bit tokens collide rarely, but a listing must not lose
// a conversation), so a page starts with the ids sharing afterID's token
// that sort after it (Cassandra orders those by their bytes), then goes on
// with the greater tokens.
func (s *Store) listIDs(ctx context.Context, table, afterID string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	out := make([]string, 0, min(limit, 1024))
	collect := func(stmt string, args ...any) error {
		iter := s.query(ctx, stmt, args...).PageSize(min(limit, 5000)).Iter()
		var id string
		for len(out) < limit && iter.Scan(&id) {
			out = append(out, id)
		}
		return iter.Close()
	}
	if afterID == "" {
		if err := collect("SELECT id FROM "+table+" LIMIT ?", limit); err != nil {
			return nil, wrap(err, "list %s ids", table)
		}
		return out, nil
	}
	var same []string
	iter := s.query(ctx, "SELECT id FROM "+table+" WHERE token(id) = token(?)", afterID).Iter()
	var id string
	for iter.Scan(&id) {
		if id > afterID { // Go compares strings by their bytes
			same = append(same, id)
		}
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "list %s ids sharing the token of %q", table, afterID)
	}
	slices.Sort(same)
	out = append(out, same[:min(len(same), limit)]...)
	if len(out) < limit {
		if err := collect("SELECT id FROM "+table+" WHERE token(id) > token(?) LIMIT ?", afterID, limit-len(out)); err != nil {
			return nil, wrap(err, "list %s ids after %q", table, afterID)
		}
	}
	return out, nil
}
