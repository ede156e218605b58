package realtime

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"time"
)

var _ Log = (*Memory)(nil)

// MemoryConfig configures the in-process log. Zero values are the defaults.
type MemoryConfig struct {
	// MaxEvents is how many events each user's log retains (default 1024).
	MaxEvents int
	// MaxAge is how long an event is retained (default 1 h).
	MaxAge time.Duration
	// Buffer is how many events may wait for one subscriber (default 8:
	// the pump refills it as the subscriber reads, so a larger buffer only
	// costs memory per idle subscription).
	Buffer int
	// SlowAfter is how long a subscriber may leave its buffer full before it
	// is dropped with ErrSlowConsumer (default 5 s).
	SlowAfter time.Duration
}

// Memory is the embedded Log: per-user logs in this process's memory. Its
// cursors carry an epoch chosen at start, so after a restart every old cursor
// gets ErrCursorExpired instead of silently missing events.
type Memory struct {
	cfg    MemoryConfig
	epoch  string
	shards [64]struct {
		sync.Mutex
		users map[string]*userLog
	}
	done chan struct{}
	once sync.Once
}

type entry struct {
	seq uint64
	at  time.Time
	ev  Event
}

type userLog struct {
	mu      sync.Mutex
	entries []entry
	next    uint64        // seq of the next append; the first event has seq 1
	wake    chan struct{} // closed and replaced by an append when armed
	armed   bool          // a reader holds wake: the next append must close it
	subs    map[*memSub]struct{}
}

type memSub struct {
	signals chan Event
}

// NewMemory returns an empty in-process log.
func NewMemory(cfg MemoryConfig) *Memory {
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = 1024
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = time.Hour
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 8
	}
	if cfg.SlowAfter <= 0 {
		cfg.SlowAfter = 5 * time.Second
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	m := &Memory{cfg: cfg, epoch: hex.EncodeToString(b), done: make(chan struct{})}
	for i := range m.shards {
		m.shards[i].users = map[string]*userLog{}
	}
	return m
}

func (m *Memory) log(userID string) *userLog {
	h := fnv.New32a()
	h.Write([]byte(userID))
	sh := &m.shards[h.Sum32()%uint32(len(m.shards))]
	sh.Lock()
	defer sh.Unlock()
	l, ok := sh.users[userID]
	if !ok {
		l = &userLog{next: 1, wake: make(chan struct{}), subs: map[*memSub]struct{}{}}
		sh.users[userID] = l
	}
	return l
}

func (m *Memory) cursor(seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(m.epoch + "." + strconv.FormatUint(seq, 10)))
}

func (m *Memory) parseCursor(c string) (uint64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, ErrBadCursor
	}
	epoch, n, ok := strings.Cut(string(raw), ".")
	if !ok {
		return 0, ErrBadCursor
	}
	seq, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return 0, ErrBadCursor
	}
	if epoch != m.epoch {
		return 0, ErrCursorExpired
	}
	return seq, nil
}

// Append implements Log.
func (m *Memory) Append(ctx context.Context, userIDs []string, e Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	e.Cursor = ""
	for _, u := range userIDs {
		l := m.log(u)
		l.mu.Lock()
		m.add(l, e, now)
		l.mu.Unlock()
	}
	return nil
}

// add appends e to l (locked), trims it and wakes its waiting reader.
func (m *Memory) add(l *userLog, e Event, now time.Time) {
	l.entries = append(l.entries, entry{seq: l.next, at: now, ev: e})
	l.next++
	drop := max(len(l.entries)-m.cfg.MaxEvents, 0)
	for drop < len(l.entries)-1 && now.Sub(l.entries[drop].at) > m.cfg.MaxAge {
		drop++
	}
	if drop > 0 {
		// Reslicing keeps trimming O(1); append copies only the live
		// entries when it next grows the array.
		clear(l.entries[:drop])
		l.entries = l.entries[drop:]
	}
	if l.armed { // no waiter, no wake-up to pay for
		close(l.wake)
		l.wake = make(chan struct{})
		l.armed = false
	}
}

// AppendOnce implements Log.
func (m *Memory) AppendOnce(ctx context.Context, userIDs []string, e Event, since time.Time) error {
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

// holds reports whether the log retains an event with this id appended at or
// after since. It scans from the newest entry back: replays are rare and
// look for recent events.
func (l *userLog) holds(id string, since time.Time) bool {
	for i := len(l.entries) - 1; i >= 0 && !l.entries[i].at.Before(since); i-- {
		if l.entries[i].ev.ID == id {
			return true
		}
	}
	return false
}

// Signal implements Log.
func (m *Memory) Signal(ctx context.Context, userIDs []string, e Event) error {
	e.Cursor = ""
	for _, u := range userIDs {
		l := m.log(u)
		l.mu.Lock()
		for s := range l.subs {
			select {
			case s.signals <- e:
			default: // a subscriber that is not keeping up loses signals, never blocks us
			}
		}
		l.mu.Unlock()
	}
	return nil
}

// Subscribe implements Log.
func (m *Memory) Subscribe(ctx context.Context, userID, after string) (<-chan Event, func() error, error) {
	l := m.log(userID)
	l.mu.Lock()
	pos := l.next
	if after != "" {
		seq, err := m.parseCursor(after)
		if err != nil {
			l.mu.Unlock()
			return nil, nil, err
		}
		if seq >= l.next {
			l.mu.Unlock()
			return nil, nil, fmt.Errorf("%w: cursor is ahead of the log", ErrBadCursor)
		}
		pos = seq + 1
		if pos < l.first() {
			l.mu.Unlock()
			return nil, nil, ErrCursorExpired
		}
	}
	sub := &memSub{signals: make(chan Event, 4)} // signals beyond this are dropped, as allowed
	l.subs[sub] = struct{}{}
	l.mu.Unlock()

	ch := make(chan Event, m.cfg.Buffer)
	var (
		errMu  sync.Mutex
		result error
	)
	go func() {
		defer close(ch)
		err := m.pump(ctx, l, sub, pos, ch)
		l.mu.Lock()
		delete(l.subs, sub)
		l.mu.Unlock()
		errMu.Lock()
		result = err
		errMu.Unlock()
	}()
	return ch, func() error {
		errMu.Lock()
		defer errMu.Unlock()
		return result
	}, nil
}

func (l *userLog) first() uint64 {
	if len(l.entries) == 0 {
		return l.next
	}
	return l.entries[0].seq
}

// pump copies events from the log to ch, from seq pos on, until ctx ends.
func (m *Memory) pump(ctx context.Context, l *userLog, sub *memSub, pos uint64, ch chan<- Event) error {
	var batch []entry
	for {
		l.mu.Lock()
		if pos < l.first() {
			l.mu.Unlock()
			return ErrCursorExpired
		}
		batch = append(batch[:0], l.entries[pos-l.first():]...)
		wake := l.wake
		l.armed = true
		l.mu.Unlock()

		for _, e := range batch {
			ev := e.ev
			ev.Cursor = m.cursor(e.seq)
			if err := m.send(ctx, ch, ev); err != nil {
				return err
			}
			pos = e.seq + 1
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-wake:
		case s := <-sub.signals:
			if err := m.send(ctx, ch, s); err != nil {
				return err
			}
		case <-ctx.Done():
			return nil
		case <-m.done:
			return ErrUnavailable
		}
	}
}

// send delivers ev unless the subscriber has left its buffer full for longer
// than SlowAfter: a slow reader is dropped rather than slowing anyone else.
func (m *Memory) send(ctx context.Context, ch chan<- Event, ev Event) error {
	select {
	case ch <- ev:
		return nil
	default:
	}
	t := time.NewTimer(m.cfg.SlowAfter)
	defer t.Stop()
	select {
	case ch <- ev:
		return nil
	case <-ctx.Done():
		return nil
	case <-m.done:
		return ErrUnavailable
	case <-t.C:
		return ErrSlowConsumer
	}
}

// Close implements Log: open subscriptions end with ErrUnavailable.
func (m *Memory) Close() error {
	m.once.Do(func() { close(m.done) })
	return nil
}
