package chat

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"messenger/fault"
	"messenger/realtime"
)

// One subscription, several logs (docs/large-groups.md): my own log plus
// the stream of each streamed conversation I am in. Each is one
// Log.Subscribe whose sink (keySub) merges into the subscription's one out
// channel under the stream's lock, with the cursor of everything handed
// out so far (compositeCursor) stamped on each event. A refused offer
// leaves its key's refused flag set, and Taken resumes every refused key.
// A pointer read in my own log (StreamPointer) starts reading its stream
// from its position; my own MemberLeft read in a stream stops reading it
// right after that event.

// stream is a subscription: the sinks of its keys feed it.
type stream struct {
	s  *Service
	me string
	// presence: the handle of my connection, once online; the stream may
	// end before that (its ctx ended at once), and then goes offline then.
	mu       sync.Mutex
	handle   string
	isOnline bool
	ended    bool

	out chan Event
	r   Receiver
	// ctx is what the keys read in. With conversation streams to read
	// from the start it is a context of the stream's, so that one key's
	// failure ends the others (cancel); else it is the caller's ctx
	// itself and cancel is nil: most users read no stream, and their idle
	// subscription then adds no context (with its done channel and its
	// entry in the parent's children) to the caller's. See release.
	ctx    context.Context
	cancel context.CancelFunc

	// emu orders the offers of every key, and guards what follows.
	emu sync.Mutex
	// cur.Streams is nil until a stream has a position: most users are in
	// no streamed conversation, and an idle subscription keeps no map.
	cur       compositeCursor
	composite bool // hand out composite cursors (else cur.Own alone)
	// own reads my own log, in st.ctx itself: it ends only with the
	// stream, so it needs no context of its own. Part of the stream: one
	// allocation.
	own keySub
	// keys are the streams read, by conversation id (nil while none);
	// each has a context of its own, as it may be stopped alone.
	keys   map[string]*keySub
	closed bool
	final  error // set before out is closed
	// placed is closed when my own log's position marker (hereID) is
	// read: see placeOwn.
	hereID string
	placed chan struct{}
}

// keySub is the sink of one key of a stream.
type keySub struct {
	st   *stream
	conv string // "" = my own log
	ctx  context.Context
	stop context.CancelFunc // nil for my own log: it ends with the stream (see release)
	// fresh: read from now (the client's cursor had no position in it).
	// It starts only once my own log's backlog is read (placeOwn), so a
	// pointer in that backlog replaces it by a key at the pointer's
	// position before it hands out anything; a pointer read later (a
	// join after the subscription started) moves its start back there.
	fresh   bool
	stopped bool   // under st.emu
	resume  func() // under st.emu; nil until Subscribe returned
	refused atomic.Bool
}

func (k *keySub) Offer(ev realtime.Event) bool { return k.st.offer(k, ev) }
func (k *keySub) Placed(cursor string)         { k.st.setStart(k, cursor) }
func (k *keySub) End(err error)                { k.st.endKey(k, err) }

// openStream subscribes to my own log after cur.Own and to the stream of
// each conversation of cur.Streams after its position, and of fresh from
// now.
func (s *Service) openStream(ctx context.Context, me string, cur compositeCursor, fresh []string, composite bool, r Receiver) (*stream, error) {
	st := &stream{s: s, me: me, out: make(chan Event, subscriptionBuffer), r: r, ctx: ctx,
		cur: compositeCursor{Own: cur.Own}, composite: composite}
	var starts map[string]string
	if n := len(cur.Streams) + len(fresh); n > 0 {
		starts = make(map[string]string, n)
		st.ctx, st.cancel = context.WithCancel(ctx)
		ctx = st.ctx
	}
	st.own = keySub{st: st, ctx: ctx}
	own := &st.own
	for id, pos := range cur.Streams {
		st.setStreamPos(id, pos)
		starts[id] = pos
	}
	for _, id := range fresh {
		starts[id] = ""
	}
	// Every stream key is known before my own log is read, so that a
	// pointer in it to one of them is not followed twice.
	st.emu.Lock()
	ks := make(map[string]*keySub, len(starts))
	for id, pos := range starts {
		ks[id] = st.newKey(id, pos == "")
	}
	st.emu.Unlock()
	if err := st.subscribe(own, cur.Own); err != nil {
		st.abandon()
		return nil, err
	}
	// Streams with a position start at once. Streams read from now wait
	// until my own log's backlog is read when there is one (a cursor): a
	// pointer in it starts its stream at the pointer's position instead,
	// so nothing of that stream is handed out before the backlog's
	// events, and nothing twice.
	backlog := cur.Own != "" && len(fresh) > 0
	st.emu.Lock()
	unplaced := st.cur.Own == "" // (the log did not tell where it started)
	st.emu.Unlock()
	if (composite && unplaced) || backlog {
		st.placeOwn(ctx)
	}
	for id, k := range ks {
		st.emu.Lock()
		replaced := k.stopped
		st.emu.Unlock()
		if replaced {
			continue // a pointer in the backlog started it at its position
		}
		if err := st.subscribe(k, starts[id]); err != nil {
			st.abandon()
			return nil, err
		}
	}
	return st, nil
}

// newKey registers the key of a conversation's stream (under st.emu).
func (st *stream) newKey(conv string, fresh bool) *keySub {
	k := &keySub{st: st, conv: conv, fresh: fresh}
	k.ctx, k.stop = context.WithCancel(st.ctx)
	if st.keys == nil {
		st.keys = map[string]*keySub{}
	}
	st.keys[conv] = k
	return k
}

// key is the key currently reading conv ("" = my own log), or nil (under
// st.emu).
func (st *stream) key(conv string) *keySub {
	if conv == "" {
		return &st.own
	}
	return st.keys[conv]
}

// setStreamPos records the position in a conversation's stream (under
// st.emu, or before the stream is shared).
func (st *stream) setStreamPos(conv, c string) {
	if st.cur.Streams == nil {
		st.cur.Streams = map[string]string{}
	}
	st.cur.Streams[conv] = c
}

// subscribe reads k's log after pos ("" = from now).
func (st *stream) subscribe(k *keySub, pos string) error {
	key := st.me
	if k.conv != "" {
		key = StreamKey(k.conv)
	}
	resume, err := st.s.log.Subscribe(k.ctx, key, pos, k)
	if err != nil {
		return subscribeError(err)
	}
	st.emu.Lock()
	k.resume = resume
	st.emu.Unlock()
	if k.refused.CompareAndSwap(true, false) {
		resume() // refused before resume was known
	}
	return nil
}

// cursor is what the client resumes from (under st.emu).
func (st *stream) cursor() string {
	if !st.composite {
		return st.cur.Own
	}
	c := compositeCursor{Own: st.cur.Own}
	for id, pos := range st.cur.Streams {
		if pos != "" {
			if c.Streams == nil {
				c.Streams = map[string]string{}
			}
			c.Streams[id] = pos
		}
	}
	return c.String()
}

func (st *stream) offer(k *keySub, ev realtime.Event) bool {
	e := st.s.decoded.decode(ev)
	if e == nil {
		st.s.cfg.Logger.Error("undecodable event skipped", "type", ev.Type)
		return true
	}
	st.emu.Lock()
	defer st.emu.Unlock()
	if st.closed || k.stopped {
		return st.keepsOffering(k)
	}
	if ev.Cursor == "" { // a signal: no position
		mine := withCursor(e, "")
		if !realtime.TrySend(st.out, mine, &k.refused) {
			return false
		}
		st.r.Ready(mine)
		return true
	}
	if internalEvent(e) {
		st.setPos(k, ev.Cursor)
		if k.conv == "" && st.hereID != "" && ev.ID == st.hereID {
			st.hereID = ""
			close(st.placed)
		}
		if p, ok := e.(*StreamPointer); ok && k.conv == "" {
			st.follow(p)
		}
		return true
	}
	prev := st.pos(k)
	st.setPos(k, ev.Cursor)
	mine := withCursor(e, st.cursor())
	if !realtime.TrySend(st.out, mine, &k.refused) {
		st.setPos(k, prev)
		return false
	}
	st.r.Ready(mine)
	if left, ok := e.(*MemberLeft); ok && k.conv != "" && left.UserID == st.me {
		st.stopKey(k) // nothing after my leaving reaches me
	}
	if _, ok := e.(*ConversationDeleted); ok && k.conv != "" {
		st.stopKey(k) // the group is gone: its stream has nothing more for me
	}
	return true
}

// setStart gives a key read from now its start position, so the cursors
// handed out name it before the key's first event: a client that leaves
// before then resumes that log exactly, not from a later "now".
func (st *stream) setStart(k *keySub, c string) {
	st.emu.Lock()
	defer st.emu.Unlock()
	if st.closed || k.stopped || st.key(k.conv) != k || st.pos(k) != "" {
		return
	}
	st.setPos(k, c)
}

func (st *stream) pos(k *keySub) string {
	if k.conv == "" {
		return st.cur.Own
	}
	return st.cur.Streams[k.conv]
}

func (st *stream) setPos(k *keySub, c string) {
	if k.conv == "" {
		st.cur.Own = c
		return
	}
	st.setStreamPos(k.conv, c)
}

// follow starts reading the stream p points to, from its position, unless
// it is read already (under st.emu). The subscribe runs on a goroutine of
// its own: a sink may not call into the log.
func (st *stream) follow(p *StreamPointer) {
	if k, ok := st.keys[p.ConversationID]; ok {
		if !k.fresh {
			return
		}
		st.stopKey(k) // read from now: start at the pointer
	}
	st.composite = true
	st.setStreamPos(p.ConversationID, p.Position)
	k := st.newKey(p.ConversationID, false)
	go func() {
		if err := st.subscribe(k, p.Position); err != nil {
			st.keyFailed(k, err)
		}
	}()
}

// stopKey stops reading k (under st.emu).
func (st *stream) stopKey(k *keySub) {
	k.stopped = true
	if st.keys[k.conv] == k {
		delete(st.keys, k.conv)
		delete(st.cur.Streams, k.conv)
	}
	k.stop()
}

// keyFailed ends the stream when a followed key could not be read.
func (st *stream) keyFailed(k *keySub, err error) {
	var f *fault.Error
	if !errors.As(err, &f) {
		err = realtime.ErrUnavailable
	} else if f.Code == fault.CursorExpired {
		err = realtime.ErrCursorExpired
	}
	st.endKey(k, err)
}

// taken resumes every key whose offer was refused.
func (st *stream) taken() {
	st.emu.Lock()
	var rs []func()
	if k := &st.own; k.resume != nil && k.refused.CompareAndSwap(true, false) {
		rs = append(rs, k.resume)
	}
	for _, k := range st.keys {
		if k.resume != nil && k.refused.CompareAndSwap(true, false) {
			rs = append(rs, k.resume)
		}
	}
	st.emu.Unlock()
	for _, r := range rs {
		r()
	}
}

// placeOwn appends a position marker to my own log and waits until it is
// read back, so everything before it (a resumed backlog) has been read. A
// subscription from now gets a position in my own log that way before its
// streams are read: without it a cursor handed out before any event of my
// own log would resume that log from now, missing what it got meanwhile.
// If the marker is not read in time the subscription goes on without it.
func (st *stream) placeOwn(ctx context.Context) {
	ev, err := encode(&StreamStarted{})
	if err != nil {
		return
	}
	ev.ID = newEventID()
	st.emu.Lock()
	st.hereID, st.placed = ev.ID, make(chan struct{})
	placed := st.placed
	st.emu.Unlock()
	if err := st.s.log.Append(ctx, []string{st.me}, ev); err != nil {
		st.s.cfg.Logger.Warn("subscription without a position in its own log", "user", st.me, "err", err)
		return
	}
	t := time.NewTimer(streamStartPatience)
	defer t.Stop()
	select {
	case <-placed:
	case <-t.C:
		st.s.cfg.Logger.Warn("subscription without a position in its own log", "user", st.me, "err", "marker not read in time")
	case <-ctx.Done():
	}
}
