package redislog

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"messenger/realtime"
)

// readReq is one subscriber's read: its stream's epoch and the entries from
// start (inclusive) on. Reads of many subscribers share one pipeline.
type readReq struct {
	epochKey, stream, start string
	count                   int64

	epoch string // "" when the epoch key is missing
	msgs  []redis.XMessage
	err   error
	done  chan struct{}
}

var errClosed = fmt.Errorf("redislog: %w: log closed", realtime.ErrUnavailable)

// read queues r for the shard's read workers and waits for its result.
func (s *shard) read(ctx context.Context, r *readReq) error {
	r.done = make(chan struct{})
	select {
	case s.reads <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.log.done:
		return errClosed
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	case <-s.log.done:
		return errClosed
	}
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
