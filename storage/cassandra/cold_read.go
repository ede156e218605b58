package cassandra

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"messenger/blob"
	"messenger/storage"
	"messenger/storage/cold"
)

// The read side of the cold tier. A bucket whose hot rows are gone (a scan
// finds no message in it) is looked up in cold_segments; when it has a
// segment, its messages are the segment's records merged with the overlay:
// the cells written to the bucket's hot partition after the move's
// snapshot (edits, recalls, hides), which the drop at DropTS leaves alone.
// Reactions, receipts and thread/mention indexes never move.

// maxSegmentBytes bounds what a read takes from object storage.
const maxSegmentBytes = 64 << 20

// segmentCacheSize is how many decoded segments a process keeps (about
// 200 KB each for a bucket of 1,000 short messages).
const segmentCacheSize = 64

// segmentCache keeps recently read segments, decoded; a segment never
// changes, so an entry is never stale.
type segmentCache struct {
	mu      sync.Mutex
	entries map[string][]cold.Record
	order   []string
}

func (c *segmentCache) get(key string) ([]cold.Record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.entries[key]
	return r, ok
}

func (c *segmentCache) put(key string, recs []cold.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string][]cold.Record{}
	}
	if _, ok := c.entries[key]; ok {
		return
	}
	if len(c.order) >= segmentCacheSize {
		delete(c.entries, c.order[0])
		c.order = c.order[1:]
	}
	c.entries[key] = recs
	c.order = append(c.order, key)
}

// manifestFor returns a bucket's manifest, from this process's memory when
// it has seen it (a manifest is written once).
func (s *Store) manifestFor(ctx context.Context, conversationID string, bucket int64) (cold.Manifest, bool, error) {
	s.cold.mu.Lock()
	m, ok := s.cold.manifests[coldRef{conversationID, bucket}]
	s.cold.mu.Unlock()
	if ok {
		return m, true, nil
	}
	return s.SegmentOf(ctx, conversationID, bucket)
}

// readSegment fetches, checks and decodes a segment (cached).
func (s *Store) readSegment(ctx context.Context, blobs blob.Store, m cold.Manifest) ([]cold.Record, error) {
	if recs, ok := s.cold.segments.get(m.Key); ok {
		return recs, nil
	}
	rc, _, err := blobs.Get(ctx, m.Key)
	if err != nil {
		return nil, fmt.Errorf("cassandra: read cold segment %s: %w", m.Key, errors.Join(err, storage.ErrUnavailable))
	}
	data, err := cold.ReadAll(rc, maxSegmentBytes)
	_ = rc.Close()
	if err != nil {
		return nil, fmt.Errorf("cassandra: read cold segment %s: %w", m.Key, errors.Join(err, storage.ErrUnavailable))
	}
	_, recs, err := cold.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("cassandra: cold segment %s: %w", m.Key, err)
	}
	s.cold.segments.put(m.Key, recs)
	return recs, nil
}

// coldRows returns a cold bucket's messages with lo < seq < hi (hi 0 = no
// bound), ascending, merged with the overlay; ok is false when the bucket
// is not cold (no tier configured, or no manifest).
func (s *Store) coldRows(ctx context.Context, conversationID string, bucket, lo, hi int64) ([]messageRow, bool, error) {
	blobs := s.coldBlobs()
	if blobs == nil {
		return nil, false, nil
	}
	m, ok, err := s.manifestFor(ctx, conversationID, bucket)
	if err != nil || !ok {
		return nil, false, err
	}
	recs, err := s.readSegment(ctx, blobs, m)
	if err != nil {
		return nil, false, err
	}
	if hi <= 0 || hi > (bucket+1)*bucketSize {
		hi = (bucket + 1) * bucketSize
	}
	overlay, err := s.overlay(ctx, conversationID, bucket, lo, hi)
	if err != nil {
		return nil, false, err
	}
	var out []messageRow
	for _, r := range recs {
		if r.Seq <= lo || r.Seq >= hi {
			continue
		}
		row := messageRow{Message: r.Message, hiddenBy: slices.Clone(r.HiddenBy)}
		row.Mentions = slices.Clone(r.Mentions)
		if o, ok := overlay[r.Seq]; ok {
			o.applyTo(&row)
		}
		out = append(out, row)
	}
	return out, true, nil
}

// overlayRow is what is left in the hot partition of a cold bucket for one
// seq: only the cells written after the move's snapshot.
type overlayRow struct {
	body      *string
	editedAt  *time.Time
	deletedAt *time.Time
	hiddenBy  []string
}

func (o overlayRow) applyTo(r *messageRow) {
	if r.DeletedAt != nil {
		r.hiddenBy = append(r.hiddenBy, o.hiddenBy...)
		return // a tombstone is final
	}
	if o.body != nil {
		r.Body = *o.body
	}
	if o.editedAt != nil {
		r.EditedAt = o.editedAt
	}
	if o.deletedAt != nil {
		r.DeletedAt = o.deletedAt
	}
	for _, u := range o.hiddenBy {
		if !slices.Contains(r.hiddenBy, u) {
			r.hiddenBy = append(r.hiddenBy, u)
		}
	}
}

func (s *Store) overlay(ctx context.Context, conversationID string, bucket, lo, hi int64) (map[int64]overlayRow, error) {
	iter := s.query(ctx, `SELECT seq, body, edited_at, deleted_at, hidden_by, writetime(body) FROM messages
		WHERE conversation_id = ? AND bucket = ? AND seq > ? AND seq < ?`, conversationID, bucket, lo, hi).Iter()
	out := map[int64]overlayRow{}
	for {
		var seq int64
		var body string
		var edited, deleted time.Time
		var hidden []string
		var bodyTS *int64
		if !iter.Scan(&seq, &body, &edited, &deleted, &hidden, &bodyTS) {
			break
		}
		o := overlayRow{editedAt: optTime(edited), deletedAt: optTime(deleted), hiddenBy: hidden}
		if bodyTS != nil {
			o.body = &body
		}
		out[seq] = o
	}
	return out, wrap(iter.Close(), "read overlay of %s/%d", conversationID, bucket)
}

// scanCold is scanBucket for a bucket whose hot rows are gone: it calls fn
// like scanBucket does and returns the last seq passed, 0 when the bucket
// is not cold.
func (s *Store) scanCold(ctx context.Context, conversationID string, bucket, lo, hi int64, desc bool, fn func(messageRow) bool) (int64, error) {
	rows, ok, err := s.coldRows(ctx, conversationID, bucket, lo, hi)
	if err != nil || !ok {
		return 0, err
	}
	if desc {
		slices.Reverse(rows)
	}
	var last int64
	for _, r := range rows {
		last = r.Seq
		if !fn(r) {
			break
		}
	}
	return last, nil
}

// coldFill adds to found the messages of seqs that are in cold buckets.
func (s *Store) coldFill(ctx context.Context, conversationID string, seqs []int64, found map[int64]storage.Message) error {
	if s.coldBlobs() == nil {
		return nil
	}
	missing := map[int64][]int64{}
	for _, q := range seqs {
		if _, ok := found[q]; !ok && q > 0 {
			missing[bucketOf(q)] = append(missing[bucketOf(q)], q)
		}
	}
	for b, qs := range missing {
		rows, ok, err := s.coldRows(ctx, conversationID, b, slices.Min(qs)-1, slices.Max(qs)+1)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		for _, r := range rows {
			if slices.Contains(qs, r.Seq) {
				found[r.Seq] = r.Message
			}
		}
	}
	return nil
}

// coldMessage reads one message of a cold bucket for an update, with the
// manifest's DropTS (a write must be newer to survive the drop).
func (s *Store) coldMessage(ctx context.Context, conversationID string, seq int64) (storage.Message, int64, bool, error) {
	rows, ok, err := s.coldRows(ctx, conversationID, bucketOf(seq), seq-1, seq+1)
	if err != nil || !ok || len(rows) == 0 {
		return storage.Message{}, 0, false, err
	}
	m, _, err := s.manifestFor(ctx, conversationID, bucketOf(seq))
	return rows[0].Message, m.DropTS, err == nil, err
}
