package redislog

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"messenger/realtime"
)

// sub is one subscription: a goroutine that reads its user's stream when
// woken (or on its poll timer) and offers the entries to sink.
type sub struct {
	l                        *Log
	s                        *shard
	user                     *localUser
	stream, epochKey, chanID string

	epoch string
	pos   position

	wake    chan struct{}       // a notice or an outage: read now
	signals chan realtime.Event // signals for this user, dropped when full
	resumed chan struct{}       // the sink has room again
	sink    realtime.Sink
}

// errStopped: the subscriber's context ended; not an error for errf.
var errStopped = errors.New("redislog: subscription context ended")

// retryDelay is the pause between failed reads during an outage.
const retryDelay = 200 * time.Millisecond

// Subscribe implements realtime.Log. It returns once the user's notice
// channel is subscribed on this instance (or Timeout passed, the poll then
// covering the gap) and the start position is fixed.
func (l *Log) Subscribe(ctx context.Context, userID, after string, sink realtime.Sink) (func(), error) {
	var (
		wantEpoch string
		from      position
	)
	if after != "" {
		var err error
		if wantEpoch, from, err = parseCursor(after); err != nil {
			return nil, err
		}
	}
	if l.closed() {
		return nil, errClosed
	}
	s := l.shardOf(userID)
	sb := &sub{
		l: l, s: s,
		stream: l.streamKey(userID), epochKey: l.epochKey(userID), chanID: l.channel(userID),
		wake:    make(chan struct{}, 1),
		signals: make(chan realtime.Event, 16),
		resumed: make(chan struct{}, 1),
		sink:    sink,
	}
	live, err := l.register(ctx, sb)
	if err != nil {
		return nil, unavailable(ctx, "subscribe "+userID, err)
	}
	// Fix the start only once notices reach us: an append after this point
	// wakes the subscriber instead of waiting for its poll.
	t := time.NewTimer(l.cfg.Timeout)
	select {
	case <-live:
	case <-t.C:
	case <-ctx.Done():
	}
	t.Stop()
	if err := sb.start(ctx, wantEpoch, from, after != ""); err != nil {
		l.unregister(sb)
		return nil, err
	}
	if p, ok := sink.(realtime.Placer); ok && after == "" {
		p.Placed(cursor(sb.epoch, sb.pos))
	}
	go func() {
		err := sb.run(ctx)
		l.unregister(sb)
		sink.End(err)
	}()
	return func() { poke(sb.resumed) }, nil
}

// start fixes the subscriber's epoch and position: the stream's end for a
// new subscription, the cursor's position (checked for a reset, trimming
// or loss) for a resumed one. The epoch is created here if the stream has
// none yet, so every cursor handed out names one.
func (sb *sub) start(ctx context.Context, wantEpoch string, from position, resume bool) error {
	var (
		get  *redis.StringCmd
		info *redis.XInfoStreamCmd
	)
	_, err := sb.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SetNX(ctx, sb.epochKey, newEpoch(), 0)
		get = p.Get(ctx, sb.epochKey)
		info = p.XInfoStream(ctx, sb.stream)
		return nil
	})
	if get == nil || get.Err() != nil {
		if get != nil {
			err = get.Err()
		}
		return unavailable(ctx, "subscribe "+sb.stream, err)
	}
	st, err := stateOf(info)
	if err != nil {
		return unavailable(ctx, "subscribe "+sb.stream, err)
	}
	sb.epoch = get.Val()
	if !resume {
		sb.pos = position{id: st.last, ord: st.added}
		return nil
	}
	if wantEpoch != sb.epoch {
		return fmt.Errorf("%w: the stream was reset", realtime.ErrCursorExpired)
	}
	if err := st.gap(from); err != nil {
		return err
	}
	sb.pos = from
	return nil
}

func (sb *sub) run(ctx context.Context) error {
	cfg := sb.l.cfg
	poll := time.NewTimer(jitter(cfg.PollInterval))
	defer poll.Stop()
	var failingSince time.Time
	polled := false // woken by the poll timer, not by a notice
	for {
		// A notice's read must be sent after it arrived; a poll, the net
		// for lost notices, may take a read of the range that another
		// subscriber of the key sent in the last quarter interval.
		since := time.Now()
		if polled {
			since = since.Add(-cfg.PollInterval / 4)
		}
		polled = false
		got, more, err := sb.fetch(ctx, since)
		switch {
		case err == nil:
			failingSince = time.Time{}
		case ctx.Err() != nil:
			return nil
		case sb.l.closed():
			return errClosed
		case errors.Is(err, realtime.ErrCursorExpired):
			return err
		default:
			if failingSince.IsZero() {
				failingSince = time.Now()
			}
			if time.Since(failingSince) >= cfg.OutageGrace {
				return err
			}
			if err := sb.pause(ctx, retryDelay); err != nil {
				return stopErr(err)
			}
			continue
		}
		for i, ev := range got.evs {
			sb.pos = got.pos[i]
			if err := sb.send(ctx, ev); err != nil {
				return stopErr(err)
			}
		}
		if more {
			continue
		}
	wait:
		for {
			select {
			case <-sb.wake:
				break wait
			case <-poll.C:
				polled = true
				poll.Reset(jitter(cfg.PollInterval))
				break wait
			case ev := <-sb.signals:
				sb.sink.Offer(ev) // refused: dropped, as signals may be
			case <-ctx.Done():
				return nil
			case <-sb.l.done:
				return errClosed
			}
		}
	}
}

func stopErr(err error) error {
	if errors.Is(err, errStopped) {
		return nil
	}
	return err
}

func (sb *sub) pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errStopped
	case <-sb.l.done:
		return errClosed
	}
}

// fetch returns the entries after the subscriber's position, and whether
// more may follow at once. The common case is one pipelined GET + XRANGE
// from the position itself: finding the entry at the position proves that
// nothing after it was trimmed. Otherwise (the position's entry is gone, or
// the position precedes the first entry) the check needs the stream's
// counters, read in one MULTI with the range. A shared read sent after
// since serves (see shard.read).
func (sb *sub) fetch(ctx context.Context, since time.Time) (batch, bool, error) {
	n := sb.l.cfg.ReadCount + 1
	start := sb.pos.id.String()
	r, err := sb.s.read(ctx, &readReq{epochKey: sb.epochKey, stream: sb.stream, start: start, count: n, after: since})
	if err != nil {
		return batch{}, false, err
	}
	if r.epoch != sb.epoch {
		return batch{}, false, fmt.Errorf("%w: the stream was reset", realtime.ErrCursorExpired)
	}
	switch {
	case len(r.msgs) == 0:
		// Nothing at or after the position: trimming never empties a stream
		// (it follows an XADD whose entry it keeps), so nothing was missed.
		return batch{}, false, nil
	case r.msgs[0].ID == start:
		return r.decoded(sb.epoch, sb.pos, r.msgs[1:]), int64(len(r.msgs)) == n, nil
	}
	msgs, more, err := sb.fetchChecked(ctx, start, n)
	if err != nil {
		return batch{}, false, err
	}
	return decode(sb.epoch, sb.pos, msgs), more, nil
}

func (sb *sub) fetchChecked(ctx context.Context, start string, n int64) ([]redis.XMessage, bool, error) {
	var (
		get  *redis.StringCmd
		info *redis.XInfoStreamCmd
		rng  *redis.XMessageSliceCmd
	)
	_, err := sb.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, sb.epochKey)
		info = p.XInfoStream(ctx, sb.stream)
		rng = p.XRangeN(ctx, sb.stream, start, "+", n)
		return nil
	})
	if get == nil {
		return nil, false, unavailable(ctx, "read "+sb.stream, err)
	}
	epoch, err := get.Result()
	if errors.Is(err, redis.Nil) {
		epoch, err = "", nil
	}
	if err != nil {
		return nil, false, unavailable(ctx, "read "+sb.stream, err)
	}
	if epoch != sb.epoch {
		return nil, false, fmt.Errorf("%w: the stream was reset", realtime.ErrCursorExpired)
	}
	st, err := stateOf(info)
	if err != nil {
		return nil, false, unavailable(ctx, "read "+sb.stream, err)
	}
	if err := st.gap(sb.pos); err != nil {
		return nil, false, err
	}
	msgs, err := rng.Result()
	if err != nil {
		return nil, false, unavailable(ctx, "read "+sb.stream, err)
	}
	if len(msgs) > 0 && msgs[0].ID == start {
		return msgs[1:], int64(len(msgs)) == n, nil
	}
	if st.length > 0 && !sb.pos.id.less(st.first) {
		// The position's entry is missing although it is not older than the
		// first one kept: the stream lost it.
		return nil, false, fmt.Errorf("%w: the stream lost this cursor's event", realtime.ErrCursorExpired)
	}
	return msgs, int64(len(msgs)) == n, nil
}

// send offers ev until the sink takes it, waiting for resume between
// refusals; a sink that refuses for longer than SlowAfter is dropped rather
// than slowing anyone else.
func (sb *sub) send(ctx context.Context, ev realtime.Event) error {
	if sb.sink.Offer(ev) {
		return nil
	}
	t := time.NewTimer(sb.l.cfg.SlowAfter)
	defer t.Stop()
	for {
		select {
		case <-sb.resumed:
			if sb.sink.Offer(ev) {
				return nil
			}
		case <-ctx.Done():
			return errStopped
		case <-sb.l.done:
			return errClosed
		case <-t.C:
			return realtime.ErrSlowConsumer
		}
	}
}

func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(mrand.Int64N(int64(d)))
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
