package cassandra

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/blob"
	"messenger/cql"
	"messenger/storage"
	"messenger/storage/cold"
)

// coldTier is the Store's link to the cold tier: where segments live, and
// what this process has learnt about them (a manifest never changes once
// recorded, so a found one is cached for good).
type coldTier struct {
	mu        sync.Mutex
	blobs     blob.Store
	prefix    string
	manifests map[coldRef]cold.Manifest
	segments  segmentCache
}

type coldRef struct {
	conv   string
	bucket int64
}

var _ cold.Backend = (*Store)(nil)

// SetColdTier lets the store move history to segments in blobs (keys under
// prefix) and read it back from there. Without it MoveCold moves nothing
// and the store reads the hot tables only. Call it before serving.
func (s *Store) SetColdTier(blobs blob.Store, prefix string) {
	s.cold.mu.Lock()
	defer s.cold.mu.Unlock()
	s.cold.blobs, s.cold.prefix = blobs, prefix
}

func (s *Store) coldBlobs() blob.Store {
	s.cold.mu.Lock()
	defer s.cold.mu.Unlock()
	return s.cold.blobs
}

// MoveCold implements storage.Store with a cold.Mover named after this
// process.
func (s *Store) MoveCold(ctx context.Context, conversationID string, cutoff time.Time) (int, error) {
	blobs := s.coldBlobs()
	if blobs == nil {
		return 0, nil
	}
	host, _ := os.Hostname()
	mv := cold.Mover{Backend: s, Blobs: blobs, Prefix: s.cold.prefix, Owner: fmt.Sprintf("%s/%d/%p", host, os.Getpid(), s)}
	st, err := mv.MoveConversation(ctx, conversationID, cutoff)
	return st.Messages, err
}

// ColdCandidates implements cold.Backend: buckets below the newest one,
// oldest first, while their last seq was sent before cutoff.
func (s *Store) ColdCandidates(ctx context.Context, conversationID string, cutoff time.Time) ([]int64, error) {
	c, err := s.conversation(ctx, conversationID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	dropped := map[int64]bool{}
	iter := s.query(ctx, "SELECT bucket, hot_dropped FROM cold_segments WHERE conversation_id = ?", conversationID).Iter()
	var b int64
	var done bool
	for iter.Scan(&b, &done) {
		dropped[b] = done
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "read cold segments of %s", conversationID)
	}
	var out []int64
	for b := int64(0); b < bucketOf(c.LastSeq); b++ {
		if dropped[b] {
			continue
		}
		var sentAt time.Time
		err := s.query(ctx, "SELECT sent_at FROM messages WHERE conversation_id = ? AND bucket = ? AND seq = ?",
			conversationID, b, bucketEnd(b)).Scan(&sentAt)
		if err != nil && !errors.Is(err, gocql.ErrNotFound) {
			return nil, wrap(err, "read age of %s/%d", conversationID, b)
		}
		if err == nil && !sentAt.IsZero() && !sentAt.Before(cutoff) {
			break // buckets after this one are younger still
		}
		out = append(out, b)
	}
	return out, nil
}

// ClaimBucket implements cold.Backend with a lease row per bucket: taken
// when absent, renewed by its owner, taken over once expired.
func (s *Store) ClaimBucket(ctx context.Context, conversationID string, bucket int64, owner string, ttl time.Duration) (bool, error) {
	now := time.Now()
	until := cql.Timestamp(now.Add(ttl))
	applied, err := s.lwt(ctx, "INSERT INTO cold_leases (conversation_id, bucket, owner, lease_until) VALUES (?, ?, ?, ?) IF NOT EXISTS",
		conversationID, bucket, owner, until).MapScanCAS(map[string]any{})
	if err != nil || applied {
		return applied, wrap(err, "lease cold bucket %s/%d", conversationID, bucket)
	}
	applied, err = s.lwt(ctx, "UPDATE cold_leases SET lease_until = ? WHERE conversation_id = ? AND bucket = ? IF owner = ?",
		until, conversationID, bucket, owner).MapScanCAS(map[string]any{})
	if err != nil || applied {
		return applied, wrap(err, "renew cold bucket lease %s/%d", conversationID, bucket)
	}
	applied, err = s.lwt(ctx, "UPDATE cold_leases SET owner = ?, lease_until = ? WHERE conversation_id = ? AND bucket = ? IF lease_until <= ?",
		owner, until, conversationID, bucket, cql.Timestamp(now)).MapScanCAS(map[string]any{})
	return applied, wrap(err, "take over cold bucket lease %s/%d", conversationID, bucket)
}

// ReleaseBucket implements cold.Backend.
func (s *Store) ReleaseBucket(ctx context.Context, conversationID string, bucket int64, owner string) error {
	_, err := s.lwt(ctx, "DELETE FROM cold_leases WHERE conversation_id = ? AND bucket = ? IF owner = ?",
		conversationID, bucket, owner).MapScanCAS(map[string]any{})
	return wrap(err, "release cold bucket lease %s/%d", conversationID, bucket)
}

// SegmentOf implements cold.Backend (a serial read: it sees every
// recorded manifest).
func (s *Store) SegmentOf(ctx context.Context, conversationID string, bucket int64) (cold.Manifest, bool, error) {
	ref := coldRef{conversationID, bucket}
	s.cold.mu.Lock()
	m, ok := s.cold.manifests[ref]
	s.cold.mu.Unlock()
	if ok && m.HotDropped {
		return m, true, nil
	}
	m = cold.Manifest{ConversationID: conversationID, Bucket: bucket}
	var movedAt time.Time
	err := s.query(ctx, `SELECT object_key, sha256, count, bytes, drop_ts, moved_at, hot_dropped FROM cold_segments
		WHERE conversation_id = ? AND bucket = ?`, conversationID, bucket).SerialConsistency(s.serial).
		Scan(&m.Key, &m.SHA256, &m.Count, &m.Bytes, &m.DropTS, &movedAt, &m.HotDropped)
	if errors.Is(err, gocql.ErrNotFound) {
		return cold.Manifest{}, false, nil
	}
	if err != nil {
		return cold.Manifest{}, false, wrap(err, "read cold segment %s/%d", conversationID, bucket)
	}
	m.MovedAt = utc(movedAt)
	s.rememberManifest(m)
	return m, true, nil
}

func (s *Store) rememberManifest(m cold.Manifest) {
	s.cold.mu.Lock()
	defer s.cold.mu.Unlock()
	if s.cold.manifests == nil || len(s.cold.manifests) > 100_000 {
		s.cold.manifests = map[coldRef]cold.Manifest{}
	}
	s.cold.manifests[coldRef{m.ConversationID, m.Bucket}] = m
}

// SnapshotBucket implements cold.Backend. DropTS is the newest write time
// of the cells a drop may remove (a recall's cells, written far in the
// future on purpose, are left out: they stay as overlay and agree with the
// segment).
func (s *Store) SnapshotBucket(ctx context.Context, conversationID string, bucket int64) (cold.Snapshot, error) {
	var snap cold.Snapshot
	iter := s.query(ctx, "SELECT "+messageColumns+`, writetime(sender_id), writetime(body), writetime(edited_at), writetime(deleted_at)
		FROM messages WHERE conversation_id = ? AND bucket = ?`, conversationID, bucket).PageSize(1000).Iter()
	for {
		var wts [4]*int64
		r, ok := scanMessage(conversationID, func(dest ...any) bool {
			return iter.Scan(append(dest, &wts[0], &wts[1], &wts[2], &wts[3])...)
		})
		if !ok {
			break
		}
		if !r.real() {
			continue
		}
		for _, w := range wts {
			if w != nil && *w < tombstoneTS && *w > snap.DropTS {
				snap.DropTS = *w
			}
		}
		snap.Records = append(snap.Records, cold.Record{Message: r.Message, HiddenBy: r.hiddenBy})
	}
	if err := iter.Close(); err != nil {
		return snap, wrap(err, "snapshot %s/%d", conversationID, bucket)
	}
	want := bucketEnd(bucket) - max(bucket*bucketSize, 1) + 1
	if int64(len(snap.Records)) != want {
		return snap, fmt.Errorf("cassandra: snapshot %s/%d: %d of %d messages: not a complete bucket", conversationID, bucket, len(snap.Records), want)
	}
	return snap, nil
}

// RecordSegment implements cold.Backend with INSERT ... IF NOT EXISTS.
func (s *Store) RecordSegment(ctx context.Context, m cold.Manifest) (cold.Manifest, error) {
	applied, err := s.lwt(ctx, `INSERT INTO cold_segments (conversation_id, bucket, object_key, sha256, count, bytes, drop_ts, moved_at, hot_dropped)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, false) IF NOT EXISTS`,
		m.ConversationID, m.Bucket, m.Key, m.SHA256, m.Count, m.Bytes, m.DropTS, cql.Timestamp(m.MovedAt)).MapScanCAS(map[string]any{})
	if err != nil {
		return m, wrap(err, "record cold segment %s/%d", m.ConversationID, m.Bucket)
	}
	if applied {
		return m, nil
	}
	got, ok, err := s.SegmentOf(ctx, m.ConversationID, m.Bucket)
	if err == nil && !ok {
		err = fmt.Errorf("cassandra: cold segment %s/%d vanished", m.ConversationID, m.Bucket)
	}
	return got, err
}

// DropHot implements cold.Backend: one range deletion of the bucket's
// partition at DropTS (a single-partition mutation, so a reader sees all
// of the bucket's hot rows or none), then the manifest's mark.
func (s *Store) DropHot(ctx context.Context, m cold.Manifest) error {
	err := s.query(ctx, "DELETE FROM messages USING TIMESTAMP ? WHERE conversation_id = ? AND bucket = ? AND seq >= ? AND seq <= ?",
		m.DropTS, m.ConversationID, m.Bucket, m.Bucket*bucketSize, bucketEnd(m.Bucket)).Exec()
	if err != nil {
		return wrap(err, "drop hot rows of %s/%d", m.ConversationID, m.Bucket)
	}
	err = s.query(ctx, "UPDATE cold_segments SET hot_dropped = true WHERE conversation_id = ? AND bucket = ?", m.ConversationID, m.Bucket).Exec()
	return wrap(err, "mark cold segment %s/%d", m.ConversationID, m.Bucket)
}
