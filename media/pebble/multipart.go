package pebble

import (
	"bytes"
	"context"
	"errors"
	"time"

	"messenger/media"
	"messenger/pebblekv"
)

// Multipart uploads in progress (media.Multiparts):
//
//	mp\0<upload>                     -> MultipartUpload (JSON)
//	mpc\0<created>\0<upload>         -> "" (the sweeper's index)

// PutMultipart implements media.Store.
func (s *Store) PutMultipart(ctx context.Context, m media.MultipartUpload) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.db.NewBatch()
	var old media.MultipartUpload
	if err := s.get(ctx, pebblekv.Key("mp", m.ID), &old); err == nil {
		_ = b.Delete(pebblekv.Key("mpc", ts(old.CreatedAt), m.ID), nil)
	} else if !errors.Is(err, media.ErrNotFound) {
		return err
	}
	set(b, pebblekv.Key("mp", m.ID), m)
	set(b, pebblekv.Key("mpc", ts(m.CreatedAt), m.ID), nil)
	return s.commit(b)
}

// Multipart implements media.Store.
func (s *Store) Multipart(ctx context.Context, id string) (media.MultipartUpload, error) {
	var m media.MultipartUpload
	err := s.get(ctx, pebblekv.Key("mp", id), &m)
	return m, err
}

// DeleteMultipart implements media.Store.
func (s *Store) DeleteMultipart(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m media.MultipartUpload
	if err := s.get(ctx, pebblekv.Key("mp", id), &m); errors.Is(err, media.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	b := s.db.NewBatch()
	_ = b.Delete(pebblekv.Key("mp", id), nil)
	_ = b.Delete(pebblekv.Key("mpc", ts(m.CreatedAt), id), nil)
	return s.commit(b)
}

// StaleMultiparts implements media.Store: the index is in creation order.
func (s *Store) StaleMultiparts(ctx context.Context, before time.Time, limit int) ([]media.MultipartUpload, error) {
	var ids []string
	err := s.scan(ctx, pebblekv.Prefix("mpc"), nil, func(key, _ []byte) bool {
		parts := bytes.Split(key, []byte{0})
		if string(parts[1]) >= ts(before) || len(ids) >= limit {
			return false
		}
		ids = append(ids, string(parts[2]))
		return true
	})
	if err != nil {
		return nil, err
	}
	ms, err := getEach[media.MultipartUpload](ctx, s, "mp", ids)
	if err != nil {
		return nil, err
	}
	out := []media.MultipartUpload{}
	for _, id := range ids {
		if m, ok := ms[id]; ok {
			out = append(out, m)
		}
	}
	return out, nil
}
