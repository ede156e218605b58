package pebble

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"messenger/pebblekv"
	"messenger/storage"
)

// Keys: mstate\0<user>\0<conv> -> MemberState JSON; draft\0<user>\0<conv> ->
// Draft JSON; profile\0<user> -> Profile JSON; groupinfo\0<conv> ->
// GroupDetails JSON. A member's MutedUntil and NotificationLevel are also
// in its member\0<conv>\0<user> record.

var _ storage.Membership = (*Store)(nil)

// MemberState implements storage.Store.
func (s *Store) MemberState(ctx context.Context, conversationID, userID string) (storage.MemberState, error) {
	st := storage.MemberState{ConversationID: conversationID}
	err := s.getJSON(ctx, pebblekv.Key("mstate", userID, conversationID), &st)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.MemberState{ConversationID: conversationID}, nil
	}
	return st, err
}

// MemberStates implements storage.Store.
func (s *Store) MemberStates(ctx context.Context, userID string) (map[string]storage.MemberState, error) {
	out := map[string]storage.MemberState{}
	p := pebblekv.Prefix("mstate", userID)
	err := s.scan(ctx, p, pebblekv.Upper(p), false, func(_, v []byte) (bool, error) {
		var st storage.MemberState
		if err := json.Unmarshal(v, &st); err != nil {
			return false, err
		}
		out[st.ConversationID] = st
		return true, nil
	})
	return out, err
}

// SetMemberState implements storage.Store.
func (s *Store) SetMemberState(ctx context.Context, userID string, st storage.MemberState) error {
	defer s.lock(st.ConversationID)()
	m, err := s.Member(ctx, st.ConversationID, userID)
	if err != nil {
		return err
	}
	m.MutedUntil, m.NotificationLevel = st.MutedUntil, st.NotificationLevel
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("member", st.ConversationID, userID), m); err != nil {
		return err
	}
	if err := setJSON(b, pebblekv.Key("mstate", userID, st.ConversationID), st); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// SaveDraft implements storage.Store.
func (s *Store) SaveDraft(ctx context.Context, userID string, d storage.Draft) error {
	if _, err := s.Member(ctx, d.ConversationID, userID); err != nil {
		return err
	}
	k := pebblekv.Key("draft", userID, d.ConversationID)
	if d.Body == "" {
		return s.db.Delete(k, s.wo)
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, k, d); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// Drafts implements storage.Store.
func (s *Store) Drafts(ctx context.Context, userID string) (map[string]storage.Draft, error) {
	out := map[string]storage.Draft{}
	p := pebblekv.Prefix("draft", userID)
	err := s.scan(ctx, p, pebblekv.Upper(p), false, func(_, v []byte) (bool, error) {
		var d storage.Draft
		if err := json.Unmarshal(v, &d); err != nil {
			return false, err
		}
		out[d.ConversationID] = d
		return true, nil
	})
	return out, err
}

// UpdateProfile implements storage.Store.
func (s *Store) UpdateProfile(ctx context.Context, displayName string, p storage.Profile) error {
	userID := p.UserID
	s.users.Lock()
	defer s.users.Unlock()
	var u storage.User
	if err := s.getJSON(ctx, pebblekv.Key("user", userID), &u); err != nil {
		return err
	}
	u.DisplayName = displayName
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("user", userID), u); err != nil {
		return err
	}
	if err := setJSON(b, pebblekv.Key("profile", userID), p); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// Profiles implements storage.Store.
func (s *Store) Profiles(ctx context.Context, userIDs []string) (map[string]storage.Profile, error) {
	out := make(map[string]storage.Profile, len(userIDs))
	for _, id := range userIDs {
		var p storage.Profile
		err := s.getJSON(ctx, pebblekv.Key("profile", id), &p)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = p
	}
	return out, nil
}

// UpdateGroupDetails implements storage.Store.
func (s *Store) UpdateGroupDetails(ctx context.Context, title string, d storage.GroupDetails) error {
	conversationID, at := d.ConversationID, d.UpdatedAt
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
	if err := setJSON(b, pebblekv.Key("groupinfo", conversationID), d); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// GroupDetails implements storage.Store.
func (s *Store) GroupDetails(ctx context.Context, conversationIDs []string) (map[string]storage.GroupDetails, error) {
	out := make(map[string]storage.GroupDetails, len(conversationIDs))
	for _, id := range conversationIDs {
		var d storage.GroupDetails
		err := s.getJSON(ctx, pebblekv.Key("groupinfo", id), &d)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = d
	}
	return out, nil
}

// TransferOwnership implements storage.Store: under the conversation's
// lock, so racing transfers run one after the other.
func (s *Store) TransferOwnership(ctx context.Context, conversationID, from, to string) error {
	defer s.lock(conversationID)()
	owner, err := s.Member(ctx, conversationID, from)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && owner.Role != storage.RoleOwner) {
		return storage.ErrConflict
	}
	if err != nil {
		return err
	}
	heir, err := s.Member(ctx, conversationID, to)
	if err != nil {
		return err
	}
	owner.Role, heir.Role = storage.RoleAdmin, storage.RoleOwner
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("member", conversationID, from), owner); err != nil {
		return err
	}
	if err := setJSON(b, pebblekv.Key("member", conversationID, to), heir); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// SaveDeletion implements storage.Store (key deletion\0<conv>).
func (s *Store) SaveDeletion(ctx context.Context, d storage.Deletion) error {
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("deletion", d.ConversationID), d); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// PendingDeletions implements storage.Store.
func (s *Store) PendingDeletions(ctx context.Context) ([]storage.Deletion, error) {
	var out []storage.Deletion
	p := pebblekv.Prefix("deletion")
	err := s.scan(ctx, p, pebblekv.Upper(p), false, func(_, v []byte) (bool, error) {
		var d storage.Deletion
		if err := json.Unmarshal(v, &d); err != nil {
			return false, err
		}
		out = append(out, d)
		return true, nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].RequestedAt.Before(out[j].RequestedAt) })
	return out, err
}

// DeletionDone implements storage.Store.
func (s *Store) DeletionDone(ctx context.Context, conversationID string) error {
	return s.db.Delete(pebblekv.Key("deletion", conversationID), s.wo)
}

// ChangeUsername implements storage.Store. The old name's claim stays,
// with a hold (usernamehold\0<key> -> user id and until) that lets others
// take it once it has passed (see takenBy).
func (s *Store) ChangeUsername(ctx context.Context, userID, name, key string, at, reserveUntil time.Time) error {
	s.users.Lock()
	defer s.users.Unlock()
	var u storage.User
	if err := s.getJSON(ctx, pebblekv.Key("user", userID), &u); err != nil {
		return err
	}
	if owner, err := s.takenBy(ctx, key, at); err != nil {
		return err
	} else if owner != "" && owner != userID {
		return storage.ErrConflict
	}
	var p storage.Profile
	if err := s.getJSON(ctx, pebblekv.Key("profile", userID), &p); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	p.UserID, p.UsernameChangedAt = userID, at
	old := u.UsernameKey
	u.Username, u.UsernameKey = name, key
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("user", userID), u); err != nil {
		return err
	}
	if err := setJSON(b, pebblekv.Key("profile", userID), p); err != nil {
		return err
	}
	if err := b.Set(pebblekv.Key("username", key), []byte(userID), nil); err != nil {
		return err
	}
	if err := b.Delete(pebblekv.Key("usernamehold", key), nil); err != nil {
		return err
	}
	if old != key {
		if err := setJSON(b, pebblekv.Key("usernamehold", old), usernameHold{UserID: userID, Until: reserveUntil}); err != nil {
			return err
		}
	}
	return b.Commit(s.wo)
}

// usernameHold keeps a changed-away username for its former owner.
type usernameHold struct {
	UserID string
	Until  time.Time
}

// takenBy is who holds username key at t: its owner, or a former owner
// whose hold has not passed; "" when it is free.
func (s *Store) takenBy(ctx context.Context, key string, t time.Time) (string, error) {
	v, closer, err := s.db.Get(pebblekv.Key("username", key))
	if err != nil {
		return "", nil
	}
	id := string(v)
	_ = closer.Close()
	var h usernameHold
	err = s.getJSON(ctx, pebblekv.Key("usernamehold", key), &h)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return id, nil
	case err != nil:
		return "", err
	case t.Before(h.Until):
		return h.UserID, nil
	}
	return "", nil
}
