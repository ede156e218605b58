package pebble

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"messenger/pebblekv"
	"messenger/storage"
)

// Keys: invite\0<hash> -> InviteLink JSON; convinvite\0<conv>\0<hash> -> "";
// joinreq\0<conv>\0<user> -> JoinRequest JSON; ban\0<conv>\0<user> -> Ban
// JSON; modset\0<conv> -> ModerationSettings JSON; slow\0<conv>\0<user> ->
// last turn (unix ms); moddel\0<conv>\0<seq> -> user id; modlog\0<conv>\0<id>
// -> ModerationEntry JSON. Read-modify-writes hold the stripe lock of the
// record's key, so concurrent callers of this process are serialised.

// CreateInviteLink implements storage.Moderation.
func (s *Store) CreateInviteLink(ctx context.Context, l storage.InviteLink) error {
	k := pebblekv.Key("invite", l.CodeHash)
	defer s.lock(string(k))()
	if ok, err := s.exists(k); err != nil || ok {
		if ok {
			return storage.ErrConflict
		}
		return err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, k, l); err != nil {
		return err
	}
	if err := b.Set(pebblekv.Key("convinvite", l.ConversationID, l.CodeHash), nil, nil); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// InviteLink implements storage.Moderation.
func (s *Store) InviteLink(ctx context.Context, codeHash string) (storage.InviteLink, error) {
	var l storage.InviteLink
	err := s.getJSON(ctx, pebblekv.Key("invite", codeHash), &l)
	return l, err
}

// InviteLinks implements storage.Moderation.
func (s *Store) InviteLinks(ctx context.Context, conversationID string) ([]storage.InviteLink, error) {
	p := pebblekv.Prefix("convinvite", conversationID)
	var hashes []string
	err := s.scan(ctx, p, pebblekv.Upper(p), false, func(k, _ []byte) (bool, error) {
		hashes = append(hashes, string(k[len(p):]))
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]storage.InviteLink, 0, len(hashes))
	for _, h := range hashes {
		l, err := s.InviteLink(ctx, h)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// updateInvite applies fn to a stored link under its lock; fn's error
// stops the write.
func (s *Store) updateInvite(ctx context.Context, codeHash string, fn func(*storage.InviteLink) error) (storage.InviteLink, error) {
	k := pebblekv.Key("invite", codeHash)
	defer s.lock(string(k))()
	var l storage.InviteLink
	if err := s.getJSON(ctx, k, &l); err != nil {
		return l, err
	}
	if err := fn(&l); err != nil {
		return l, err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, k, l); err != nil {
		return l, err
	}
	return l, b.Commit(s.wo)
}

// RevokeInviteLink implements storage.Moderation.
func (s *Store) RevokeInviteLink(ctx context.Context, codeHash string, at time.Time) error {
	_, err := s.updateInvite(ctx, codeHash, func(l *storage.InviteLink) error {
		if l.RevokedAt.IsZero() {
			l.RevokedAt = at
		}
		return nil
	})
	return err
}

// UseInviteLink implements storage.Moderation.
func (s *Store) UseInviteLink(ctx context.Context, codeHash string, at time.Time) (storage.InviteLink, error) {
	return s.updateInvite(ctx, codeHash, func(l *storage.InviteLink) error {
		if !storage.InviteUsable(*l, at) {
			return storage.ErrConflict
		}
		l.Uses++
		return nil
	})
}

// PutJoinRequest implements storage.Moderation.
func (s *Store) PutJoinRequest(ctx context.Context, r storage.JoinRequest) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.db.Set(pebblekv.Key("joinreq", r.ConversationID, r.UserID), data, s.wo)
}

// JoinRequests implements storage.Moderation.
func (s *Store) JoinRequests(ctx context.Context, conversationID, afterUserID string, limit int) ([]storage.JoinRequest, error) {
	return scanAfter[storage.JoinRequest](ctx, s, "joinreq", conversationID, afterUserID, limit)
}

// TakeJoinRequest implements storage.Moderation.
func (s *Store) TakeJoinRequest(ctx context.Context, conversationID, userID string) (storage.JoinRequest, error) {
	k := pebblekv.Key("joinreq", conversationID, userID)
	defer s.lock(string(k))()
	var r storage.JoinRequest
	if err := s.getJSON(ctx, k, &r); err != nil {
		return r, err
	}
	return r, s.db.Delete(k, s.wo)
}

// PutBan implements storage.Moderation.
func (s *Store) PutBan(ctx context.Context, b storage.Ban) error {
	data, err := json.Marshal(b)
	if err != nil {
		return err
	}
	return s.db.Set(pebblekv.Key("ban", b.ConversationID, b.UserID), data, s.wo)
}

// Ban implements storage.Moderation.
func (s *Store) Ban(ctx context.Context, conversationID, userID string) (storage.Ban, error) {
	var b storage.Ban
	err := s.getJSON(ctx, pebblekv.Key("ban", conversationID, userID), &b)
	return b, err
}

// DeleteBan implements storage.Moderation.
func (s *Store) DeleteBan(ctx context.Context, conversationID, userID string) error {
	k := pebblekv.Key("ban", conversationID, userID)
	defer s.lock(string(k))()
	if ok, err := s.exists(k); err != nil || !ok {
		if err == nil {
			err = storage.ErrNotFound
		}
		return err
	}
	return s.db.Delete(k, s.wo)
}

// Bans implements storage.Moderation.
func (s *Store) Bans(ctx context.Context, conversationID, afterUserID string, limit int) ([]storage.Ban, error) {
	return scanAfter[storage.Ban](ctx, s, "ban", conversationID, afterUserID, limit)
}

// scanAfter decodes the rows under kind\0conv, after afterKey, at most
// limit (<= 0: all).
func scanAfter[T any](ctx context.Context, s *Store, kind, conversationID, afterKey string, limit int) ([]T, error) {
	p := pebblekv.Prefix(kind, conversationID)
	lower := p
	if afterKey != "" {
		lower = append(pebblekv.Key(kind, conversationID, afterKey), 1)
	}
	var out []T
	err := s.scan(ctx, lower, pebblekv.Upper(p), false, func(_, v []byte) (bool, error) {
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return false, err
		}
		out = append(out, x)
		return limit <= 0 || len(out) < limit, nil
	})
	return out, err
}

// ModerationSettings implements storage.Moderation.
func (s *Store) ModerationSettings(ctx context.Context, conversationID string) (storage.ModerationSettings, error) {
	var m storage.ModerationSettings
	err := s.getJSON(ctx, pebblekv.Key("modset", conversationID), &m)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.ModerationSettings{}, nil
	}
	return m, err
}

// UpdateModerationSettings implements storage.Moderation.
func (s *Store) UpdateModerationSettings(ctx context.Context, conversationID string, p storage.ModerationSettingsPatch) error {
	k := pebblekv.Key("modset", conversationID)
	defer s.lock(string(k))()
	m, err := s.ModerationSettings(ctx, conversationID)
	if err != nil {
		return err
	}
	if p.SlowModeSeconds != nil {
		m.SlowModeSeconds = *p.SlowModeSeconds
	}
	if p.AnnouncementOnly != nil {
		m.AnnouncementOnly = *p.AnnouncementOnly
	}
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.db.Set(k, data, s.wo)
}

// TakeSlowModeTurn implements storage.Moderation.
func (s *Store) TakeSlowModeTurn(ctx context.Context, conversationID, userID string, at time.Time, interval time.Duration) (time.Time, error) {
	k := pebblekv.Key("slow", conversationID, userID)
	defer s.lock(string(k))()
	var lastMs int64
	err := s.getJSON(ctx, k, &lastMs)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return time.Time{}, err
	}
	if err == nil {
		if next := time.UnixMilli(lastMs).UTC().Add(interval); at.Before(next) {
			return next, nil
		}
	}
	data, _ := json.Marshal(at.UnixMilli())
	return time.Time{}, s.db.Set(k, data, s.wo)
}

// RecordModeratorDeletion implements storage.Moderation.
func (s *Store) RecordModeratorDeletion(ctx context.Context, conversationID string, seq int64, deletedBy string) error {
	return s.db.Set(pebblekv.Key("moddel", conversationID, seqKey(seq)), []byte(deletedBy), s.wo)
}

// ModeratorDeletions implements storage.Moderation.
func (s *Store) ModeratorDeletions(ctx context.Context, conversationID string, seqs []int64) (map[int64]string, error) {
	out := map[int64]string{}
	for _, seq := range seqs {
		v, closer, err := s.db.Get(pebblekv.Key("moddel", conversationID, seqKey(seq)))
		if errors.Is(err, pebble.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[seq] = string(v)
		_ = closer.Close()
	}
	return out, nil
}

// AppendModerationLog implements storage.Moderation.
func (s *Store) AppendModerationLog(ctx context.Context, e storage.ModerationEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return s.db.Set(pebblekv.Key("modlog", e.ConversationID, e.ID), data, s.wo)
}

// ModerationLog implements storage.Moderation.
func (s *Store) ModerationLog(ctx context.Context, conversationID, beforeID string, limit int) ([]storage.ModerationEntry, error) {
	p := pebblekv.Prefix("modlog", conversationID)
	upper := pebblekv.Upper(p)
	if beforeID != "" {
		upper = pebblekv.Key("modlog", conversationID, beforeID)
	}
	var out []storage.ModerationEntry
	err := s.scan(ctx, p, upper, true, func(_, v []byte) (bool, error) {
		var e storage.ModerationEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return false, err
		}
		out = append(out, e)
		return limit <= 0 || len(out) < limit, nil
	})
	return out, err
}
