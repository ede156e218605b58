package pebble

import (
	"context"
	"encoding/json"
	"errors"
	"messenger/pebblekv"
	"time"

	"messenger/storage"
)

// Keys: conv\0<id> -> Conversation JSON; direct\0<pair> -> id;
// member\0<conv>\0<user> -> Member JSON; userconv\0<user>\0<conv> -> "".

// CreateConversation implements storage.Store.
func (s *Store) CreateConversation(ctx context.Context, c storage.Conversation, members []storage.Member) (storage.Conversation, bool, error) {
	if c.DirectKey != "" {
		defer s.lock("direct" + c.DirectKey)()
		v, closer, err := s.db.Get(pebblekv.Key("direct", c.DirectKey))
		if err == nil {
			id := string(v)
			_ = closer.Close()
			var existing storage.Conversation
			err := s.getJSON(ctx, pebblekv.Key("conv", id), &existing)
			return existing, false, err
		}
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("conv", c.ID), c); err != nil {
		return c, false, err
	}
	if c.DirectKey != "" {
		if err := b.Set(pebblekv.Key("direct", c.DirectKey), []byte(c.ID), nil); err != nil {
			return c, false, err
		}
	}
	positions := posDeltas{}
	for _, m := range members {
		m.ConversationID = c.ID
		if err := setJSON(b, pebblekv.Key("member", c.ID, m.UserID), m); err != nil {
			return c, false, err
		}
		if err := b.Set(pebblekv.Key("userconv", m.UserID, c.ID), nil, nil); err != nil {
			return c, false, err
		}
		positions.add(m, 1)
	}
	if err := s.applyPositions(b, positions); err != nil {
		return c, false, err
	}
	if err := b.Set(pebblekv.Key("posbuilt", c.ID), nil, nil); err != nil {
		return c, false, err
	}
	if err := setMemberCount(b, c.ID, int64(storage.DistinctMembers(members))); err != nil {
		return c, false, err
	}
	return c, true, b.Commit(s.wo)
}

// Conversations implements storage.Store.
func (s *Store) Conversations(ctx context.Context, ids []string) (map[string]storage.Conversation, error) {
	out := make(map[string]storage.Conversation, len(ids))
	for _, id := range ids {
		var c storage.Conversation
		err := s.getJSON(ctx, pebblekv.Key("conv", id), &c)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = c
	}
	return out, nil
}

func (s *Store) conversation(ctx context.Context, id string) (storage.Conversation, error) {
	var c storage.Conversation
	err := s.getJSON(ctx, pebblekv.Key("conv", id), &c)
	return c, err
}

// RenameConversation implements storage.Store.
func (s *Store) RenameConversation(ctx context.Context, conversationID, title string, at time.Time) error {
	defer s.lock(conversationID)()
	c, err := s.conversation(ctx, conversationID)
	if err != nil {
		return err
	}
	c.Title = title
	if at.After(c.LastActivityAt) {
		c.LastActivityAt = at
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("conv", c.ID), c); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// Member implements storage.Store.
func (s *Store) Member(ctx context.Context, conversationID, userID string) (storage.Member, error) {
	var m storage.Member
	err := s.getJSON(ctx, pebblekv.Key("member", conversationID, userID), &m)
	return m, err
}

// Members implements storage.Store.
func (s *Store) Members(ctx context.Context, conversationID, afterUserID string, limit int) ([]storage.Member, error) {
	p := pebblekv.Prefix("member", conversationID)
	lower := p
	if afterUserID != "" {
		lower = append(pebblekv.Key("member", conversationID, afterUserID), 1)
	}
	var out []storage.Member
	err := s.scan(ctx, lower, pebblekv.Upper(p), false, func(_, v []byte) (bool, error) {
		var m storage.Member
		if err := json.Unmarshal(v, &m); err != nil {
			return false, err
		}
		out = append(out, m)
		return limit <= 0 || len(out) < limit, nil
	})
	return out, err
}

// MemberIDs implements storage.Store: member keys end with the user id, so
// no row is decoded.
func (s *Store) MemberIDs(ctx context.Context, conversationID string) ([]string, error) {
	p := pebblekv.Prefix("member", conversationID)
	var out []string
	err := s.scan(ctx, p, pebblekv.Upper(p), false, func(k, _ []byte) (bool, error) {
		out = append(out, string(k[len(p):]))
		return true, nil
	})
	return out, err
}

// AddMembers implements storage.Store.
func (s *Store) AddMembers(ctx context.Context, conversationID string, members []storage.Member, at time.Time) ([]string, error) {
	defer s.lock(conversationID)()
	c, err := s.conversation(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	kept, err := s.positionsKept(conversationID)
	if err != nil {
		return nil, err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	var added []string
	positions := posDeltas{}
	seen := map[string]bool{}
	for _, m := range members {
		if seen[m.UserID] {
			continue
		}
		seen[m.UserID] = true
		already, err := s.exists(pebblekv.Key("member", conversationID, m.UserID))
		if err != nil {
			return nil, err
		}
		if already {
			continue
		}
		m.ConversationID = conversationID
		m.JoinedAt = at
		m.JoinedSeq, m.ReadSeq, m.DeliveredSeq = c.LastSeq, c.LastSeq, c.LastSeq
		if err := setJSON(b, pebblekv.Key("member", conversationID, m.UserID), m); err != nil {
			return nil, err
		}
		if err := b.Set(pebblekv.Key("userconv", m.UserID, conversationID), nil, nil); err != nil {
			return nil, err
		}
		positions.add(m, 1)
		added = append(added, m.UserID)
	}
	if len(added) == 0 {
		return nil, nil
	}
	n, err := s.memberCount(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	if err := setMemberCount(b, conversationID, n+int64(len(added))); err != nil {
		return nil, err
	}
	if kept {
		if err := s.applyPositions(b, positions); err != nil {
			return nil, err
		}
	}
	if at.After(c.LastActivityAt) {
		c.LastActivityAt = at
	}
	if err := setJSON(b, pebblekv.Key("conv", c.ID), c); err != nil {
		return nil, err
	}
	return added, b.Commit(s.wo)
}

// RemoveMember implements storage.Store.
func (s *Store) RemoveMember(ctx context.Context, conversationID, userID string, at time.Time) error {
	defer s.lock(conversationID)()
	m, err := s.Member(ctx, conversationID, userID)
	if err != nil {
		return err
	}
	c, err := s.conversation(ctx, conversationID)
	if err != nil {
		return err
	}
	if at.After(c.LastActivityAt) {
		c.LastActivityAt = at
	}
	kept, err := s.positionsKept(conversationID)
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if kept {
		positions := posDeltas{}
		positions.add(m, -1)
		if err := s.applyPositions(b, positions); err != nil {
			return err
		}
	}
	n, err := s.memberCount(ctx, conversationID)
	if err != nil {
		return err
	}
	if err := setMemberCount(b, conversationID, max(n-1, 0)); err != nil {
		return err
	}
	if err := b.Delete(pebblekv.Key("member", conversationID, userID), nil); err != nil {
		return err
	}
	if err := b.Delete(pebblekv.Key("userconv", userID, conversationID), nil); err != nil {
		return err
	}
	if err := setJSON(b, pebblekv.Key("conv", c.ID), c); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// SetRole implements storage.Store.
func (s *Store) SetRole(ctx context.Context, conversationID, userID string, role storage.Role) error {
	defer s.lock(conversationID)()
	m, err := s.Member(ctx, conversationID, userID)
	if err != nil {
		return err
	}
	m.Role = role
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("member", conversationID, userID), m); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// UserConversationIDs implements storage.Store.
func (s *Store) UserConversationIDs(ctx context.Context, userID string) ([]string, error) {
	p := pebblekv.Prefix("userconv", userID)
	var out []string
	err := s.scan(ctx, p, pebblekv.Upper(p), false, func(k, _ []byte) (bool, error) {
		out = append(out, pebblekv.Last(k))
		return true, nil
	})
	return out, err
}
