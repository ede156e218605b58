package pebble

import (
	"bytes"
	"context"
	"errors"
	"time"

	"messenger/media"
	"messenger/pebblekv"
)

// PutUpload implements media.Store. Claim and MessageID are kept as they are:
// only Claim and Attach change them.
func (s *Store) PutUpload(ctx context.Context, u media.Upload) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var old media.Upload
	switch err := s.get(ctx, pebblekv.Key("u", u.ID), &old); {
	case err == nil:
		u.Claim, u.MessageID = old.Claim, old.MessageID
	case errors.Is(err, media.ErrNotFound):
		u.Claim, u.MessageID = "", ""
	default:
		return err
	}
	b := s.db.NewBatch()
	set(b, pebblekv.Key("u", u.ID), u)
	set(b, pebblekv.Key("uc", ts(u.CreatedAt), u.ID), nil)
	return s.commit(b)
}

// Uploads implements media.Store.
func (s *Store) Uploads(ctx context.Context, ids []string) (map[string]media.Upload, error) {
	return getEach[media.Upload](ctx, s, "u", ids)
}

// DeleteUpload implements media.Store.
func (s *Store) DeleteUpload(ctx context.Context, id string) error {
	var u media.Upload
	if err := s.get(ctx, pebblekv.Key("u", id), &u); errors.Is(err, media.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	b := s.db.NewBatch()
	_ = b.Delete(pebblekv.Key("u", id), nil)
	_ = b.Delete(pebblekv.Key("uc", ts(u.CreatedAt), id), nil)
	_ = b.Delete(pebblekv.Key("w", id), nil)
	return s.commit(b)
}

// Claim implements media.Store.
func (s *Store) Claim(ctx context.Context, ids []string, claim string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	us, err := s.Uploads(ctx, ids)
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	for _, id := range ids {
		u, ok := us[id]
		switch {
		case !ok:
			return media.ErrNotFound
		case u.Claim != "" && u.Claim != claim:
			return media.ErrClaimed
		}
		u.Claim = claim
		set(b, pebblekv.Key("u", id), u)
	}
	return s.commit(b)
}

// Attach implements media.Store.
func (s *Store) Attach(ctx context.Context, messageID string, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	us, err := s.Uploads(ctx, ids)
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	set(b, pebblekv.Key("ma", messageID), ids)
	for _, u := range us {
		u.MessageID = messageID
		set(b, pebblekv.Key("u", u.ID), u)
	}
	return s.commit(b)
}

// Attachments implements media.Store.
func (s *Store) Attachments(ctx context.Context, messageIDs []string) (map[string][]string, error) {
	return getEach[[]string](ctx, s, "ma", messageIDs)
}

// StaleUploads implements media.Store.
func (s *Store) StaleUploads(ctx context.Context, before time.Time, limit int) ([]media.Upload, error) {
	var ids []string
	err := s.scan(ctx, pebblekv.Prefix("uc"), nil, func(key, _ []byte) bool {
		parts := bytes.Split(key, []byte{0})
		if string(parts[1]) >= ts(before) {
			return false
		}
		ids = append(ids, string(parts[2]))
		return true
	})
	if err != nil {
		return nil, err
	}
	us, err := s.Uploads(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []media.Upload
	for _, id := range ids {
		if u, ok := us[id]; ok && u.Claim == "" && len(out) < limit {
			out = append(out, u)
		}
	}
	return out, nil
}
