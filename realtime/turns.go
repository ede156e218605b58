package realtime

import (
	"context"
	"errors"
	"time"
)

// ErrUnknownKey: Turns holds no record of the key (never seen, or
// forgotten after a long idle time), so it cannot tell what is done.
var ErrUnknownKey = errors.New("realtime: no turn record for this key")

// Turns orders appends that must reach every log in the order of their
// numbers although different writers make them: a conversation's messages,
// numbered by seq, sent through any goroutine of any instance. The appends
// of one key (a conversation id) are numbered 1, 2, 3… without gaps; the
// append of number n may start once every number below n is done.
//
// Each key has a watermark, "done": every number up to it is appended. It
// only moves forward. A writer waits for done to reach n-1, appends n and
// marks n done; if the writer of done+1 died (or is stuck), the waiters
// behind it stop waiting after their patience and append the missing
// numbers themselves, with Log.AppendOnce, so that nothing is appended
// twice. Turns never reads or appends events itself: it only says whose
// turn it is.
//
// The embedded implementation (realtime/memturns) orders the writers of
// one process; the distributed one (realtime/redisturns) those of a fleet.
type Turns interface {
	// Wait returns once every number below n of key is done, with done >=
	// n-1; done >= n means someone else already appended n (they took it
	// over). It returns earlier, with done < n-1, once patience has passed
	// without done moving: the caller then appends done+1 … n-1 itself,
	// in order and idempotently, marking each Done. With patience <= 0 it
	// only looks. For a key it has no record of it returns ErrUnknownKey
	// at once: the caller marks Done the number below which nothing can
	// still be in flight, then waits again. The end of ctx ends the wait
	// with ctx's error.
	Wait(ctx context.Context, key string, n int64, patience time.Duration) (done int64, err error)
	// Done records that every number up to n of key is appended (done
	// never moves backwards; a smaller n changes nothing). It lets through
	// at once the waiters of this process it concerns; other processes may
	// learn it a moment later. It does not block on a remote server: a
	// record that fails to reach other processes makes their waiters take
	// over after their patience, which AppendOnce makes harmless.
	Done(ctx context.Context, key string, n int64)
}
