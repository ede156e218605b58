package indexer

import "time"

// An index that was never in sync (its SyncedAt is zero) is empty or was
// never filled: a new install, an embedded index set aside as unusable at
// start (search/bleve), OpenSearch indices deleted by hand. The first scan
// then rebuilds it from the store with the catch-up's own tools: every
// conversation is behind its (absent) watermark, so all their messages are
// queued, and every user is queued, not only those created since SyncedAt.
// Hides ("delete for me") cannot be listed by the store: read repair
// restores them (see Indexer). Rebuilding reports the rebuild until its
// work is written; then SyncedAt is written and a restart does not repeat
// it (a crash before does: watermarks keep the messages already written).

// freshState is where the rebuild of a never-synced index stands; guarded
// by Indexer.mu.
type freshState int

const (
	// freshUnknown: no scan has read the index's SyncedAt yet.
	freshUnknown freshState = iota
	// freshScanning: SyncedAt was zero; a scan is queueing everything.
	freshScanning
	// freshQueued: everything is queued; done once it is written.
	freshQueued
	// freshDone: the index was in sync, or the rebuild's work is written.
	freshDone
)

// Rebuilding reports whether the index is being rebuilt from the store
// because it was never in sync: searches may miss messages and users
// until it is done. It never blocks.
func (x *Indexer) Rebuilding() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.fresh == freshScanning || x.fresh == freshQueued
}

// sawSyncedAt records the SyncedAt a recheck scan read; it reports whether
// the index was never in sync.
func (x *Indexer) sawSyncedAt(at time.Time) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !at.IsZero() {
		x.fresh = freshDone
		return false
	}
	if x.fresh == freshUnknown || x.fresh == freshDone {
		x.log.Info("search index was never in sync (new or set aside): rebuilding it from the store in the background")
		x.freshSince = time.Now()
	}
	x.fresh = freshScanning
	return true
}

// freshQueuedAll records that a scan of a never-synced index queued
// everything, and finishes the rebuild if that was nothing.
func (x *Indexer) freshQueuedAll(conversations, users int) {
	x.mu.Lock()
	if x.fresh == freshScanning {
		x.fresh = freshQueued
		x.log.Info("search rebuild: everything queued", "conversations", conversations, "users", users)
	}
	x.mu.Unlock()
	x.finishFresh()
}

// finishFresh ends the rebuild once its work is written.
func (x *Indexer) finishFresh() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.fresh == freshQueued && len(x.pending) == 0 && len(x.users) == 0 && x.busy == 0 {
		x.fresh = freshDone
		x.log.Info("search index rebuilt from the store", "took", time.Since(x.freshSince).Round(time.Millisecond))
	}
}
