package memlog

import (
	"sync"
	"time"

	"messenger/realtime"
)

// entry is one retained event.
type entry struct {
	seq uint64
	at  time.Time
	ev  realtime.Event
}

// userLog is one user's log: its retained events, a window of one array
// that trimming moves forward and makeRoom moves back, and its subscribers.
type userLog struct {
	mu      sync.Mutex
	entries []entry   // the live window of buf
	buf     []entry   // the array entries is a window of, len = cap (makeRoom)
	next    uint64    // seq of the next append; the first event has seq 1
	subs    []*memSub // replaced, never modified in place, so a loop over it survives an end
}

// makeRoom gives l.entries room for one more entry (locked). A log that
// trims keeps its array: the live entries move back to its front, one copy
// per array's worth of appends, and nothing is allocated. Before, append
// grew a fresh array each time trimming had left the window at the end of
// the old one: in a 300-member group at 150 msg/s, a 280 KB allocation
// and copy per member every 1,024 events (≈ 12 MB/s), charged as GC mark
// assists that held a one-core server for 10–13 ms at a time (issue #24).
func (l *userLog) makeRoom() {
	n := len(l.entries)
	// Move back only when the gap in front of the window is at least half
	// of it, so each entry is copied at most twice per array's worth of
	// appends: a window that trims to just under the array's size (a
	// MaxEvents of 1,023 in an array of 1,024) would otherwise be copied
	// whole on every append. Else grow, as append would.
	if gap := len(l.buf) - cap(l.entries); gap > 0 && 2*gap >= n {
		copy(l.buf, l.entries)
		clear(l.buf[n:])
		l.entries = l.buf[:n]
		return
	}
	l.buf = make([]entry, max(2*n, 8))
	copy(l.buf, l.entries)
	l.entries = l.buf[:n]
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

func (l *userLog) first() uint64 {
	if len(l.entries) == 0 {
		return l.next
	}
	return l.entries[0].seq
}
