package realtime

import (
	"context"
	"sync"
	"sync/atomic"
)

// chanBuffer is how many events wait between a log and a Chan's goroutine.
const chanBuffer = 8

// Chan subscribes to userID's events (as Log.Subscribe) and returns them on
// a channel, for callers that block on one: tools and tests. A goroutine
// per subscription forwards the events and resumes the log as the reader
// catches up. The channel is closed when the subscription ends; then errf
// says why (as Sink.End's err).
func Chan(ctx context.Context, l Log, userID, after string) (events <-chan Event, errf func() error, err error) {
	s := &chanSink{in: make(chan Event, chanBuffer), out: make(chan Event)}
	resume, err := l.Subscribe(ctx, userID, after, s)
	if err != nil {
		return nil, nil, err
	}
	go s.forward(ctx, resume)
	return s.out, s.result, nil
}

type chanSink struct {
	in, out chan Event
	refused atomic.Bool // an offer was refused: resume once there is room
	mu      sync.Mutex
	err     error
}

func (s *chanSink) Offer(e Event) bool { return TrySend(s.in, e, &s.refused) }

// TrySend puts v on ch if it has room, without blocking: the body of a
// Sink's Offer that buffers in a channel. When ch is full it sets refused
// before trying once more, so that a reader that makes room in between sees
// the refusal and resumes the log: no wake-up is lost. The reader clears
// refused (CompareAndSwap) after each read and resumes if it was set.
func TrySend[T any](ch chan<- T, v T, refused *atomic.Bool) bool {
	select {
	case ch <- v:
		return true
	default:
	}
	refused.Store(true)
	select {
	case ch <- v:
		return true
	default:
		return false
	}
}

func (s *chanSink) End(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	close(s.in)
}

func (s *chanSink) forward(ctx context.Context, resume func()) {
	defer close(s.out)
	for e := range s.in {
		select {
		case s.out <- e:
		case <-ctx.Done():
			return
		}
		if s.refused.CompareAndSwap(true, false) {
			resume()
		}
	}
}

func (s *chanSink) result() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
