package pebble

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"messenger/media"
	"messenger/pebblekv"
)

// Thumbnail keys:
//
//	tj\0<upload> -> queued time (JSON): a thumbnail job
//	th\0<upload> -> ThumbnailSet (JSON): its result

// QueueThumbnails implements media.Store.
func (s *Store) QueueThumbnails(ctx context.Context, uploadID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	set(b, pebblekv.Key("tj", uploadID), at.UTC())
	return s.commit(b)
}

// QueuedThumbnails implements media.Store. It reads every queued job: the
// queue holds only jobs not done yet, a handful in a running process.
func (s *Store) QueuedThumbnails(ctx context.Context, before time.Time, limit int) ([]string, error) {
	var out []string
	p := pebblekv.Prefix("tj")
	err := s.scan(ctx, p, nil, func(k, v []byte) bool {
		var at time.Time
		if json.Unmarshal(v, &at) == nil && at.Before(before) {
			out = append(out, string(k[len(p):]))
		}
		return len(out) < limit
	})
	return out, err
}

// PutThumbnails implements media.Store: result and job removal in one batch.
func (s *Store) PutThumbnails(ctx context.Context, res media.ThumbnailSet) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	set(b, pebblekv.Key("th", res.UploadID), res)
	_ = b.Delete(pebblekv.Key("tj", res.UploadID), nil)
	return s.commit(b)
}

// DropThumbnailJob implements media.Store.
func (s *Store) DropThumbnailJob(ctx context.Context, uploadID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	_ = b.Delete(pebblekv.Key("tj", uploadID), nil)
	return s.commit(b)
}

// ThumbnailStates implements media.Store.
func (s *Store) ThumbnailStates(ctx context.Context, ids []string) (map[string]media.ThumbnailSet, error) {
	out, err := getEach[media.ThumbnailSet](ctx, s, "th", ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, ok := out[id]; ok {
			continue
		}
		switch err := s.get(ctx, pebblekv.Key("tj", id), nil); {
		case err == nil:
			out[id] = media.ThumbnailSet{UploadID: id}
		case !errors.Is(err, media.ErrNotFound):
			return nil, err
		}
	}
	return out, nil
}

// DeleteThumbnails implements media.Store.
func (s *Store) DeleteThumbnails(ctx context.Context, uploadID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	_ = b.Delete(pebblekv.Key("th", uploadID), nil)
	_ = b.Delete(pebblekv.Key("tj", uploadID), nil)
	return s.commit(b)
}
