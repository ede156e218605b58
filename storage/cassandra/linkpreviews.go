package cassandra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

// CachedLinkPreview implements storage.Store.
func (s *Store) CachedLinkPreview(ctx context.Context, url string, now time.Time) (storage.LinkPreviewFetch, error) {
	var (
		raw     *string
		expires time.Time
	)
	err := s.query(ctx, "SELECT preview, expires_at FROM link_preview_cache WHERE url = ?", url).Scan(&raw, &expires)
	if errors.Is(err, gocql.ErrNotFound) {
		return storage.LinkPreviewFetch{}, storage.ErrNotFound
	}
	if err != nil {
		return storage.LinkPreviewFetch{}, wrap(err, "cached link preview")
	}
	if !now.Before(expires) {
		return storage.LinkPreviewFetch{}, storage.ErrNotFound
	}
	f := storage.LinkPreviewFetch{URL: url, ExpiresAt: expires.UTC()}
	if raw != nil && *raw != "" {
		var p storage.LinkPreview
		if err := json.Unmarshal([]byte(*raw), &p); err != nil {
			return storage.LinkPreviewFetch{}, fmt.Errorf("cassandra: cached link preview: %w", err)
		}
		f.Preview = &p
	}
	return f, nil
}

// CacheLinkPreview implements storage.Store: the row carries a TTL until
// f.ExpiresAt (at least one second), so expired entries leave by
// themselves.
func (s *Store) CacheLinkPreview(ctx context.Context, f storage.LinkPreviewFetch) error {
	var raw *string
	if f.Preview != nil {
		b, err := json.Marshal(f.Preview)
		if err != nil {
			return fmt.Errorf("cassandra: cache link preview: %w", err)
		}
		str := string(b)
		raw = &str
	}
	ttl := max(1, int(time.Until(f.ExpiresAt).Seconds())+1)
	err := s.query(ctx, "INSERT INTO link_preview_cache (url, preview, expires_at) VALUES (?, ?, ?) USING TTL ?",
		f.URL, raw, cql.Timestamp(f.ExpiresAt), ttl).Exec()
	return wrap(err, "cache link preview")
}

// SetMessageLinkPreview implements storage.Store.
func (s *Store) SetMessageLinkPreview(ctx context.Context, conversationID string, seq int64, p storage.LinkPreview) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("cassandra: link preview of %s: %w", storage.MessageID(conversationID, seq), err)
	}
	err = s.query(ctx, "INSERT INTO message_link_previews (conversation_id, seq, preview) VALUES (?, ?, ?)",
		conversationID, seq, string(b)).Exec()
	return wrap(err, "set link preview of %s", storage.MessageID(conversationID, seq))
}

// MessageLinkPreviews implements storage.Store: one partition read.
func (s *Store) MessageLinkPreviews(ctx context.Context, conversationID string, seqs []int64) (map[int64]storage.LinkPreview, error) {
	out := map[int64]storage.LinkPreview{}
	if len(seqs) == 0 {
		return out, nil
	}
	iter := s.query(ctx, "SELECT seq, preview FROM message_link_previews WHERE conversation_id = ? AND seq IN ?", conversationID, seqs).Iter()
	var (
		seq int64
		raw string
	)
	for iter.Scan(&seq, &raw) {
		var p storage.LinkPreview
		if err := json.Unmarshal([]byte(raw), &p); err != nil {
			_ = iter.Close()
			return nil, fmt.Errorf("cassandra: link preview of %s: %w", storage.MessageID(conversationID, seq), err)
		}
		out[seq] = p
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "link previews in %s", conversationID)
	}
	return out, nil
}
