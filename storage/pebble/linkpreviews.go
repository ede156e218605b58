package pebble

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"messenger/pebblekv"
	"messenger/storage"
)

// Keys: lpc\0<sha256 of url, hex> -> LinkPreviewFetch (JSON), the fetch
// cache (an expired entry is deleted when read); lpm\0<conv>\0<seq hex>
// -> LinkPreview (JSON), the preview attached to a message.

func linkCacheKey(url string) []byte {
	h := sha256.Sum256([]byte(url))
	return pebblekv.Key("lpc", hex.EncodeToString(h[:]))
}

// CachedLinkPreview implements storage.Store.
func (s *Store) CachedLinkPreview(ctx context.Context, url string, now time.Time) (storage.LinkPreviewFetch, error) {
	var f storage.LinkPreviewFetch
	k := linkCacheKey(url)
	if err := s.getJSON(ctx, k, &f); err != nil {
		return storage.LinkPreviewFetch{}, err
	}
	if f.URL != url {
		return storage.LinkPreviewFetch{}, storage.ErrNotFound
	}
	if !now.Before(f.ExpiresAt) {
		_ = s.db.Delete(k, s.wo)
		return storage.LinkPreviewFetch{}, storage.ErrNotFound
	}
	return f, nil
}

// CacheLinkPreview implements storage.Store.
func (s *Store) CacheLinkPreview(ctx context.Context, f storage.LinkPreviewFetch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, linkCacheKey(f.URL), f); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// SetMessageLinkPreview implements storage.Store.
func (s *Store) SetMessageLinkPreview(ctx context.Context, conversationID string, seq int64, p storage.LinkPreview) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	if err := setJSON(b, pebblekv.Key("lpm", conversationID, seqKey(seq)), p); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// MessageLinkPreviews implements storage.Store: one point read per message.
func (s *Store) MessageLinkPreviews(ctx context.Context, conversationID string, seqs []int64) (map[int64]storage.LinkPreview, error) {
	out := map[int64]storage.LinkPreview{}
	for _, seq := range seqs {
		var p storage.LinkPreview
		err := s.getJSON(ctx, pebblekv.Key("lpm", conversationID, seqKey(seq)), &p)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[seq] = p
	}
	return out, nil
}
