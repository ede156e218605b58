package cassandra

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/media"
)

// slot is one of an author's posting slots.
type slot struct {
	n        int
	storyID  string
	postedAt time.Time
}

func (s *Store) slots(ctx context.Context, authorID string, serial bool) ([]slot, error) {
	q := s.query(ctx, "SELECT slot, story_id, posted_at FROM media_story_slots WHERE author_id = ?", authorID)
	if serial {
		q = q.Consistency(s.serial)
	}
	iter := q.Iter()
	var out []slot
	var sl slot
	for iter.Scan(&sl.n, &sl.storyID, &sl.postedAt) {
		sl.postedAt = cql.Timestamp(sl.postedAt)
		out = append(out, sl)
	}
	return out, wrap(iter.Close(), "read story slots of %s", authorID)
}

// PostedSince implements media.Store: the author's slots hold every post
// of the window (their TTL outlives it).
func (s *Store) PostedSince(ctx context.Context, authorID string, since time.Time) ([]string, error) {
	slots, err := s.slots(ctx, authorID, false)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, sl := range slots {
		if sl.storyID != "" && sl.postedAt.After(since) {
			out = append(out, sl.storyID)
		}
	}
	return out, nil
}

// maxSlotAttempts bounds how often one post retries after losing its slot
// to a concurrent post.
const maxSlotAttempts = 50

// ReservePost implements media.Store. The author has slots 0..limit-1; a
// post takes one that is empty (INSERT IF NOT EXISTS) or whose post left
// the window (UPDATE IF story_id = <that post>). Each slot holds one post
// at a time and only a transaction on it changes it, so however many
// processes post at once, at most limit posts are in any window.
func (s *Store) ReservePost(ctx context.Context, authorID, storyID string, at time.Time, window time.Duration, limit int) error {
	at = cql.Timestamp(at)
	life := int((window + time.Hour).Seconds()) // the TTL only collects stale slots
	serial := false
	for attempt := 0; attempt < maxSlotAttempts; attempt++ {
		all, err := s.slots(ctx, authorID, serial)
		if err != nil {
			return err
		}
		var live []time.Time
		taken := map[int]slot{}
		for _, sl := range all {
			if sl.storyID == storyID {
				return nil // an earlier attempt's unknown outcome was a success
			}
			if sl.n < limit {
				taken[sl.n] = sl
				if sl.postedAt.After(at.Add(-window)) {
					live = append(live, sl.postedAt)
				}
			}
		}
		if len(live) >= limit {
			slices.SortFunc(live, func(a, b time.Time) int { return a.Compare(b) })
			return &media.QuotaError{RetryAt: live[len(live)-limit].Add(window)}
		}
		var applied bool
		for n := 0; n < limit; n++ {
			old, ok := taken[n]
			if !ok {
				applied, err = s.lwt(ctx, "INSERT INTO media_story_slots (author_id, slot, story_id, posted_at) VALUES (?, ?, ?, ?) IF NOT EXISTS USING TTL ?",
					authorID, n, storyID, at, life).MapScanCAS(map[string]any{})
				break
			}
			if !old.postedAt.After(at.Add(-window)) {
				applied, err = s.lwt(ctx, "UPDATE media_story_slots USING TTL ? SET story_id = ?, posted_at = ? WHERE author_id = ? AND slot = ? IF story_id = ?",
					life, storyID, at, authorID, n, old.storyID).MapScanCAS(map[string]any{})
				break
			}
		}
		if err == nil && applied {
			return nil
		}
		if err != nil && !cql.Unavailable(err) {
			return wrap(err, "reserve story slot of %s", authorID)
		}
		// Lost the slot to another post, or the outcome is unknown: look
		// again, through Paxos this time, so in-flight posts are seen.
		serial = true
		if err := ctx.Err(); err != nil {
			return wrap(err, "reserve story slot of %s", authorID)
		}
	}
	return fmt.Errorf("media cassandra: reserve story slot of %s: still contended after %d attempts", authorID, maxSlotAttempts)
}

// ReleasePost implements media.Store.
func (s *Store) ReleasePost(ctx context.Context, authorID, storyID string, at time.Time) error {
	all, err := s.slots(ctx, authorID, true)
	if err != nil {
		return err
	}
	for _, sl := range all {
		if sl.storyID == storyID {
			_, err := s.lwt(ctx, "DELETE FROM media_story_slots WHERE author_id = ? AND slot = ? IF story_id = ?",
				authorID, sl.n, storyID).MapScanCAS(map[string]any{})
			return wrap(err, "release story slot of %s", authorID)
		}
	}
	return nil
}

// PutStory implements media.Store. The sweeper's entry comes first, so the
// video is found even if the rest is never written; then the story, then
// its audience and their feeds, all living until the story expires.
func (s *Store) PutStory(ctx context.Context, st media.Story, audience []string) error {
	life := ttl(st.PostedAt, st.ExpiresAt)
	qs := []stmt{
		s.enqueue(&s.storyQ, st.ExpiresAt, st.ID, life+int(queueTTL.Seconds()),
			"author_id, upload_id, posted_at", st.AuthorID, st.UploadID, cql.Timestamp(st.PostedAt)),
		{"INSERT INTO media_stories (id, author_id, upload_id, caption, posted_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?",
			[]any{st.ID, st.AuthorID, st.UploadID, st.Caption, cql.Timestamp(st.PostedAt), cql.Timestamp(st.ExpiresAt), life}},
	}
	for _, q := range qs {
		if err := s.query(ctx, q.cql, q.args...).Exec(); err != nil {
			return wrap(err, "put story %s", st.ID)
		}
	}
	// The audience is one partition: batches of 100 rows go to one replica
	// set at a time. The feeds are one partition per viewer.
	for i := 0; i < len(audience); i += 100 {
		b := s.session.Batch(gocql.UnloggedBatch).WithContext(ctx)
		for _, u := range audience[i:min(i+100, len(audience))] {
			b.Entries = append(b.Entries, gocql.BatchEntry{Stmt: "INSERT INTO media_story_audience (story_id, user_id) VALUES (?, ?) USING TTL ?",
				Args: []any{st.ID, u, life}, Idempotent: true})
		}
		if err := b.Exec(); err != nil {
			return wrap(err, "put audience of story %s", st.ID)
		}
	}
	feed := make([]stmt, len(audience))
	for i, u := range audience {
		feed[i] = stmt{`INSERT INTO media_story_feed (viewer_id, story_id, author_id, upload_id, caption, posted_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?`, []any{u, st.ID, st.AuthorID, st.UploadID, st.Caption, cql.Timestamp(st.PostedAt), cql.Timestamp(st.ExpiresAt), life}}
	}
	return wrap(s.exec(ctx, feed), "put feeds of story %s", st.ID)
}

const storyColumns = "id, author_id, upload_id, caption, posted_at, expires_at"

func scanStory(st *media.Story) []any {
	return []any{&st.ID, &st.AuthorID, &st.UploadID, &st.Caption, &st.PostedAt, &st.ExpiresAt}
}

func tidy(st media.Story) media.Story {
	st.PostedAt, st.ExpiresAt = cql.Timestamp(st.PostedAt), cql.Timestamp(st.ExpiresAt)
	return st
}

// Story implements media.Store: ErrNotFound once it expired (TTL).
func (s *Store) Story(ctx context.Context, id string) (media.Story, error) {
	var st media.Story
	err := s.query(ctx, "SELECT "+storyColumns+" FROM media_stories WHERE id = ?", id).Scan(scanStory(&st)...)
	if errors.Is(err, gocql.ErrNotFound) {
		return media.Story{}, media.ErrNotFound
	}
	if err != nil {
		return media.Story{}, wrap(err, "read story %s", id)
	}
	return tidy(st), nil
}

// expiry returns when a story expires, or false when it is gone.
func (s *Store) expiry(ctx context.Context, id string) (time.Time, bool, error) {
	var at time.Time
	err := s.query(ctx, "SELECT expires_at FROM media_stories WHERE id = ?", id).Scan(&at)
	if errors.Is(err, gocql.ErrNotFound) {
		return at, false, nil
	}
	return at, err == nil, wrap(err, "read story %s", id)
}

// DeleteStory implements media.Store. The story row goes last, so a
// deletion that fails half-way leaves a story its poster can delete again.
func (s *Store) DeleteStory(ctx context.Context, id string) error {
	iter := s.query(ctx, "SELECT user_id FROM media_story_audience WHERE story_id = ?", id).PageSize(5000).Iter()
	var qs []stmt
	var u string
	for iter.Scan(&u) {
		qs = append(qs, stmt{"DELETE FROM media_story_feed WHERE viewer_id = ? AND story_id = ?", []any{u, id}})
	}
	if err := iter.Close(); err != nil {
		return wrap(err, "read audience of story %s", id)
	}
	for _, table := range []string{"media_story_audience", "media_story_views", "media_story_views_by_time", "media_story_reactions"} {
		qs = append(qs, stmt{"DELETE FROM " + table + " WHERE story_id = ?", []any{id}})
	}
	if err := s.exec(ctx, qs); err != nil {
		return wrap(err, "delete story %s", id)
	}
	return wrap(s.query(ctx, "DELETE FROM media_stories WHERE id = ?", id).Exec(), "delete story %s", id)
}

// Feed implements media.Store: one partition read.
func (s *Store) Feed(ctx context.Context, viewerID string) ([]media.Story, error) {
	iter := s.query(ctx, "SELECT story_id, author_id, upload_id, caption, posted_at, expires_at FROM media_story_feed WHERE viewer_id = ?", viewerID).PageSize(5000).Iter()
	var out []media.Story
	var st media.Story
	for iter.Scan(scanStory(&st)...) {
		out = append(out, tidy(st))
	}
	return out, wrap(iter.Close(), "read feed of %s", viewerID)
}

// InAudience implements media.Store.
func (s *Store) InAudience(ctx context.Context, storyID, userID string) (bool, error) {
	var u string
	err := s.query(ctx, "SELECT user_id FROM media_story_audience WHERE story_id = ? AND user_id = ?", storyID, userID).Scan(&u)
	if errors.Is(err, gocql.ErrNotFound) {
		return false, nil
	}
	return err == nil, wrap(err, "read audience of story %s", storyID)
}

// ExpiredStories implements media.Store, from the sweeper's story queue
// (which outlives the stories' own rows).
func (s *Store) ExpiredStories(ctx context.Context, before time.Time, limit int) ([]media.Story, error) {
	var out []media.Story
	var st media.Story
	err := s.due(ctx, &s.storyQ, before, limit, "at, id, author_id, upload_id, posted_at",
		func() []any { return []any{&st.ExpiresAt, &st.ID, &st.AuthorID, &st.UploadID, &st.PostedAt} },
		func() { out = append(out, tidy(st)) })
	return out, err
}

// SweepStory implements media.Store.
func (s *Store) SweepStory(ctx context.Context, st media.Story) error {
	if err := s.DeleteStory(ctx, st.ID); err != nil {
		return err
	}
	q := s.dequeue(&s.storyQ, st.ExpiresAt, st.ID)
	return wrap(s.query(ctx, q.cql, q.args...).Exec(), "sweep story %s", st.ID)
}
