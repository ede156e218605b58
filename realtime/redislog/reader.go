package redislog

import (
	"context"
	"errors"
	"fmt"
	"strings"

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

	epoch string           // "" when the epoch key is missing
	msgs  []redis.XMessage // shared by every joiner: read-only
	err   error
	done  chan struct{}
}

// tailKey names the reads that may share one readReq.
func (r *readReq) tailKey() string { return r.stream + "\x00" + r.start }

var errClosed = fmt.Errorf("redislog: %w: log closed", realtime.ErrUnavailable)

// errAbandoned: the read a subscriber joined was never sent (its first
// subscriber left before queueing it); the joiner reads again on its own.
var errAbandoned = errors.New("redislog: shared read abandoned")

// read queues r for the shard's read workers and waits for its result,
// filling r from it. A read of the same stream from the same position that
// is still queued (not yet sent to Redis) is joined instead of queueing
// another: every subscriber of a key that is caught up asks for the same
// range when a notice wakes them, so N local subscribers of one key cost
// about one XRANGE per notice, not N. Only a queued read is joined: one
// already sent may predate the append that woke the joiner.
func (s *shard) read(ctx context.Context, r *readReq) error {
	for {
		shared, err := s.readShared(ctx, r)
		if errors.Is(err, errAbandoned) {
			continue
		}
		if shared != r && err == nil {
			r.epoch, r.msgs = shared.epoch, shared.msgs
		}
		return err
	}
}

// shareReads turns the shared tail off for the before/after benchmark.
var shareReads = true

func (s *shard) readShared(ctx context.Context, r *readReq) (*readReq, error) {
	key := r.tailKey()
	s.pmu.Lock()
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
	s.pmu.Lock()
	for _, r := range batch {
		if k := r.tailKey(); s.pending[k] == r {
			delete(s.pending, k)
		}
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
