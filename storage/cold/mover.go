package cold

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"messenger/blob"
)

// Manifest is the durable record that a bucket lives in a segment. It is
// written once (compare-and-set: of racing movers exactly one record
// wins), and from then on readers take the bucket from the segment plus
// whatever the hot store still holds for it (the overlay).
type Manifest struct {
	ConversationID string
	Bucket         int64
	Key            string // object key of the segment
	SHA256         string // hex SHA-256 of the whole segment
	Count          int
	Bytes          int64
	// DropTS is the write timestamp (µs) at and below which the hot rows
	// of the bucket are dropped once the segment is recorded: the newest
	// write the snapshot saw. Later writes (edits, hides made during or
	// after the move) stay in the hot store as the overlay.
	DropTS     int64
	MovedAt    time.Time
	HotDropped bool
}

// Snapshot is a bucket as read for a move.
type Snapshot struct {
	Records []Record
	DropTS  int64
}

// Backend is what the mover needs from a hot store (storage/cassandra
// implements it). Every method may block and honours ctx.
type Backend interface {
	// ColdCandidates lists, oldest first, the buckets of a conversation
	// that may move: complete, not the newest, newest message sent before
	// cutoff, and not yet dropped from the hot store.
	ColdCandidates(ctx context.Context, conversationID string, cutoff time.Time) ([]int64, error)
	// ClaimBucket takes (or renews, for the same owner) a lease on moving
	// one bucket, for ttl; false when another owner holds it.
	ClaimBucket(ctx context.Context, conversationID string, bucket int64, owner string, ttl time.Duration) (bool, error)
	// ReleaseBucket gives a lease back (no-op when owner does not hold it).
	ReleaseBucket(ctx context.Context, conversationID string, bucket int64, owner string) error
	// SegmentOf returns the bucket's manifest, or ok=false.
	SegmentOf(ctx context.Context, conversationID string, bucket int64) (m Manifest, ok bool, err error)
	// SnapshotBucket reads every message of a complete bucket; it fails
	// when the bucket is not complete.
	SnapshotBucket(ctx context.Context, conversationID string, bucket int64) (Snapshot, error)
	// RecordSegment records m if the bucket has no manifest yet, and
	// returns the manifest that is recorded (m, or the earlier winner's).
	RecordSegment(ctx context.Context, m Manifest) (Manifest, error)
	// DropHot removes the bucket's hot cells written at or before
	// m.DropTS and marks the manifest HotDropped. Running it twice is
	// harmless.
	DropHot(ctx context.Context, m Manifest) error
}

// Step names a point of a bucket's move, for crash injection in tests.
type Step string

// The steps of one bucket's move, in order.
const (
	StepClaimed  Step = "claimed"
	StepPut      Step = "put"      // segment is in object storage
	StepRecorded Step = "recorded" // manifest is recorded
	StepDropped  Step = "dropped"  // hot rows are dropped
)

// Mover moves old buckets of history to object storage. The zero values of
// its optional fields are documented defaults.
type Mover struct {
	Backend Backend
	Blobs   blob.Store
	// Owner names this mover in leases; distinct movers need distinct
	// owners, and a restarted mover may reuse its old name to take over
	// its own leases at once.
	Owner string
	// Prefix is prepended to segment keys ("" = none).
	Prefix string
	// LeaseTTL is how long a bucket's lease lasts (default 2 minutes):
	// longer than one bucket's move.
	LeaseTTL time.Duration
	// AfterStep, when set, is called after each step; an error stops the
	// move there as a crash would (tests inject crashes with it).
	AfterStep func(conversationID string, bucket int64, s Step) error
}

// Stats counts what a mover did.
type Stats struct {
	Buckets  int
	Messages int
	Bytes    int64 // segment bytes written
	RawBytes int64 // uncompressed JSON bytes of the records
}

// MoveConversation moves every eligible bucket of one conversation (see
// Backend.ColdCandidates). Buckets leased by another mover are skipped.
func (mv *Mover) MoveConversation(ctx context.Context, conversationID string, cutoff time.Time) (Stats, error) {
	var st Stats
	buckets, err := mv.Backend.ColdCandidates(ctx, conversationID, cutoff)
	if err != nil {
		return st, err
	}
	for _, b := range buckets {
		if err := mv.moveBucket(ctx, conversationID, b, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}

func (mv *Mover) step(conversationID string, bucket int64, s Step) error {
	if mv.AfterStep == nil {
		return nil
	}
	return mv.AfterStep(conversationID, bucket, s)
}

// moveBucket is one bucket's move: lease, segment to object storage,
// manifest (compare-and-set), drop of the hot rows. Each step is idempotent
// and the next mover resumes from what is recorded, so a crash anywhere
// loses nothing (hot rows go only after the manifest names a segment that
// is already stored) and duplicates nothing (one manifest per bucket; a
// read uses the segment only once the hot rows are gone).
func (mv *Mover) moveBucket(ctx context.Context, conv string, b int64, st *Stats) error {
	ttl := mv.LeaseTTL
	if ttl <= 0 {
		ttl = 2 * time.Minute
	}
	ok, err := mv.Backend.ClaimBucket(ctx, conv, b, mv.Owner, ttl)
	if err != nil || !ok {
		return err
	}
	if err := mv.step(conv, b, StepClaimed); err != nil {
		return err
	}
	m, recorded, err := mv.Backend.SegmentOf(ctx, conv, b)
	if err != nil {
		return err
	}
	if !recorded {
		snap, err := mv.Backend.SnapshotBucket(ctx, conv, b)
		if err != nil {
			return err
		}
		data, sum, err := Encode(conv, b, snap.Records)
		if err != nil {
			return err
		}
		key := Key(mv.Prefix, conv, b, sum)
		if _, err := mv.Blobs.Put(ctx, key, bytes.NewReader(data), 0, "application/octet-stream"); err != nil && !errors.Is(err, blob.ErrExists) {
			return fmt.Errorf("cold: store segment %s: %w", key, err)
		}
		if err := mv.step(conv, b, StepPut); err != nil {
			return err
		}
		mine := Manifest{ConversationID: conv, Bucket: b, Key: key, SHA256: sum, Count: len(snap.Records),
			Bytes: int64(len(data)), DropTS: snap.DropTS, MovedAt: time.Now().UTC()}
		if m, err = mv.Backend.RecordSegment(ctx, mine); err != nil {
			return err
		}
		if m.Key == key {
			st.Buckets++
			st.Messages += m.Count
			st.Bytes += m.Bytes
			if h, err := ParseHeader(data); err == nil {
				st.RawBytes += h.RawBytes
			}
		}
		if err := mv.step(conv, b, StepRecorded); err != nil {
			return err
		}
	}
	if !m.HotDropped {
		if err := mv.sweep(ctx, conv, b, m.Key); err != nil {
			return err
		}
	}
	if !m.HotDropped {
		if err := mv.Backend.DropHot(ctx, m); err != nil {
			return err
		}
		if err := mv.step(conv, b, StepDropped); err != nil {
			return err
		}
	}
	return mv.Backend.ReleaseBucket(ctx, conv, b, mv.Owner)
}

// sweep deletes the bucket's segments other than the recorded one: those
// of a mover that crashed before recording, or lost the race to record.
// Nobody reads them (reads go through the manifest), and once a manifest
// exists none can be recorded any more.
func (mv *Mover) sweep(ctx context.Context, conv string, b int64, keep string) error {
	prefix := strings.TrimSuffix(Key(mv.Prefix, conv, b, strings.Repeat("0", 16)), strings.Repeat("0", 16)+".seg")
	keys, err := mv.Blobs.List(ctx, prefix, "", 100)
	if err != nil {
		return fmt.Errorf("cold: list segments %s: %w", prefix, err)
	}
	for _, k := range keys {
		if k != keep {
			if err := mv.Blobs.Delete(ctx, k); err != nil {
				return fmt.Errorf("cold: delete orphan segment %s: %w", k, err)
			}
		}
	}
	return nil
}
