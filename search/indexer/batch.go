package indexer

import (
	"context"
	"fmt"
	"sort"
	"time"

	"messenger/search"
)

// The worker reads what changed from the store in the API's own process,
// about 10 µs per message (a read and a JSON decode): a round of 2,000 is
// 20 ms of computing. With one core (GOMAXPROCS=1) that holds back every
// request and delivery that arrives meanwhile, because the Go scheduler
// looks for ready network connections only when it runs out of runnable
// goroutines or every 10 ms. So the worker reads at most readChunk
// messages per store call and, after readSlice of reading, parks for
// readPause: parking, however briefly, lets the scheduler poll the network
// and run what is waiting first. On an idle process a park lasts about a
// millisecond (the poller's granularity), so a catch-up reads at about half
// speed, while the index's own work, which follows each round, is unchanged.
// Measured in docs/BENCHMARKS.md (session 13).
const (
	readChunk = 64
	readSlice = time.Millisecond
	readPause = 50 * time.Microsecond
)

// take removes up to about BatchSize messages' worth of pending work;
// backlog reports that more was left pending than one round takes.
func (x *Indexer) take() (convs map[string]*pendingConv, users []string, backlog bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	convs = map[string]*pendingConv{}
	budget := x.cfg.BatchSize
	for id, p := range x.pending {
		if budget <= 0 {
			backlog = true
			break
		}
		convs[id] = p
		delete(x.pending, id)
		budget -= 1 + len(p.seqs) + len(p.hides)
	}
	for id := range x.users {
		if len(users) == x.cfg.BatchSize {
			backlog = true
			break
		}
		users = append(users, id)
		delete(x.users, id)
	}
	x.busy++
	return convs, users, backlog
}

// putBack returns work that could not be written.
func (x *Indexer) putBack(convs map[string]*pendingConv, users []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for id, p := range convs {
		q := x.conv(id)
		for s := range p.seqs {
			q.seqs[s] = true
		}
		q.hides = append(p.hides, q.hides...)
	}
	for _, u := range users {
		x.users[u] = true
	}
}

// round writes one bulk request's worth of pending work; backlog reports
// that it left work for a full round more (a catch-up, a long tail).
func (x *Indexer) round(ctx context.Context) (backlog bool, err error) {
	t0 := time.Now()
	convs, users, backlog := x.take()
	synced, write := x.syncCandidate(t0)
	defer func() {
		if err != nil {
			x.putBack(convs, users)
		}
		x.mu.Lock()
		x.busy--
		x.mu.Unlock()
	}()
	b, more, err := x.batch(ctx, convs, users)
	if err != nil {
		return false, err
	}
	if synced && write {
		b.SyncedAt = t0
	}
	if !b.Empty() {
		if err := x.cfg.Index.Apply(ctx, b); err != nil {
			return false, err
		}
	}
	x.synced(t0, synced, synced && write)
	x.mu.Lock()
	for c, w := range b.Watermarks {
		x.wm[c] = w
	}
	for _, c := range more {
		x.conv(c) // the rest of a long tail goes in the next round
	}
	x.mu.Unlock()
	if len(more) > 0 {
		x.poke()
	}
	return backlog || len(more) > 0, nil
}

// batch reads the current state of the pending work from the store.
func (x *Indexer) batch(ctx context.Context, convs map[string]*pendingConv, users []string) (search.Batch, []string, error) {
	var b search.Batch
	ids := make([]string, 0, len(convs))
	for id := range convs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	wms, err := x.watermarks(ctx, ids)
	if err != nil {
		return b, nil, err
	}
	stored, err := x.cfg.Source.Conversations(ctx, ids)
	if err != nil {
		return b, nil, fmt.Errorf("search: load conversations: %w", err)
	}
	budget := x.cfg.BatchSize
	var more []string
	slice := time.Now() // when the worker last parked
	for _, id := range ids {
		p, c := convs[id], stored[id]
		w := wms[id]
		hi := min(c.LastSeq, w+int64(max(budget, 100)))
		if hi < c.LastSeq {
			more = append(more, id)
		}
		var seqs []int64
		for s := w + 1; s <= hi; s++ {
			seqs = append(seqs, s)
		}
		for s := range p.seqs {
			if s <= w {
				seqs = append(seqs, s)
			}
		}
		budget -= len(seqs)
		for len(seqs) > 0 {
			if time.Since(slice) >= readSlice {
				time.Sleep(readPause)
				slice = time.Now()
			}
			n := min(len(seqs), readChunk)
			ms, err := x.cfg.Source.Messages(ctx, id, seqs[:n])
			if err != nil {
				return b, nil, fmt.Errorf("search: load messages of %s: %w", id, err)
			}
			for _, s := range seqs[:n] {
				m, ok := ms[s]
				if !ok || m.DeletedAt != nil {
					b.Deletes = append(b.Deletes, search.Key{ConversationID: id, Seq: s})
					continue
				}
				b.Upserts = append(b.Upserts, search.Message{ConversationID: id, Seq: s, SenderID: m.SenderID, Body: m.Body, SentAt: m.SentAt})
			}
			seqs = seqs[n:]
		}
		b.Hides = append(b.Hides, p.hides...)
		if hi > w {
			if b.Watermarks == nil {
				b.Watermarks = map[string]int64{}
			}
			b.Watermarks[id] = hi
		}
	}
	if len(users) > 0 {
		us, err := x.cfg.Source.Users(ctx, users)
		if err != nil {
			return b, nil, fmt.Errorf("search: load users: %w", err)
		}
		for _, u := range us {
			if !u.DeletedAt.IsZero() {
				u.Username, u.DisplayName = "", "" // search forgets a deleted account
			}
			b.Users = append(b.Users, search.User{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName})
		}
	}
	return b, more, nil
}

// watermarks returns the watermarks of ids, from the cache or the index.
func (x *Indexer) watermarks(ctx context.Context, ids []string) (map[string]int64, error) {
	out := make(map[string]int64, len(ids))
	var missing []string
	x.mu.Lock()
	for _, id := range ids {
		if w, ok := x.wm[id]; ok {
			out[id] = w
		} else {
			missing = append(missing, id)
		}
	}
	x.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := x.cfg.Index.Watermarks(ctx, missing)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	for _, id := range missing {
		out[id] = got[id]
		x.wm[id] = got[id]
	}
	x.mu.Unlock()
	return out, nil
}
