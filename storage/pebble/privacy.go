package pebble

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"messenger/pebblekv"

	"messenger/storage"
)

// Keys: blk\0<blocker>\0<blocked> -> unix ms; blkby\0<blocked>\0<blocker>
// -> "" (who blocks a user); privacy\0<user> -> PrivacySettings JSON;
// report\0<created hex ms>\0<id> -> Report JSON; reportid\0<id> -> "" (a
// report added twice is stored once); rptby\0<reporter>\0<created hex
// ms>\0<id> -> "" (rate limits). Block writes hold the blocker's lock.

// Block implements storage.Store.
func (s *Store) Block(ctx context.Context, bl storage.Block) (bool, error) {
	defer s.lock("blk:" + bl.BlockerID)()
	k := pebblekv.Key("blk", bl.BlockerID, bl.BlockedID)
	present, err := s.exists(k)
	if err != nil || present {
		return false, err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := b.Set(k, []byte(strconv.FormatInt(bl.At.UnixMilli(), 10)), nil); err != nil {
		return false, err
	}
	if err := b.Set(pebblekv.Key("blkby", bl.BlockedID, bl.BlockerID), nil, nil); err != nil {
		return false, err
	}
	return true, b.Commit(s.wo)
}

// Unblock implements storage.Store.
func (s *Store) Unblock(ctx context.Context, blockerID, blockedID string) (bool, error) {
	defer s.lock("blk:" + blockerID)()
	k := pebblekv.Key("blk", blockerID, blockedID)
	present, err := s.exists(k)
	if err != nil || !present {
		return false, err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := b.Delete(k, nil); err != nil {
		return false, err
	}
	if err := b.Delete(pebblekv.Key("blkby", blockedID, blockerID), nil); err != nil {
		return false, err
	}
	return true, b.Commit(s.wo)
}

// IsBlocking implements storage.Store.
func (s *Store) IsBlocking(ctx context.Context, blockerID, blockedID string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return s.exists(pebblekv.Key("blk", blockerID, blockedID))
}

// BlockedUsers implements storage.Store.
func (s *Store) BlockedUsers(ctx context.Context, blockerID, afterUserID string, limit int) ([]storage.Block, error) {
	p := pebblekv.Prefix("blk", blockerID)
	lower := p
	if afterUserID != "" {
		lower = append(pebblekv.Key("blk", blockerID, afterUserID), 0)
	}
	var out []storage.Block
	err := s.scan(ctx, lower, pebblekv.Upper(p), false, func(k, v []byte) (bool, error) {
		ms, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return false, err
		}
		out = append(out, storage.Block{BlockerID: blockerID, BlockedID: pebblekv.Last(k), At: time.UnixMilli(ms).UTC()})
		return limit <= 0 || len(out) < limit, nil
	})
	return out, err
}

// Blockers implements storage.Store.
func (s *Store) Blockers(ctx context.Context, userID string) ([]string, error) {
	p := pebblekv.Prefix("blkby", userID)
	var out []string
	err := s.scan(ctx, p, pebblekv.Upper(p), false, func(k, _ []byte) (bool, error) {
		out = append(out, pebblekv.Last(k))
		return true, nil
	})
	return out, err
}

// PrivacySettings implements storage.Store.
func (s *Store) PrivacySettings(ctx context.Context, userIDs []string) (map[string]storage.PrivacySettings, error) {
	out := make(map[string]storage.PrivacySettings, len(userIDs))
	for _, id := range userIDs {
		var p storage.PrivacySettings
		err := s.getJSON(ctx, pebblekv.Key("privacy", id), &p)
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

// SetPrivacySettings implements storage.Store.
func (s *Store) SetPrivacySettings(ctx context.Context, userID string, p storage.PrivacySettings) error {
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("privacy", userID), p); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// ForgetPrivacy implements storage.Store.
func (s *Store) ForgetPrivacy(ctx context.Context, userID string) error {
	blocked, err := s.BlockedUsers(ctx, userID, "", 0)
	if err != nil {
		return err
	}
	for _, bl := range blocked {
		if _, err := s.Unblock(ctx, userID, bl.BlockedID); err != nil {
			return err
		}
	}
	blockers, err := s.Blockers(ctx, userID)
	if err != nil {
		return err
	}
	for _, by := range blockers {
		if _, err := s.Unblock(ctx, by, userID); err != nil {
			return err
		}
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := b.Delete(pebblekv.Key("privacy", userID), nil); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// AddReport implements storage.Store.
func (s *Store) AddReport(ctx context.Context, r storage.Report) error {
	defer s.lock("report:" + r.ID)()
	idk := pebblekv.Key("reportid", r.ID)
	present, err := s.exists(idk)
	if err != nil || present {
		return err
	}
	at := pebblekv.Hex(r.CreatedAt.UnixMilli())
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("report", at, r.ID), r); err != nil {
		return err
	}
	if err := b.Set(idk, nil, nil); err != nil {
		return err
	}
	if err := b.Set(pebblekv.Key("rptby", r.ReporterID, at, r.ID), nil, nil); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// CountReportsBy implements storage.Store.
func (s *Store) CountReportsBy(ctx context.Context, reporterID string, since time.Time) (int, error) {
	p := pebblekv.Prefix("rptby", reporterID)
	n := 0
	err := s.scan(ctx, pebblekv.Prefix("rptby", reporterID, pebblekv.Hex(since.UnixMilli())), pebblekv.Upper(p), false, func(_, _ []byte) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}

// Reports implements storage.Store.
func (s *Store) Reports(ctx context.Context, afterAt time.Time, afterID string, limit int) ([]storage.Report, error) {
	if limit <= 0 {
		return nil, nil
	}
	p := pebblekv.Prefix("report")
	lower := p
	if !afterAt.IsZero() {
		lower = append(pebblekv.Key("report", pebblekv.Hex(afterAt.UnixMilli()), afterID), 0)
	}
	var out []storage.Report
	err := s.scan(ctx, lower, pebblekv.Upper(p), false, func(_, v []byte) (bool, error) {
		var r storage.Report
		if err := json.Unmarshal(v, &r); err != nil {
			return false, err
		}
		out = append(out, r)
		return len(out) < limit, nil
	})
	return out, err
}
