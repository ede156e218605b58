// Package indexer keeps a search.Index up to date from durable storage:
// the Indexer (bulk writes of what the domain says changed, and the
// catch-up that finds what it was never told of) and Rebuild (a new
// generation of the index from scratch).
package indexer

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"messenger/search"
)

// Config configures an Indexer. Zero values are the documented
// defaults.
type Config struct {
	// Index receives the writes. Required.
	Index search.Index
	// Source is read for the current state of what changed. Required.
	Source Source
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// FlushDelay is how long a change waits for others to share its bulk
	// request (default 50 ms).
	FlushDelay time.Duration
	// BatchSize caps the messages written per bulk request (default 2,000).
	BatchSize int
	// ScanInterval is how often every indexed conversation's LastSeq is
	// compared with its watermark, to find messages whose notification was
	// lost (default 1 min; also run at start and after an outage ends).
	ScanInterval time.Duration
	// MaxBackoff caps the wait between retries while the index is down
	// (default 5 s).
	MaxBackoff time.Duration
	// RecheckWindow is how far before the index was last known to be in
	// sync the catch-up after a restart (or an outage) re-reads messages to
	// find edits and deletes whose notification was lost (default 24 h: the
	// recall window, so every delete for everyone is found). See Indexer.
	RecheckWindow time.Duration
}

// Indexer keeps a search.Index up to date from durable storage. The domain tells
// it what changed (MessagesChanged, MessageHidden, UserChanged): those calls
// only record the change in memory and never block. A worker then reads the
// current state from the store and writes it in bulk, so the index converges
// to the store whatever order notifications arrive in.
//
// Nothing is skipped after an outage or a crash (see catchup.go):
//
//   - New messages: per conversation, the index holds a watermark, the seq
//     up to which every message has been written, and the worker always
//     writes the whole range (watermark, LastSeq]. A scan (at start, after
//     an outage, and every ScanInterval) walks every conversation of the
//     store and queues those whose LastSeq is ahead of their watermark.
//   - Edits and deletes for everyone of older messages: while the index is
//     down they are retried from memory. A restart loses that memory, so
//     the index also records SyncedAt, a time before which every change
//     this process was told of has been written; the scan at start re-reads
//     the messages sent within RecheckWindow (24 h) before it and re-indexes
//     those edited or deleted since. The cost is one read of a day's
//     messages per start; an edit, during an outage and a restart, of a
//     message older than that is found by its new text only after
//     `reindex` (its old text is never shown: see chat.SearchMessages).
//   - Users: users are never changed after sign-up, so the start scan
//     re-indexes the users created since SyncedAt (one read of every user).
//   - An index that was never in sync (SyncedAt zero: new, or set aside as
//     unusable) is rebuilt from the store by the first scan, and
//     Rebuilding says so until that is written (see fresh.go).
//   - Hides (delete for me): the store cannot list who hid what, so a hide
//     lost that way is repaired when the hider's search meets the message
//     (chat.SearchMessages checks every hit against the store and reports
//     the stale ones back through MessageHidden / MessagesChanged).
type Indexer struct {
	cfg  Config
	log  *slog.Logger
	wake chan struct{}
	scan chan struct{}
	// started is when this indexer was made: changes from before then may
	// have been told to a predecessor that died with them.
	started time.Time

	mu      sync.Mutex
	pending map[string]*pendingConv // by conversation id
	users   map[string]bool
	// wm caches watermarks this process read or wrote.
	wm map[string]int64
	// busy counts rounds in flight, for Idle.
	busy int
	sync syncState
	// fresh and freshSince track the rebuild of a never-synced index (see
	// fresh.go).
	fresh      freshState
	freshSince time.Time
}

type pendingConv struct {
	seqs  map[int64]bool // edited or deleted messages (new ones are covered by the tail)
	hides []search.Hide
}

// New returns an Indexer; call Run to start its worker.
func New(cfg Config) (*Indexer, error) {
	if cfg.Index == nil || cfg.Source == nil {
		return nil, errors.New("indexer: Config.Index and Source are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.FlushDelay <= 0 {
		cfg.FlushDelay = 50 * time.Millisecond
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 2000
	}
	if cfg.ScanInterval <= 0 {
		cfg.ScanInterval = time.Minute
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	if cfg.RecheckWindow <= 0 {
		cfg.RecheckWindow = 24 * time.Hour
	}
	x := &Indexer{
		cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1), scan: make(chan struct{}, 1),
		started: time.Now(),
		pending: map[string]*pendingConv{}, users: map[string]bool{}, wm: map[string]int64{},
	}
	// A new process knows nothing of what its predecessor was told: the
	// first scan rechecks from the index's SyncedAt.
	x.sync.recheckDue, x.sync.epoch = true, 1
	return x, nil
}

func (x *Indexer) conv(id string) *pendingConv {
	p := x.pending[id]
	if p == nil {
		p = &pendingConv{seqs: map[int64]bool{}}
		x.pending[id] = p
	}
	return p
}

func (x *Indexer) poke() {
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// MessagesChanged records that messages of a conversation were sent,
// edited or deleted for everyone. It never blocks.
func (x *Indexer) MessagesChanged(conversationID string, seqs ...int64) {
	x.mu.Lock()
	p := x.conv(conversationID)
	for _, s := range seqs {
		p.seqs[s] = true
	}
	x.mu.Unlock()
	x.poke()
}

// MessageHidden records that userID deleted a message for themself. It
// never blocks.
func (x *Indexer) MessageHidden(conversationID string, seq int64, userID string) {
	x.mu.Lock()
	p := x.conv(conversationID)
	p.hides = append(p.hides, search.Hide{Key: search.Key{ConversationID: conversationID, Seq: seq}, UserID: userID})
	x.mu.Unlock()
	x.poke()
}

// UserChanged records that a user was created or changed. It never blocks.
func (x *Indexer) UserChanged(userID string) {
	x.mu.Lock()
	x.users[userID] = true
	x.mu.Unlock()
	x.poke()
}

// Idle reports whether nothing is pending or being written.
func (x *Indexer) Idle() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.pending) == 0 && len(x.users) == 0 && x.busy == 0
}

// Run works until ctx ends: it writes pending changes in bulk and scans for
// missed messages. It returns nil when ctx ends.
func (x *Indexer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		x.scanLoop(ctx)
	}()
	defer wg.Wait()
	backoff := time.Duration(0)
	var failingSince time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-x.wake:
		}
		// Let concurrent changes join this bulk request.
		if !sleep(ctx, x.cfg.FlushDelay) {
			return nil
		}
		for !x.Idle() {
			backlog, err := x.round(ctx)
			if err == nil {
				x.finishFresh()
				if backoff > 0 {
					x.log.Info("search index reachable again; scanning for missed messages")
					x.writesRecovered(time.Since(failingSince))
					x.requestScan()
				}
				backoff = 0
				// Under steady sending, changes arrive while a round is
				// written: they gather for FlushDelay as the first ones did,
				// or every round writes only the few that came during the
				// last (each one a bleve segment to build and merge: most
				// of indexing's CPU per message). A backlog goes on at once.
				if !backlog && !x.Idle() && !sleep(ctx, x.cfg.FlushDelay) {
					return nil
				}
				continue
			}
			if ctx.Err() != nil {
				return nil
			}
			if backoff == 0 {
				failingSince = time.Now()
				x.writesFailing()
			}
			backoff = min(max(2*backoff, 100*time.Millisecond), x.cfg.MaxBackoff)
			x.log.Warn("search indexing failed; will retry", "err", err, "retry_in", backoff)
			if !sleep(ctx, backoff) {
				return nil
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (x *Indexer) requestScan() {
	select {
	case x.scan <- struct{}{}:
	default:
	}
}

func (x *Indexer) scanLoop(ctx context.Context) {
	t := time.NewTicker(x.cfg.ScanInterval)
	defer t.Stop()
	for {
		if err := x.Scan(ctx); err != nil && ctx.Err() == nil {
			x.log.Warn("search catch-up scan failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-x.scan:
		}
	}
}
