package cassandra

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/media"
)

// thumbJobShards spreads queued thumbnail jobs over this many partitions.
// Fixed: changing it would strand queued jobs.
const thumbJobShards = 8

func thumbShard(uploadID string) int { return int(fnv32(uploadID) % thumbJobShards) }

// QueueThumbnails implements media.Store.
func (s *Store) QueueThumbnails(ctx context.Context, uploadID string, at time.Time) error {
	err := s.query(ctx, "INSERT INTO media_thumbnail_jobs (shard, upload_id, queued_at) VALUES (?, ?, ?)",
		thumbShard(uploadID), uploadID, cql.Timestamp(at)).Exec()
	return wrap(err, "queue thumbnails %s", uploadID)
}

// QueuedThumbnails implements media.Store: every shard is read (in
// parallel), and jobs queued at or after before are skipped.
func (s *Store) QueuedThumbnails(ctx context.Context, before time.Time, limit int) ([]string, error) {
	var out []string
	var mu sync.Mutex
	err := cql.Parallel(ctx, thumbJobShards, func(ctx context.Context, shard int) error {
		iter := s.query(ctx, "SELECT upload_id, queued_at FROM media_thumbnail_jobs WHERE shard = ?", shard).Iter()
		var id string
		var at time.Time
		for iter.Scan(&id, &at) {
			if !at.Before(before) {
				continue
			}
			mu.Lock()
			if len(out) < limit {
				out = append(out, id)
			}
			mu.Unlock()
		}
		return wrap(iter.Close(), "list thumbnail jobs")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PutThumbnails implements media.Store: the result first, then the job is
// removed (a crash in between leaves a job whose rerun writes the same).
func (s *Store) PutThumbnails(ctx context.Context, set media.ThumbnailSet) error {
	images, err := json.Marshal(set.Images)
	if err != nil {
		return err
	}
	err = s.query(ctx, "INSERT INTO media_thumbnails (upload_id, images, blurhash, failed, made_at) VALUES (?, ?, ?, ?, ?)",
		set.UploadID, string(images), set.Blurhash, set.Failed, cql.Timestamp(set.MadeAt)).Exec()
	if err != nil {
		return wrap(err, "put thumbnails %s", set.UploadID)
	}
	return s.DropThumbnailJob(ctx, set.UploadID)
}

// DropThumbnailJob implements media.Store.
func (s *Store) DropThumbnailJob(ctx context.Context, uploadID string) error {
	err := s.query(ctx, "DELETE FROM media_thumbnail_jobs WHERE shard = ? AND upload_id = ?", thumbShard(uploadID), uploadID).Exec()
	return wrap(err, "drop thumbnail job %s", uploadID)
}

// ThumbnailStates implements media.Store: one read per id, and a second
// one (the job) for ids without a result.
func (s *Store) ThumbnailStates(ctx context.Context, ids []string) (map[string]media.ThumbnailSet, error) {
	out := make(map[string]media.ThumbnailSet, len(ids))
	var mu sync.Mutex
	err := cql.Parallel(ctx, len(ids), func(ctx context.Context, i int) error {
		id := ids[i]
		set := media.ThumbnailSet{UploadID: id}
		var images string
		err := s.query(ctx, "SELECT images, blurhash, failed, made_at FROM media_thumbnails WHERE upload_id = ?", id).
			Scan(&images, &set.Blurhash, &set.Failed, &set.MadeAt)
		switch {
		case err == nil:
			set.MadeAt = cql.Timestamp(set.MadeAt)
			if images != "" {
				if err := json.Unmarshal([]byte(images), &set.Images); err != nil {
					return err
				}
			}
		case errors.Is(err, gocql.ErrNotFound):
			var one string
			err := s.query(ctx, "SELECT upload_id FROM media_thumbnail_jobs WHERE shard = ? AND upload_id = ?", thumbShard(id), id).Scan(&one)
			if errors.Is(err, gocql.ErrNotFound) {
				return nil
			}
			if err != nil {
				return wrap(err, "read thumbnail job %s", id)
			}
		default:
			return wrap(err, "read thumbnails %s", id)
		}
		mu.Lock()
		out[id] = set
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteThumbnails implements media.Store.
func (s *Store) DeleteThumbnails(ctx context.Context, uploadID string) error {
	err := s.exec(ctx, []stmt{
		{"DELETE FROM media_thumbnails WHERE upload_id = ?", []any{uploadID}},
		{"DELETE FROM media_thumbnail_jobs WHERE shard = ? AND upload_id = ?", []any{thumbShard(uploadID), uploadID}},
	})
	return wrap(err, "delete thumbnails %s", uploadID)
}
