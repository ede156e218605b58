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
	"time"

	"messenger/media"
	"messenger/pebblekv"
)

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
