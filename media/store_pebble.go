package media

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
)

var _ Store = (*PebbleStore)(nil)

// PebbleStore is the embedded Store: its own Pebble database (e.g.
// <data>/media), separate from the chat store. One process owns it, so
// claims are serialised by a mutex.
type PebbleStore struct {
	db *pebble.DB
	mu sync.Mutex // claims, views, reactions: read-check-write
}

// OpenPebble opens (or creates) the store in dir.
func OpenPebble(dir string) (*PebbleStore, error) {
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		return nil, fmt.Errorf("media: open %s: %w", dir, err)
	}
	return &PebbleStore{db: db}, nil
}

// Close closes the database.
func (s *PebbleStore) Close() error { return s.db.Close() }

func k(parts ...string) []byte   { return []byte(strings.Join(parts, "\x00")) }
func pfx(parts ...string) []byte { return append(k(parts...), 0) }
func ts(t time.Time) string      { return fmt.Sprintf("%016x", t.UnixNano()) }

func end(p []byte) []byte {
	u := append([]byte(nil), p...)
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] < 0xff {
			u[i]++
			return u[:i+1]
		}
	}
	return nil
}

func (s *PebbleStore) get(ctx context.Context, key []byte, v any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, c, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return ErrNotFound
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

func (s *PebbleStore) scan(ctx context.Context, p []byte, after []byte, fn func(k, v []byte) bool) error {
	lower := p
	if after != nil {
		lower = append(append([]byte(nil), after...), 0)
	}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: end(p)})
	if err != nil {
		return fmt.Errorf("media: iterate: %w", err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if !fn(it.Key(), it.Value()) {
			break
		}
	}
	return it.Error()
}

func (s *PebbleStore) commit(b *pebble.Batch) error {
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("media: commit: %w", err)
	}
	return nil
}

// PutUpload implements Store. Claim and MessageID are kept as they are:
// only Claim and Attach change them.
func (s *PebbleStore) PutUpload(ctx context.Context, u Upload) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var old Upload
	switch err := s.get(ctx, k("u", u.ID), &old); {
	case err == nil:
		u.Claim, u.MessageID = old.Claim, old.MessageID
	case errors.Is(err, ErrNotFound):
		u.Claim, u.MessageID = "", ""
	default:
		return err
	}
	b := s.db.NewBatch()
	set(b, k("u", u.ID), u)
	set(b, k("uc", ts(u.CreatedAt), u.ID), nil)
	return s.commit(b)
}

// Uploads implements Store.
func (s *PebbleStore) Uploads(ctx context.Context, ids []string) (map[string]Upload, error) {
	out := make(map[string]Upload, len(ids))
	for _, id := range ids {
		var u Upload
		err := s.get(ctx, k("u", id), &u)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = u
	}
	return out, nil
}

// DeleteUpload implements Store.
func (s *PebbleStore) DeleteUpload(ctx context.Context, id string) error {
	var u Upload
	if err := s.get(ctx, k("u", id), &u); errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	b := s.db.NewBatch()
	_ = b.Delete(k("u", id), nil)
	_ = b.Delete(k("uc", ts(u.CreatedAt), id), nil)
	return s.commit(b)
}

// Claim implements Store.
func (s *PebbleStore) Claim(ctx context.Context, ids []string, claim string) error {
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
			return ErrNotFound
		case u.Claim != "" && u.Claim != claim:
			return ErrClaimed
		}
		u.Claim = claim
		set(b, k("u", id), u)
	}
	return s.commit(b)
}

// Attach implements Store.
func (s *PebbleStore) Attach(ctx context.Context, messageID string, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	us, err := s.Uploads(ctx, ids)
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	set(b, k("ma", messageID), ids)
	for _, u := range us {
		u.MessageID = messageID
		set(b, k("u", u.ID), u)
	}
	return s.commit(b)
}

// Attachments implements Store.
func (s *PebbleStore) Attachments(ctx context.Context, messageIDs []string) (map[string][]string, error) {
	out := make(map[string][]string, len(messageIDs))
	for _, m := range messageIDs {
		var ids []string
		err := s.get(ctx, k("ma", m), &ids)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[m] = ids
	}
	return out, nil
}

// StaleUploads implements Store.
func (s *PebbleStore) StaleUploads(ctx context.Context, before time.Time, limit int) ([]Upload, error) {
	var ids []string
	err := s.scan(ctx, pfx("uc"), nil, func(key, _ []byte) bool {
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
	var out []Upload
	for _, id := range ids {
		if u, ok := us[id]; ok && u.Claim == "" && len(out) < limit {
			out = append(out, u)
		}
	}
	return out, nil
}

// PutStory implements Store.
func (s *PebbleStore) PutStory(ctx context.Context, st Story, audience []string) error {
	b := s.db.NewBatch()
	set(b, k("s", st.ID), st)
	set(b, k("se", ts(st.ExpiresAt), st.ID), st)
	for _, u := range audience {
		set(b, k("f", u, st.ID), nil)
		set(b, k("fa", st.ID, u), nil)
	}
	return s.commit(b)
}

// Story implements Store.
func (s *PebbleStore) Story(ctx context.Context, id string) (Story, error) {
	var st Story
	return st, s.get(ctx, k("s", id), &st)
}

func (s *PebbleStore) deleteStory(ctx context.Context, b *pebble.Batch, id string) error {
	_ = b.Delete(k("s", id), nil)
	_ = b.DeleteRange(pfx("v", id), end(pfx("v", id)), nil)
	_ = b.DeleteRange(pfx("vt", id), end(pfx("vt", id)), nil)
	_ = b.DeleteRange(pfx("r", id), end(pfx("r", id)), nil)
	return s.scan(ctx, pfx("fa", id), nil, func(key, _ []byte) bool {
		parts := bytes.Split(key, []byte{0})
		_ = b.Delete(k("f", string(parts[2]), id), nil)
		_ = b.Delete(key, nil)
		return true
	})
}

// DeleteStory implements Store.
func (s *PebbleStore) DeleteStory(ctx context.Context, id string) error {
	b := s.db.NewBatch()
	if err := s.deleteStory(ctx, b, id); err != nil {
		return err
	}
	return s.commit(b)
}

// ReservePost implements Store. The posting log ("sp") keeps one entry per
// post; entries older than the window are pruned here, so a reservation
// whose story was never stored does not linger.
func (s *PebbleStore) ReservePost(ctx context.Context, authorID, storyID string, at time.Time, window time.Duration, limit int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	since := at.Add(-window)
	times, err := s.postTimes(ctx, authorID, since)
	if err != nil {
		return err
	}
	if len(times) >= limit {
		return &QuotaError{RetryAt: times[len(times)-limit].Add(window)}
	}
	b := s.db.NewBatch()
	_ = b.DeleteRange(pfx("sp", authorID), k("sp", authorID, ts(since)), nil)
	set(b, k("sp", authorID, ts(at), storyID), nil)
	return s.commit(b)
}

// ReleasePost implements Store.
func (s *PebbleStore) ReleasePost(ctx context.Context, authorID, storyID string, at time.Time) error {
	b := s.db.NewBatch()
	_ = b.Delete(k("sp", authorID, ts(at), storyID), nil)
	return s.commit(b)
}

// postTimes lists when the author posted after since, oldest first.
func (s *PebbleStore) postTimes(ctx context.Context, authorID string, since time.Time) ([]time.Time, error) {
	var out []time.Time
	err := s.scan(ctx, pfx("sp", authorID), k("sp", authorID, ts(since)), func(key, _ []byte) bool {
		var n int64
		_, _ = fmt.Sscanf(string(bytes.Split(key, []byte{0})[2]), "%x", &n)
		if t := time.Unix(0, n).UTC(); t.After(since) {
			out = append(out, t)
		}
		return true
	})
	return out, err
}

// Feed implements Store.
func (s *PebbleStore) Feed(ctx context.Context, viewerID string) ([]Story, error) {
	var ids []string
	err := s.scan(ctx, pfx("f", viewerID), nil, func(key, _ []byte) bool {
		ids = append(ids, string(bytes.Split(key, []byte{0})[2]))
		return true
	})
	if err != nil {
		return nil, err
	}
	out := make([]Story, 0, len(ids))
	for _, id := range ids {
		st, err := s.Story(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// InAudience implements Store.
func (s *PebbleStore) InAudience(ctx context.Context, storyID, userID string) (bool, error) {
	err := s.get(ctx, k("f", userID, storyID), nil)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// AddView implements Store.
func (s *PebbleStore) AddView(ctx context.Context, storyID, userID string, at time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.get(ctx, k("v", storyID, userID), nil); err == nil {
		return false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	b := s.db.NewBatch()
	set(b, k("v", storyID, userID), at)
	set(b, k("vt", storyID, ts(at), userID), nil)
	return true, s.commit(b)
}

// Seen implements Store.
func (s *PebbleStore) Seen(ctx context.Context, viewerID string, storyIDs []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, id := range storyIDs {
		err := s.get(ctx, k("v", id, viewerID), nil)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		out[id] = err == nil
	}
	return out, nil
}

// Views implements Store. The cursor is the view's time and user.
func (s *PebbleStore) Views(ctx context.Context, storyID, after string, limit int) ([]View, error) {
	var afterKey []byte
	if after != "" {
		at, user, ok := strings.Cut(after, "\x00")
		if _, err := strconv.ParseUint(at, 16, 64); !ok || err != nil || len(at) != 16 || user == "" {
			return nil, ErrBadCursor
		}
		afterKey = append(pfx("vt", storyID), after...)
	}
	var out []View
	err := s.scan(ctx, pfx("vt", storyID), afterKey, func(key, _ []byte) bool {
		parts := bytes.Split(key, []byte{0})
		var n int64
		_, _ = fmt.Sscanf(string(parts[2]), "%x", &n)
		out = append(out, View{UserID: string(parts[3]), At: time.Unix(0, n).UTC(), Cursor: string(parts[2]) + "\x00" + string(parts[3])})
		return len(out) < limit
	})
	return out, err
}

// CountViews implements Store.
func (s *PebbleStore) CountViews(ctx context.Context, storyID string) (int, error) {
	n := 0
	err := s.scan(ctx, pfx("v", storyID), nil, func(_, _ []byte) bool { n++; return true })
	return n, err
}

// AddStoryReaction implements Store.
func (s *PebbleStore) AddStoryReaction(ctx context.Context, storyID, userID, emoji string, at time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := k("r", storyID, userID, emoji)
	if err := s.get(ctx, key, nil); err == nil {
		return false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	b := s.db.NewBatch()
	set(b, key, at)
	return true, s.commit(b)
}

// StoryReactions implements Store.
func (s *PebbleStore) StoryReactions(ctx context.Context, storyID, userID string) ([]ReactionCount, error) {
	byEmoji := map[string]*ReactionCount{}
	err := s.scan(ctx, pfx("r", storyID), nil, func(key, v []byte) bool {
		parts := bytes.SplitN(key, []byte{0}, 4)
		var at time.Time
		_ = json.Unmarshal(v, &at)
		e := string(parts[3])
		rc := byEmoji[e]
		if rc == nil {
			rc = &ReactionCount{Emoji: e, FirstAt: at}
			byEmoji[e] = rc
		}
		rc.Count++
		rc.Mine = rc.Mine || string(parts[2]) == userID
		if at.Before(rc.FirstAt) {
			rc.FirstAt = at
		}
		return true
	})
	out := make([]ReactionCount, 0, len(byEmoji))
	for _, rc := range byEmoji {
		out = append(out, *rc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FirstAt.Before(out[j].FirstAt) })
	return out, err
}

// ExpiredStories implements Store.
func (s *PebbleStore) ExpiredStories(ctx context.Context, before time.Time, limit int) ([]Story, error) {
	var out []Story
	err := s.scan(ctx, pfx("se"), nil, func(key, v []byte) bool {
		if string(bytes.Split(key, []byte{0})[1]) >= ts(before) {
			return false
		}
		var st Story
		if json.Unmarshal(v, &st) == nil {
			out = append(out, st)
		}
		return len(out) < limit
	})
	return out, err
}

// SweepStory implements Store.
func (s *PebbleStore) SweepStory(ctx context.Context, st Story) error {
	b := s.db.NewBatch()
	if err := s.deleteStory(ctx, b, st.ID); err != nil {
		return err
	}
	_ = b.Delete(k("se", ts(st.ExpiresAt), st.ID), nil)
	_ = b.Delete(k("sp", st.AuthorID, ts(st.PostedAt), st.ID), nil)
	return s.commit(b)
}

// quietLogger drops Pebble's informational messages; errors still surface
// as returned errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
