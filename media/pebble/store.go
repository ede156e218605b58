// Package pebble is the embedded media.Store: the metadata of uploads,
// attachments and stories in a Pebble database of its own (e.g.
// <data>/media), separate from the chat store, no server needed.
package pebble

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"messenger/media"
	"messenger/pebblekv"
)

var _ media.Store = (*Store)(nil)

// Store is the embedded media.Store: its own Pebble database (e.g.
// <data>/media), separate from the chat store. One process owns it, so
// claims are serialised by a mutex.
type Store struct {
	db *pebble.DB
	mu sync.Mutex // claims, views, reactions: read-check-write
}

// Config configures the embedded store.
type Config struct {
	// Dir is the database directory; it is created if missing. Required.
	Dir string
}

// Open opens (or creates) the store in cfg.Dir.
func Open(cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("media: pebble: Config.Dir is required")
	}
	db, err := pebble.Open(cfg.Dir, &pebble.Options{Logger: pebblekv.QuietLogger{}})
	if err != nil {
		return nil, fmt.Errorf("media: open %s: %w", cfg.Dir, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// ts is a time as a key part: keys sort in time order.
func ts(t time.Time) string { return pebblekv.Hex(t.UnixNano()) }

func (s *Store) get(ctx context.Context, key []byte, v any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, c, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return media.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("media: get: %w", err)
	}
	defer c.Close()
	if v == nil {
		return nil
	}
	return json.Unmarshal(b, v)
}

func set(b *pebble.Batch, key []byte, v any) {
	data := []byte{}
	if v != nil {
		data, _ = json.Marshal(v)
	}
	_ = b.Set(key, data, nil)
}

// scan calls fn for each key and value under p, in key order, after the
// key after (nil = from the start of p), until fn returns false.
func (s *Store) scan(ctx context.Context, p []byte, after []byte, fn func(k, v []byte) bool) error {
	lower := p
	if after != nil {
		lower = append(append([]byte(nil), after...), 0)
	}
	return pebblekv.Scan(ctx, s.db, lower, pebblekv.Upper(p), false, func(k, v []byte) (bool, error) {
		return fn(k, v), nil
	})
}

func (s *Store) commit(b *pebble.Batch) error {
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("media: commit: %w", err)
	}
	return nil
}

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
	out := make(map[string]media.Upload, len(ids))
	for _, id := range ids {
		var u media.Upload
		err := s.get(ctx, pebblekv.Key("u", id), &u)
		if errors.Is(err, media.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = u
	}
	return out, nil
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
	out := make(map[string][]string, len(messageIDs))
	for _, m := range messageIDs {
		var ids []string
		err := s.get(ctx, pebblekv.Key("ma", m), &ids)
		if errors.Is(err, media.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[m] = ids
	}
	return out, nil
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

// AddView implements media.Store.
func (s *Store) AddView(ctx context.Context, storyID, userID string, at time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.get(ctx, pebblekv.Key("v", storyID, userID), nil); err == nil {
		return false, nil
	} else if !errors.Is(err, media.ErrNotFound) {
		return false, err
	}
	b := s.db.NewBatch()
	set(b, pebblekv.Key("v", storyID, userID), at)
	set(b, pebblekv.Key("vt", storyID, ts(at), userID), nil)
	return true, s.commit(b)
}

// Seen implements media.Store.
func (s *Store) Seen(ctx context.Context, viewerID string, storyIDs []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, id := range storyIDs {
		err := s.get(ctx, pebblekv.Key("v", id, viewerID), nil)
		if err != nil && !errors.Is(err, media.ErrNotFound) {
			return nil, err
		}
		out[id] = err == nil
	}
	return out, nil
}

// Views implements media.Store. The cursor is the view's time and user.
func (s *Store) Views(ctx context.Context, storyID, after string, limit int) ([]media.View, error) {
	var afterKey []byte
	if after != "" {
		at, user, ok := strings.Cut(after, "\x00")
		if _, err := strconv.ParseUint(at, 16, 64); !ok || err != nil || len(at) != 16 || user == "" {
			return nil, media.ErrBadCursor
		}
		afterKey = append(pebblekv.Prefix("vt", storyID), after...)
	}
	var out []media.View
	err := s.scan(ctx, pebblekv.Prefix("vt", storyID), afterKey, func(key, _ []byte) bool {
		parts := bytes.Split(key, []byte{0})
		var n int64
		_, _ = fmt.Sscanf(string(parts[2]), "%x", &n)
		out = append(out, media.View{UserID: string(parts[3]), At: time.Unix(0, n).UTC(), Cursor: string(parts[2]) + "\x00" + string(parts[3])})
		return len(out) < limit
	})
	return out, err
}

// CountViews implements media.Store.
func (s *Store) CountViews(ctx context.Context, storyID string) (int, error) {
	n := 0
	err := s.scan(ctx, pebblekv.Prefix("v", storyID), nil, func(_, _ []byte) bool { n++; return true })
	return n, err
}

// AddStoryReaction implements media.Store.
func (s *Store) AddStoryReaction(ctx context.Context, storyID, userID, emoji string, at time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := pebblekv.Key("r", storyID, userID, emoji)
	if err := s.get(ctx, key, nil); err == nil {
		return false, nil
	} else if !errors.Is(err, media.ErrNotFound) {
		return false, err
	}
	b := s.db.NewBatch()
	set(b, key, at)
	return true, s.commit(b)
}

// StoryReactions implements media.Store.
func (s *Store) StoryReactions(ctx context.Context, storyID, userID string) ([]media.ReactionCount, error) {
	byEmoji := map[string]*media.ReactionCount{}
	err := s.scan(ctx, pebblekv.Prefix("r", storyID), nil, func(key, v []byte) bool {
		parts := bytes.SplitN(key, []byte{0}, 4)
		var at time.Time
		_ = json.Unmarshal(v, &at)
		e := string(parts[3])
		rc := byEmoji[e]
		if rc == nil {
			rc = &media.ReactionCount{Emoji: e, FirstAt: at}
			byEmoji[e] = rc
		}
		rc.Count++
		rc.Mine = rc.Mine || string(parts[2]) == userID
		if at.Before(rc.FirstAt) {
			rc.FirstAt = at
		}
		return true
	})
	out := make([]media.ReactionCount, 0, len(byEmoji))
	for _, rc := range byEmoji {
		out = append(out, *rc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FirstAt.Before(out[j].FirstAt) })
	return out, err
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
