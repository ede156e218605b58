package pebble

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"messenger/media"
	"messenger/pebblekv"
)

// PutStory implements media.Store.
func (s *Store) PutStory(ctx context.Context, st media.Story, audience []string) error {
	b := s.db.NewBatch()
	set(b, pebblekv.Key("s", st.ID), st)
	set(b, pebblekv.Key("se", ts(st.ExpiresAt), st.ID), st)
	for _, u := range audience {
		set(b, pebblekv.Key("f", u, st.ID), nil)
		set(b, pebblekv.Key("fa", st.ID, u), nil)
	}
	return s.commit(b)
}

// media.Story implements media.Store.
func (s *Store) Story(ctx context.Context, id string) (media.Story, error) {
	var st media.Story
	return st, s.get(ctx, pebblekv.Key("s", id), &st)
}

func (s *Store) deleteStory(ctx context.Context, b *pebble.Batch, id string) error {
	_ = b.Delete(pebblekv.Key("s", id), nil)
	_ = b.DeleteRange(pebblekv.Prefix("v", id), pebblekv.Upper(pebblekv.Prefix("v", id)), nil)
	_ = b.DeleteRange(pebblekv.Prefix("vt", id), pebblekv.Upper(pebblekv.Prefix("vt", id)), nil)
	_ = b.DeleteRange(pebblekv.Prefix("r", id), pebblekv.Upper(pebblekv.Prefix("r", id)), nil)
	return s.scan(ctx, pebblekv.Prefix("fa", id), nil, func(key, _ []byte) bool {
		parts := bytes.Split(key, []byte{0})
		_ = b.Delete(pebblekv.Key("f", string(parts[2]), id), nil)
		_ = b.Delete(key, nil)
		return true
	})
}

// DeleteStory implements media.Store.
func (s *Store) DeleteStory(ctx context.Context, id string) error {
	b := s.db.NewBatch()
	if err := s.deleteStory(ctx, b, id); err != nil {
		return err
	}
	return s.commit(b)
}

// ReservePost implements media.Store. The posting log ("sp") keeps one entry per
// post; entries older than the window are pruned here, so a reservation
// whose story was never stored does not linger.
func (s *Store) ReservePost(ctx context.Context, authorID, storyID string, at time.Time, window time.Duration, limit int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	since := at.Add(-window)
	times, err := s.postTimes(ctx, authorID, since)
	if err != nil {
		return err
	}
	if len(times) >= limit {
		return &media.QuotaError{RetryAt: times[len(times)-limit].Add(window)}
	}
	b := s.db.NewBatch()
	_ = b.DeleteRange(pebblekv.Prefix("sp", authorID), pebblekv.Key("sp", authorID, ts(since)), nil)
	set(b, pebblekv.Key("sp", authorID, ts(at), storyID), nil)
	return s.commit(b)
}

// ReleasePost implements media.Store.
func (s *Store) ReleasePost(ctx context.Context, authorID, storyID string, at time.Time) error {
	b := s.db.NewBatch()
	_ = b.Delete(pebblekv.Key("sp", authorID, ts(at), storyID), nil)
	return s.commit(b)
}

// PostedSince implements media.Store.
func (s *Store) PostedSince(ctx context.Context, authorID string, since time.Time) ([]string, error) {
	var out []string
	err := s.scan(ctx, pebblekv.Prefix("sp", authorID), pebblekv.Key("sp", authorID, ts(since)), func(key, _ []byte) bool {
		parts := bytes.Split(key, []byte{0})
		var n int64
		_, _ = fmt.Sscanf(string(parts[2]), "%x", &n)
		if time.Unix(0, n).After(since) && len(parts) > 3 {
			out = append(out, string(parts[3]))
		}
		return true
	})
	return out, err
}

// postTimes lists when the author posted after since, oldest first.
func (s *Store) postTimes(ctx context.Context, authorID string, since time.Time) ([]time.Time, error) {
	var out []time.Time
	err := s.scan(ctx, pebblekv.Prefix("sp", authorID), pebblekv.Key("sp", authorID, ts(since)), func(key, _ []byte) bool {
		var n int64
		_, _ = fmt.Sscanf(string(bytes.Split(key, []byte{0})[2]), "%x", &n)
		if t := time.Unix(0, n).UTC(); t.After(since) {
			out = append(out, t)
		}
		return true
	})
	return out, err
}

// Feed implements media.Store.
func (s *Store) Feed(ctx context.Context, viewerID string) ([]media.Story, error) {
	var ids []string
	err := s.scan(ctx, pebblekv.Prefix("f", viewerID), nil, func(key, _ []byte) bool {
		ids = append(ids, string(bytes.Split(key, []byte{0})[2]))
		return true
	})
	if err != nil {
		return nil, err
	}
	out := make([]media.Story, 0, len(ids))
	for _, id := range ids {
		st, err := s.Story(ctx, id)
		if errors.Is(err, media.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// InAudience implements media.Store.
func (s *Store) InAudience(ctx context.Context, storyID, userID string) (bool, error) {
	err := s.get(ctx, pebblekv.Key("f", userID, storyID), nil)
	if errors.Is(err, media.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ExpiredStories implements media.Store.
func (s *Store) ExpiredStories(ctx context.Context, before time.Time, limit int) ([]media.Story, error) {
	var out []media.Story
	err := s.scan(ctx, pebblekv.Prefix("se"), nil, func(key, v []byte) bool {
		if string(bytes.Split(key, []byte{0})[1]) >= ts(before) {
			return false
		}
		var st media.Story
		if json.Unmarshal(v, &st) == nil {
			out = append(out, st)
		}
		return len(out) < limit
	})
	return out, err
}

// SweepStory implements media.Store.
func (s *Store) SweepStory(ctx context.Context, st media.Story) error {
	b := s.db.NewBatch()
	if err := s.deleteStory(ctx, b, st.ID); err != nil {
		return err
	}
	_ = b.Delete(pebblekv.Key("se", ts(st.ExpiresAt), st.ID), nil)
	_ = b.Delete(pebblekv.Key("sp", st.AuthorID, ts(st.PostedAt), st.ID), nil)
	return s.commit(b)
}
