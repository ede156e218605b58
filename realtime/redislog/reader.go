package redislog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"messenger/realtime"
)

// readReq is one read of a stream: its epoch and the entries from start
// (inclusive) on. Reads of many subscribers share one pipeline, and the
// subscribers of one key that read from the same position share one readReq
// (see shard.read): that is the shared tail of a key.
type readReq struct {
	epochKey, stream, start string
	count                   int64
	after                   time.Time // a read sent after this serves the asker

	sentAt time.Time        // when the read left the queue
	epoch  string           // "" when the epoch key is missing
	msgs   []redis.XMessage // shared by every joiner: read-only
	err    error
	done   chan struct{}

	mu      sync.Mutex // guards the decoded entries below
	dec     *batch     // msgs as events, decoded once for every joiner
	decFrom position   // the position dec was decoded from
	decEp   string     // and the epoch its cursors name
}

// batch is entries of a stream as events, with the position of each.
type batch struct {
	evs []realtime.Event
	pos []position
}

// decode turns msgs, the entries after p, into events whose cursors name
// epoch. Their Data is shared by every subscriber the batch is offered to.
func decode(epoch string, p position, msgs []redis.XMessage) batch {
	b := batch{evs: make([]realtime.Event, 0, len(msgs)), pos: make([]position, 0, len(msgs))}
	for _, m := range msgs {
		id, _ := parseID(m.ID)
		p = position{id: id, ord: p.ord + 1}
		typ, _ := m.Values["t"].(string)
		data, _ := m.Values["d"].(string)
		eventID, _ := m.Values["i"].(string)
		b.evs = append(b.evs, realtime.Event{Cursor: cursor(epoch, p), ID: eventID, Type: typ, Data: []byte(data)})
		b.pos = append(b.pos, p)
	}
	return b
}

// decoded is decode(epoch, p, msgs), done once for all the subscribers that
// joined r (they read from the same position, so they agree on p and
// epoch; one that does not gets its own decoding).
func (r *readReq) decoded(epoch string, p position, msgs []redis.XMessage) batch {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dec != nil && r.decFrom == p && r.decEp == epoch {
		return *r.dec
	}
	b := decode(epoch, p, msgs)
	if r.dec == nil {
		r.dec, r.decFrom, r.decEp = &b, p, epoch
	}
	return b
}

// tailKey names the reads that may share one readReq.
func (r *readReq) tailKey() string { return r.stream + "\x00" + r.start }

var errClosed = fmt.Errorf("redislog: %w: log closed", realtime.ErrUnavailable)

// errAbandoned: the read a subscriber joined was never sent (its first
// subscriber left before queueing it); the joiner reads again on its own.
var errAbandoned = errors.New("redislog: shared read abandoned")

// read queues r for the shard's read workers and waits for its result: r
// itself or the read it joined (whose fields are then read-only). A read of the same stream from the same position that
// is still queued (not yet sent to Redis) is joined instead of queueing
// another: every subscriber of a key that is caught up asks for the same
// range when a notice wakes them, so N local subscribers of one key cost
// about one XRANGE per notice, not N. Only a queued read is joined: one
// already sent may predate the append that woke the joiner; but one sent
// after the joiner was woken (r.after) serves it, in flight or done.
func (s *shard) read(ctx context.Context, r *readReq) (*readReq, error) {
	for {
		shared, err := s.readShared(ctx, r)
		if errors.Is(err, errAbandoned) {
			continue
		}
		return shared, err
	}
}

// maxRecent is the size of a shard's map of recent reads at which stale
// ones are first swept out.
const maxRecent = 256

// shareReads turns the shared tail off for the before/after benchmark.
var shareReads = true

func (s *shard) readShared(ctx context.Context, r *readReq) (*readReq, error) {
	key := r.tailKey()
	s.pmu.Lock()
	if q := s.recent[key]; q != nil && q.count == r.count && q.sentAt.After(r.after) && shareReads {
		// A read of the same range, sent after r's subscriber was woken,
		// is in flight or done: it sees whatever woke the subscriber.
		s.pmu.Unlock()
		return s.await(ctx, q)
	}
	q := s.pending[key]
	if q == nil || q.count != r.count || !shareReads {
		q = r
		q.done = make(chan struct{})
		s.pending[key] = q
	}
	s.pmu.Unlock()
	if q == r {
		select {
		case s.reads <- r:
		case <-ctx.Done():
			s.abandon(r)
			return r, ctx.Err()
		case <-s.log.done:
			s.abandon(r)
			return r, errClosed
		}
	}
	return s.await(ctx, q)
}

func (s *shard) await(ctx context.Context, q *readReq) (*readReq, error) {
	select {
	case <-q.done:
		return q, q.err
	case <-ctx.Done():
		return q, ctx.Err()
	case <-s.log.done:
		return q, errClosed
	}
}

// abandon withdraws a read that was never queued; its joiners read again.
func (s *shard) abandon(r *readReq) {
	s.pmu.Lock()
	if s.pending[r.tailKey()] == r {
		delete(s.pending, r.tailKey())
	}
	s.pmu.Unlock()
	r.err = errAbandoned
	close(r.done)
}

// sending closes the batch's reads to joiners: from now on they may predate
// an append.
func (s *shard) sending(batch []*readReq) {
	now := time.Now()
	s.pmu.Lock()
	if len(s.recent) > s.recentCap {
		// Drop the reads too old to serve anyone (a poll takes one sent
		// up to PollInterval/4 before it); sweep again at twice the rest.
		old := now.Add(-s.log.cfg.PollInterval / 4)
		for k, r := range s.recent {
			if r.sentAt.Before(old) {
				delete(s.recent, k)
			}
		}
		s.recentCap = max(maxRecent, 2*len(s.recent))
	}
	for _, r := range batch {
		r.sentAt = now
		k := r.tailKey()
		if s.pending[k] == r {
			delete(s.pending, k)
		}
		s.recent[k] = r
	}
	s.pmu.Unlock()
}

// readLoop sends the queued reads as pipelines of up to readBatch reads.
func (s *shard) readLoop() {
	batch := make([]*readReq, 0, readBatch)
	for {
		select {
		case r := <-s.reads:
			batch = append(batch[:0], r)
		case <-s.log.done:
			return
		}
	fill:
		for len(batch) < readBatch {
			select {
			case r := <-s.reads:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.sending(batch)
		s.execReads(batch)
	}
}

func (s *shard) execReads(batch []*readReq) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*s.log.cfg.Timeout)
	defer cancel()
	gets := make([]*redis.StringCmd, len(batch))
	ranges := make([]*redis.XMessageSliceCmd, len(batch))
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range batch {
			gets[i] = p.Get(ctx, r.epochKey)
			ranges[i] = p.XRangeN(ctx, r.stream, r.start, "+", r.count)
		}
		return nil
	})
	for i, r := range batch {
		r.epoch, r.err = gets[i].Result()
		if errors.Is(r.err, redis.Nil) {
			r.epoch, r.err = "", nil
		}
		if r.err == nil {
			r.msgs, r.err = ranges[i].Result()
		}
		if r.err != nil {
			r.err = unavailable(ctx, "read "+r.stream, r.err)
		}
		close(r.done)
	}

}

// streamState is what XINFO STREAM tells about a stream, read atomically
// with the epoch.
type streamState struct {
	length  int64
	added   int64 // entries-added: entries ever appended
	last    streamID
	first   streamID // meaningful when length > 0
	missing bool
}

func stateOf(cmd *redis.XInfoStreamCmd) (streamState, error) {
	info, err := cmd.Result()
	if err != nil {
		var re redis.Error
		if errors.As(err, &re) && strings.Contains(err.Error(), "no such key") {
			return streamState{missing: true}, nil
		}
		return streamState{}, err
	}
	st := streamState{length: info.Length, added: info.EntriesAdded}
	var ok bool
	if st.last, ok = parseID(info.LastGeneratedID); !ok {
		return st, fmt.Errorf("redislog: XINFO STREAM: last-generated-id %q", info.LastGeneratedID)
	}
	if st.length > 0 {
		if st.first, ok = parseID(info.FirstEntry.ID); !ok {
			return st, fmt.Errorf("redislog: XINFO STREAM: first entry %q", info.FirstEntry.ID)
		}
	}
	return st, nil
}

// gap tells whether events after p are missing from the stream. Trimming
// drops the oldest entries only, so the entries after the ord-th are all
// there iff no more than ord entries were ever dropped. A position past the
// end of the stream means the stream lost entries it had given out.
func (st streamState) gap(p position) error {
	switch {
	case p.ord > st.added || st.last.less(p.id):
		return fmt.Errorf("%w: the stream lost events after this cursor", realtime.ErrCursorExpired)
	case st.added-st.length > p.ord:
		return fmt.Errorf("%w: events after this cursor were trimmed", realtime.ErrCursorExpired)
	}
	return nil
}
