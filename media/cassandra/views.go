package cassandra

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/media"
)

// AddView implements media.Store: INSERT IF NOT EXISTS decides the first
// view, then the view is indexed by time. Both live as long as the story;
// a story that is gone records nothing.
func (s *Store) AddView(ctx context.Context, storyID, userID string, at time.Time) (bool, error) {
	expires, ok, err := s.expiry(ctx, storyID)
	if err != nil || !ok {
		return false, err
	}
	life := ttl(at, expires)
	applied, err := s.lwt(ctx, "INSERT INTO media_story_views (story_id, user_id, at) VALUES (?, ?, ?) IF NOT EXISTS USING TTL ?",
		storyID, userID, cql.Timestamp(at), life).MapScanCAS(map[string]any{})
	if err != nil {
		// Unknown outcome: if the view is there now, it is ours or an
		// earlier one; either way the time index must have it.
		var first time.Time
		if rerr := s.query(ctx, "SELECT at FROM media_story_views WHERE story_id = ? AND user_id = ?", storyID, userID).
			Consistency(s.serial).Scan(&first); rerr != nil {
			return false, wrap(err, "record view of story %s", storyID)
		}
		at, applied = first, cql.Timestamp(first).Equal(cql.Timestamp(at))
	} else if !applied {
		return false, nil
	}
	err = s.query(ctx, "INSERT INTO media_story_views_by_time (story_id, at, user_id) VALUES (?, ?, ?) USING TTL ?",
		storyID, cql.Timestamp(at), userID, life).Exec()
	return applied, wrap(err, "index view of story %s", storyID)
}

// Seen implements media.Store: one point read per story, in parallel.
func (s *Store) Seen(ctx context.Context, viewerID string, storyIDs []string) (map[string]bool, error) {
	out := make(map[string]bool, len(storyIDs))
	var mu sync.Mutex
	err := cql.Parallel(ctx, len(storyIDs), func(ctx context.Context, i int) error {
		var at time.Time
		err := s.query(ctx, "SELECT at FROM media_story_views WHERE story_id = ? AND user_id = ?", storyIDs[i], viewerID).Scan(&at)
		if err != nil && !errors.Is(err, gocql.ErrNotFound) {
			return wrap(err, "read view of story %s", storyIDs[i])
		}
		mu.Lock()
		out[storyIDs[i]] = err == nil
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// viewCursor is "<milliseconds, 16 hex digits>\x00<user id>".
func viewCursor(at time.Time, userID string) string {
	return fmt.Sprintf("%016x\x00%s", at.UnixMilli(), userID)
}

func parseViewCursor(c string) (time.Time, string, error) {
	h, user, ok := strings.Cut(c, "\x00")
	n, err := strconv.ParseInt(h, 16, 64)
	if !ok || err != nil || len(h) != 16 || user == "" {
		return time.Time{}, "", media.ErrBadCursor
	}
	return time.UnixMilli(n).UTC(), user, nil
}

// Views implements media.Store.
func (s *Store) Views(ctx context.Context, storyID, after string, limit int) ([]media.View, error) {
	q := s.query(ctx, "SELECT at, user_id FROM media_story_views_by_time WHERE story_id = ? LIMIT ?", storyID, limit)
	if after != "" {
		at, user, err := parseViewCursor(after)
		if err != nil {
			return nil, err
		}
		q = s.query(ctx, "SELECT at, user_id FROM media_story_views_by_time WHERE story_id = ? AND (at, user_id) > (?, ?) LIMIT ?",
			storyID, at, user, limit)
	}
	iter := q.Iter()
	var out []media.View
	var v media.View
	for iter.Scan(&v.At, &v.UserID) {
		v.At = cql.Timestamp(v.At)
		v.Cursor = viewCursor(v.At, v.UserID)
		out = append(out, v)
	}
	return out, wrap(iter.Close(), "read views of story %s", storyID)
}

// CountViews implements media.Store.
func (s *Store) CountViews(ctx context.Context, storyID string) (int, error) {
	var n int64
	err := s.query(ctx, "SELECT COUNT(*) FROM media_story_views WHERE story_id = ?", storyID).Scan(&n)
	return int(n), wrap(err, "count views of story %s", storyID)
}

// AddStoryReaction implements media.Store: INSERT IF NOT EXISTS, living as
// long as the story; a story that is gone records nothing.
func (s *Store) AddStoryReaction(ctx context.Context, storyID, userID, emoji string, at time.Time) (bool, error) {
	expires, ok, err := s.expiry(ctx, storyID)
	if err != nil || !ok {
		return false, err
	}
	applied, err := s.lwt(ctx, "INSERT INTO media_story_reactions (story_id, user_id, emoji, at) VALUES (?, ?, ?, ?) IF NOT EXISTS USING TTL ?",
		storyID, userID, emoji, cql.Timestamp(at), ttl(at, expires)).MapScanCAS(map[string]any{})
	if err != nil {
		var first time.Time
		if rerr := s.query(ctx, "SELECT at FROM media_story_reactions WHERE story_id = ? AND user_id = ? AND emoji = ?", storyID, userID, emoji).
			Consistency(s.serial).Scan(&first); rerr == nil {
			return cql.Timestamp(first).Equal(cql.Timestamp(at)), nil
		}
		return false, wrap(err, "react to story %s", storyID)
	}
	return applied, nil
}

// StoryReactions implements media.Store: one partition read.
func (s *Store) StoryReactions(ctx context.Context, storyID, userID string) ([]media.ReactionCount, error) {
	iter := s.query(ctx, "SELECT user_id, emoji, at FROM media_story_reactions WHERE story_id = ?", storyID).PageSize(5000).Iter()
	by := map[string]*media.ReactionCount{}
	var user, emoji string
	var at time.Time
	for iter.Scan(&user, &emoji, &at) {
		at = cql.Timestamp(at)
		rc := by[emoji]
		if rc == nil {
			rc = &media.ReactionCount{Emoji: emoji, FirstAt: at}
			by[emoji] = rc
		}
		rc.Count++
		rc.Mine = rc.Mine || user == userID
		if at.Before(rc.FirstAt) {
			rc.FirstAt = at
		}
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "read reactions of story %s", storyID)
	}
	out := make([]media.ReactionCount, 0, len(by))
	for _, rc := range by {
		out = append(out, *rc)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].FirstAt.Equal(out[j].FirstAt) {
			return out[i].FirstAt.Before(out[j].FirstAt)
		}
		return out[i].Emoji < out[j].Emoji
	})
	return out, nil
}
