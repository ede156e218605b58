package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// ErrBusy: every password-hashing slot stayed taken for the gate's whole
// wait. Nothing was hashed; the caller may retry later.
var ErrBusy = errors.New("auth: too many password checks in progress")

// HashGate bounds how many password hashes run at once in a process. Each
// argon2id hash at DefaultArgon2 allocates 64 MiB that is garbage once it
// returns (x/crypto/argon2 takes no buffer, so it cannot be pooled), so
// without a bound a burst of sign-ins takes memory in proportion to its
// size: 20 concurrent logIns took the API from 200 MB to 1.35 GB. With the
// gate at most Max hashes hold their memory at once, and the others wait
// their turn (see the README's "Accounts" for the worst case).
type HashGate struct {
	slots chan struct{}
	wait  time.Duration
}

// HashGateConfig configures a HashGate; zero values are the defaults.
type HashGateConfig struct {
	// Max is how many hashes may run at once (default max(1, GOMAXPROCS):
	// one per core; at DefaultArgon2 each uses two threads, so the cores
	// stay busy while memory stays at Max × 64 MiB).
	Max int
	// Wait is how long a hash may queue for a slot before it is refused
	// with ErrBusy (default 3 s; a hash takes about 100 ms on one core).
	Wait time.Duration
}

// NewHashGate returns a gate. Share one per process: the bound is per gate.
func NewHashGate(cfg HashGateConfig) *HashGate {
	if cfg.Max <= 0 {
		cfg.Max = max(1, runtime.GOMAXPROCS(0))
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 3 * time.Second
	}
	return &HashGate{slots: make(chan struct{}, cfg.Max), wait: cfg.Wait}
}

// Max is how many hashes may run at once.
func (g *HashGate) Max() int { return cap(g.slots) }

// Wait is how long a hash may queue for a slot.
func (g *HashGate) Wait() time.Duration { return g.wait }

// Enter takes a slot, waiting at most Wait (or until ctx ends), and returns
// the function that gives it back; call it as soon as the hash is done. It
// returns ErrBusy when no slot freed up in time, or ctx's error.
func (g *HashGate) Enter(ctx context.Context) (leave func(), err error) {
	leave = func() { <-g.slots }
	select {
	case g.slots <- struct{}{}:
		return leave, nil
	default:
	}
	timer := time.NewTimer(g.wait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		return leave, nil
	case <-timer.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("auth: waiting to check a password: %w", ctx.Err())
	}
}
