// Package memlog is the embedded realtime.Log: each user's events in this
// process's memory, for `go run ./cmd/api` and tests. The fleet's log is
// realtime/redislog; both pass realtime/realtimetest.
package memlog

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"messenger/realtime"
)

var _ realtime.Log = (*Log)(nil)

// Config configures the in-process log. Zero values are the defaults.
type Config struct {
	// MaxEvents is how many events each user's log retains (default 1024).
	MaxEvents int
	// MaxAge is how long an event is retained (default 1 h).
	MaxAge time.Duration
	// SlowAfter is how long a subscriber may leave an event refused before
	// it is dropped with realtime.ErrSlowConsumer (default 5 s).
	SlowAfter time.Duration
}

// Log is the embedded realtime.Log: per-user logs in this process's memory. Its
// cursors carry an epoch chosen at start, so after a restart every old cursor
// gets realtime.ErrCursorExpired instead of silently missing events.
type Log struct {
	cfg    Config
	epoch  string
	shards [64]struct {
		sync.Mutex
		users map[string]*userLog
	}
	done chan struct{}
	once sync.Once
}

// memSub is one subscription. It has no goroutine: appends, signals and
// resume offer it events under its log's lock. It knows its log, so that
// its resume and its context's callback are method values rather than
// closures of their own (an idle subscription holds both).
type memSub struct {
	m       *Log
	l       *userLog
	sink    realtime.Sink
	pos     uint64 // seq of the next event to offer
	waiting bool   // an offer was refused: wait for resume
	ended   bool
	refusal uint64      // counts refusals, so a stale slow timer does nothing
	slow    *time.Timer // running while waiting
	stop    func() bool // unregisters from the subscriber's ctx
}

// New returns an empty in-process log.
func New(cfg Config) *Log {
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = 1024
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = time.Hour
	}
	if cfg.SlowAfter <= 0 {
		cfg.SlowAfter = 5 * time.Second
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	m := &Log{cfg: cfg, epoch: hex.EncodeToString(b), done: make(chan struct{})}
	for i := range m.shards {
		m.shards[i].users = map[string]*userLog{}
	}
	return m
}

func (m *Log) log(userID string) *userLog {
	h := fnv.New32a()
	h.Write([]byte(userID))
	sh := &m.shards[h.Sum32()%uint32(len(m.shards))]
	sh.Lock()
	defer sh.Unlock()
	l, ok := sh.users[userID]
	if !ok {
		l = &userLog{next: 1}
		sh.users[userID] = l
	}
	return l
}

func (m *Log) cursor(seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(m.epoch + "." + strconv.FormatUint(seq, 10)))
}

func (m *Log) parseCursor(c string) (uint64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, realtime.ErrBadCursor
	}
	epoch, n, ok := strings.Cut(string(raw), ".")
	if !ok {
		return 0, realtime.ErrBadCursor
	}
	seq, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return 0, realtime.ErrBadCursor
	}
	if epoch != m.epoch {
		return 0, realtime.ErrCursorExpired
	}
	return seq, nil
}

// Append implements Log.
func (m *Log) Append(ctx context.Context, userIDs []string, e realtime.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	e.Cursor = ""
	for i, u := range userIDs {
		if i%yieldEvery == yieldEvery-1 {
			runtime.Gosched()
		}
		l := m.log(u)
		l.mu.Lock()
		m.add(l, e, now)
		l.mu.Unlock()
	}
	return nil
}

// yieldEvery: an append to many logs lets the rest of the process run
// after each yieldEvery of them (no lock is held between two logs). On one
// core a goroutine keeps it until it blocks or is preempted after ≥ 10 ms,
// and a message's append to 300 members' logs (each offer waking a socket)
// held it for 11–16 ms at a time in a runtime trace of the 300-member group
// scenario, in front of the sockets it had just woken and every other
// request (issue #24).
const yieldEvery = 64

// AppendAt implements Log.
func (m *Log) AppendAt(ctx context.Context, userID string, e realtime.Event) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	l := m.log(userID)
	l.mu.Lock()
	defer l.mu.Unlock()
	c := m.cursor(l.next)
	m.add(l, e, time.Now())
	return c, nil
}

// add appends e to l (locked), trims it and offers it to l's subscribers.
func (m *Log) add(l *userLog, e realtime.Event, now time.Time) {
	e.Cursor = m.cursor(l.next) // once per event, not per subscriber
	if len(l.entries) == cap(l.entries) {
		l.makeRoom()
	}
	l.entries = append(l.entries, entry{seq: l.next, at: now, ev: e})
	l.next++
	drop := max(len(l.entries)-m.cfg.MaxEvents, 0)
	for drop < len(l.entries)-1 && now.Sub(l.entries[drop].at) > m.cfg.MaxAge {
		drop++
	}
	if drop > 0 {
		// Reslicing keeps trimming O(1); makeRoom moves the live entries
		// back to the front of the array when the end is reached.
		clear(l.entries[:drop])
		l.entries = l.entries[drop:]
	}
	for _, s := range l.subs {
		m.feed(l, s)
	}
}

// feed offers s the events of l from its position on, until one is refused
// (locked).
func (m *Log) feed(l *userLog, s *memSub) {
	if s.waiting || s.ended {
		return
	}
	first := l.first()
	if s.pos < first {
		m.end(l, s, realtime.ErrCursorExpired)
		return
	}
	for s.pos < l.next {
		if !s.sink.Offer(l.entries[s.pos-first].ev) {
			s.waiting = true
			s.refusal++
			n := s.refusal
			s.slow = time.AfterFunc(m.cfg.SlowAfter, func() { m.expire(l, s, n) })
			return
		}
		s.pos++
	}
}

// expire drops s if it still has not taken the event it refused (refusal n).
func (m *Log) expire(l *userLog, s *memSub, n uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.waiting && s.refusal == n {
		m.end(l, s, realtime.ErrSlowConsumer)
	}
}

// resume offers s what it refused and what followed.
func (m *Log) resume(l *userLog, s *memSub) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !s.waiting || s.ended {
		return
	}
	s.waiting = false
	s.slow.Stop()
	m.feed(l, s)
}

// end ends s with err (locked); a second end does nothing.
func (m *Log) end(l *userLog, s *memSub, err error) {
	if s.ended {
		return
	}
	s.ended = true
	if s.slow != nil {
		s.slow.Stop()
	}
	if s.stop != nil {
		s.stop()
	}
	subs := make([]*memSub, 0, len(l.subs))
	for _, x := range l.subs {
		if x != s {
			subs = append(subs, x)
		}
	}
	l.subs = subs
	s.sink.End(err)
}

// AppendOnce implements Log.
func (m *Log) AppendOnce(ctx context.Context, userIDs []string, e realtime.Event, since time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.ID == "" {
		return errors.New("realtime: AppendOnce needs an event id")
	}
	now := time.Now()
	e.Cursor = ""
	for _, u := range userIDs {
		l := m.log(u)
		l.mu.Lock()
		if !l.holds(e.ID, since) {
			m.add(l, e, now)
		}
		l.mu.Unlock()
	}
	return nil
}

// Signal implements Log.
func (m *Log) Signal(ctx context.Context, userIDs []string, e realtime.Event) error {
	e.Cursor = ""
	for _, u := range userIDs {
		l := m.log(u)
		l.mu.Lock()
		for _, s := range l.subs {
			if !s.waiting {
				s.sink.Offer(e) // refused: dropped, as signals may be
			}
		}
		l.mu.Unlock()
	}
	return nil
}

// Subscribe implements Log. The backlog after the cursor is offered before
// it returns.
func (m *Log) Subscribe(ctx context.Context, userID, after string, sink realtime.Sink) (func(), error) {
	l := m.log(userID)
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-m.done: // checked under the lock, so Close sees every subscriber
		return nil, realtime.ErrUnavailable
	default:
	}
	pos := l.next
	if after != "" {
		seq, err := m.parseCursor(after)
		if err != nil {
			return nil, err
		}
		if seq >= l.next {
			return nil, fmt.Errorf("%w: cursor is ahead of the log", realtime.ErrBadCursor)
		}
		pos = seq + 1
		if pos < l.first() {
			return nil, realtime.ErrCursorExpired
		}
	}
	if p, ok := sink.(realtime.Placer); ok && after == "" {
		p.Placed(m.cursor(pos - 1)) // pos >= 1: next starts at 1
	}
	s := &memSub{m: m, l: l, sink: sink, pos: pos}
	l.subs = append(l.subs[:len(l.subs):len(l.subs)], s)
	// When ctx is already done, AfterFunc runs at once on its own
	// goroutine, which waits for this lock.
	s.stop = context.AfterFunc(ctx, s.cancelled)
	m.feed(l, s)
	return s.resume, nil
}

// cancelled ends s once its subscriber's ctx is done.
func (s *memSub) cancelled() {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	s.m.end(s.l, s, nil)
}

// resume is the resume Subscribe returns.
func (s *memSub) resume() { s.m.resume(s.l, s) }

// Close implements Log: open subscriptions end with realtime.ErrUnavailable.
func (m *Log) Close() error {
	m.once.Do(func() {
		close(m.done)
		for i := range m.shards {
			sh := &m.shards[i]
			sh.Lock()
			logs := make([]*userLog, 0, len(sh.users))
			for _, l := range sh.users {
				logs = append(logs, l)
			}
			sh.Unlock()
			for _, l := range logs {
				l.mu.Lock()
				for _, s := range l.subs {
					m.end(l, s, realtime.ErrUnavailable)
				}
				l.mu.Unlock()
			}
		}
	})
	return nil
}
