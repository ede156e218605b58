package indexer

import (
	"context"
	"fmt"
	"time"

	"messenger/search"
	"messenger/storage"
)

// Catch-up: what the Indexer does to find changes it was never told of (a
// crash, a restart while the index was down, another process's crash). See
// the Indexer's doc comment for what each part guarantees.

const (
	// scanPage is how many conversations (or users) one scan step reads.
	scanPage = 1000
	// recheckChunk is how many messages one recheck read covers.
	recheckChunk = 500
	// recheckSlack widens "changed since SyncedAt": an edit's time is taken
	// before its durable write and its notification (a slow request), and
	// by another process's clock.
	recheckSlack = 5 * time.Minute
	// syncEvery spaces the writes of SyncedAt: a value a little old only
	// makes the next recheck read a little more.
	syncEvery = 10 * time.Second
	// outageRecheck: an outage at least this long makes this process
	// recheck when it ends, for the changes other processes may have lost
	// meanwhile. Shorter failures (a conflict, a blip) only retry.
	outageRecheck = 10 * time.Second
)

// syncState tracks SyncedAt and rechecks; guarded by Indexer.mu.
type syncState struct {
	// recheckDue: the next scan re-reads recent messages (from since, or
	// from the index's SyncedAt when since is zero).
	recheckDue bool
	since      time.Time
	// epoch counts the times a recheck was asked for, so a scan that
	// started before a new request does not clear it.
	epoch uint64
	// queuedAt is when the last recheck queued its work: SyncedAt may only
	// move past it once that work is written.
	queuedAt time.Time
	// last is the latest time this process knew everything it was told of
	// was written; written is the last SyncedAt it wrote.
	last, written time.Time
	// failing: writes are failing since failedFrom (the value of last when
	// they started); SyncedAt stays put until the outage is over and, if
	// it was long, rechecked.
	failing    bool
	failedFrom time.Time
}

// syncCandidate reports whether, with nothing left pending at t0, a
// successful write of the batch just taken makes the index in sync as of
// t0, and whether SyncedAt is due to be written.
func (x *Indexer) syncCandidate(t0 time.Time) (synced, write bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	synced = len(x.pending) == 0 && len(x.users) == 0 && x.sync.inSync(t0)
	return synced, synced && t0.Sub(x.sync.written) >= syncEvery
}

// synced records a successful write (see syncCandidate).
func (x *Indexer) synced(t0 time.Time, synced, written bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if synced && t0.After(x.sync.last) {
		x.sync.last = t0
	}
	if written {
		x.sync.written = t0
	}
}

// inSync reports whether nothing but pending work (checked by the caller)
// keeps the index from being in sync as of t0.
func (st *syncState) inSync(t0 time.Time) bool {
	return !st.recheckDue && !st.failing && t0.After(st.queuedAt)
}

// writesFailing records that a write failed.
func (x *Indexer) writesFailing() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.sync.failing {
		x.sync.failing, x.sync.failedFrom = true, x.sync.last
	}
}

// writesRecovered records that writes succeed again after failing for d.
// After a long outage the next scan rechecks from the last time this
// process knew the index was in sync: other processes may have lost
// changes meanwhile (this one kept its own in memory).
func (x *Indexer) writesRecovered(d time.Duration) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.sync.failing = false
	if d < outageRecheck {
		return
	}
	since := x.sync.failedFrom
	if !x.sync.recheckDue || (!since.IsZero() && since.Before(x.sync.since)) {
		x.sync.since = since
	}
	x.sync.recheckDue = true
	x.sync.epoch++
}

// Scan walks every conversation of the store (Source.ConversationIDs, in
// pages of 1,000: one read of each conversation and of its watermark) and
// queues those whose LastSeq is ahead of their watermark. When a recheck
// is due (the first scan of a process, and after an outage), it also
// re-reads the messages sent within RecheckWindow before the index was
// last in sync and queues those edited or deleted since, and queues the
// users created since (every user when the index was never in sync: see
// fresh.go). When nothing is pending it records SyncedAt.
func (x *Indexer) Scan(ctx context.Context) error {
	t0 := time.Now()
	x.mu.Lock()
	idle := len(x.pending) == 0 && len(x.users) == 0 && x.busy == 0 && x.sync.inSync(t0)
	recheck, since, epoch := x.sync.recheckDue, x.sync.since, x.sync.epoch
	x.mu.Unlock()
	fresh := false
	if recheck && since.IsZero() {
		at, err := x.cfg.Index.SyncedAt(ctx)
		if err != nil {
			return err
		}
		since, fresh = at, x.sawSyncedAt(at)
	}
	if since.IsZero() || since.After(x.started) {
		since = x.started
	}
	cutoff := since.Add(-x.cfg.RecheckWindow)
	changedAfter := since.Add(-recheckSlack)

	behind, requeued := 0, 0
	after := ""
	for {
		ids, err := x.cfg.Source.ConversationIDs(ctx, after, scanPage)
		if err != nil {
			return fmt.Errorf("search: scan: list conversations: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		convs, err := x.cfg.Source.Conversations(ctx, ids)
		if err != nil {
			return fmt.Errorf("search: scan: load conversations: %w", err)
		}
		wms, err := x.cfg.Index.Watermarks(ctx, ids)
		if err != nil {
			return err
		}
		var recent []string
		x.mu.Lock()
		for _, id := range ids {
			c, ok := convs[id]
			if !ok {
				continue
			}
			w := wms[id]
			if _, cached := x.wm[id]; cached || c.LastSeq > w {
				x.wm[id] = w
			}
			if c.LastSeq > w {
				x.conv(id)
				behind++
			}
			// Messages above the watermark are read afresh anyway.
			if recheck && w > 0 && !c.LastActivityAt.Before(cutoff) {
				recent = append(recent, id)
			}
		}
		x.mu.Unlock()
		for _, id := range recent {
			n, err := x.recheckConversation(ctx, id, wms[id], cutoff, changedAfter)
			if err != nil {
				return err
			}
			requeued += n
		}
		if len(ids) < scanPage {
			break
		}
		after = ids[len(ids)-1]
	}
	users := 0
	if recheck {
		usersSince := changedAfter
		if fresh {
			usersSince = time.Time{} // every user
		}
		var err error
		if users, err = x.recheckUsers(ctx, usersSince); err != nil {
			return err
		}
		x.mu.Lock()
		if x.sync.epoch == epoch {
			x.sync.recheckDue, x.sync.since = false, time.Time{}
		}
		x.sync.queuedAt = time.Now()
		x.mu.Unlock()
		x.log.Info("search catch-up: rechecked changes since the index was last in sync",
			"since", since, "messages_sent_after", cutoff, "messages_requeued", requeued, "users_requeued", users)
	}
	if behind > 0 {
		x.log.Info("search catch-up: conversations behind their last message", "count", behind)
	}
	if behind > 0 || requeued > 0 || users > 0 {
		x.poke()
	}
	if fresh {
		x.freshQueuedAll(behind, users)
	}
	if idle && !recheck {
		x.mu.Lock()
		write := t0.Sub(x.sync.written) >= syncEvery
		x.mu.Unlock()
		if write {
			if err := x.cfg.Index.Apply(ctx, search.Batch{SyncedAt: t0}); err != nil {
				return err
			}
			x.synced(t0, true, true)
		}
	}
	return nil
}

// recheckConversation queues the messages of a conversation, at or below
// its watermark and sent at or after cutoff, that were edited or deleted
// at or after changedAfter. It walks back from the watermark until a whole
// chunk was sent before cutoff (seqs follow send times, give or take
// clock skew between processes).
func (x *Indexer) recheckConversation(ctx context.Context, id string, watermark int64, cutoff, changedAfter time.Time) (int, error) {
	var changed []int64
	for hi := watermark; hi >= 1; hi -= recheckChunk {
		lo := max(1, hi-recheckChunk+1)
		seqs := make([]int64, 0, hi-lo+1)
		for s := lo; s <= hi; s++ {
			seqs = append(seqs, s)
		}
		ms, err := x.cfg.Source.Messages(ctx, id, seqs)
		if err != nil {
			return 0, fmt.Errorf("search: recheck: load messages of %s: %w", id, err)
		}
		newest := time.Time{}
		for s, m := range ms {
			if m.SentAt.After(newest) {
				newest = m.SentAt
			}
			if !m.SentAt.Before(cutoff) && changedSince(m, changedAfter) {
				changed = append(changed, s)
			}
		}
		if newest.Before(cutoff) {
			break
		}
	}
	if len(changed) > 0 {
		x.mu.Lock()
		p := x.conv(id)
		for _, s := range changed {
			p.seqs[s] = true
		}
		x.mu.Unlock()
	}
	return len(changed), nil
}

func changedSince(m storage.Message, t time.Time) bool {
	return (m.EditedAt != nil && !m.EditedAt.Before(t)) || (m.DeletedAt != nil && !m.DeletedAt.Before(t))
}

// recheckUsers queues the users created at or after t: users do not change
// after sign-up, so those are the only ones whose notification can have
// been lost. It reads every user once.
func (x *Indexer) recheckUsers(ctx context.Context, t time.Time) (int, error) {
	n := 0
	after := ""
	for {
		ids, err := x.cfg.Source.UserIDs(ctx, after, scanPage)
		if err != nil {
			return n, fmt.Errorf("search: recheck: list users: %w", err)
		}
		if len(ids) == 0 {
			return n, nil
		}
		us, err := x.cfg.Source.Users(ctx, ids)
		if err != nil {
			return n, fmt.Errorf("search: recheck: load users: %w", err)
		}
		x.mu.Lock()
		for _, u := range us {
			if !u.CreatedAt.Before(t) {
				x.users[u.ID] = true
				n++
			}
		}
		x.mu.Unlock()
		if len(ids) < scanPage {
			return n, nil
		}
		after = ids[len(ids)-1]
	}
}
