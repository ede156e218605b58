package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// ErrBusy: every password-hashing slot stayed taken for the gate's whole
// wait. Nothing was hashed; the caller may retry later.
var ErrBusy = errors.New("auth: too many password checks in progress")

// HashGate bounds how many password hashes run at once in a process, and
// collects their garbage once they stop.
//
// Each argon2id hash at DefaultArgon2 allocates 64 MiB that is garbage once
// it returns. x/crypto/argon2 allocates it inside IDKey and takes no
// buffer, so it cannot be pooled or reused; all that can be done is to bound
// how many are live at once (this gate) and collect and release them soon
// (see HashGateConfig.ReturnAfter). Without a bound, 20 concurrent logIns
// took the API from 200 MB to 1.35 GB, kept afterwards. The README's
// "Accounts" states the worst case with the bound.
type HashGate struct {
	slots       chan struct{}
	wait        time.Duration
	returnAfter time.Duration
	// release collects the hashes' garbage (runtime.GC).
	release func()

	mu         sync.Mutex
	busy       int       // hashes in flight
	lastEnd    time.Time // when the last hash ended
	lastReturn time.Time // when memory was last handed back
	timer      *time.Timer
}

// HashGateConfig configures a HashGate; zero values are the defaults.
type HashGateConfig struct {
	// Max is how many hashes may run at once (default max(1, GOMAXPROCS):
	// one per core; at DefaultArgon2 each uses two threads, so the cores
	// stay busy while hashes hold at most Max × 64 MiB).
	Max int
	// Wait is how long a hash may queue for a slot before it is refused
	// with ErrBusy (default 5 s: about 50 hashes per core on a quiet
	// machine).
	Wait time.Duration
	// ReturnAfter: once no hash has run for this long, the gate collects
	// the hashes' garbage (runtime.GC), at most once every
	// MinReturnInterval; default 1 s, negative never. Without it the
	// garbage stays until the collector's next cycle, which at the API's
	// GC target of 400 % may be minutes away on an idle server.
	//
	// The collection is concurrent: the process keeps serving while it
	// runs. Freed pages go back to the OS by the runtime's background
	// scavenger, a little at a time, and all at once only when the process
	// is quiet (cmd/api's memory return, debug.FreeOSMemory). The gate
	// used to call debug.FreeOSMemory itself: that scavenges every free
	// page in one non-preemptible step, which after 300 sign-ups held a
	// one-core server for 33 ms (a runtime trace; every send and delivery
	// in flight waited), just as a load test or a morning's log-ins went on
	// to their real work (issue #24).
	ReturnAfter time.Duration
}

// MinReturnInterval is the least time between two hand-backs of memory:
// each is a full garbage collection, whose cost grows with the live heap.
const MinReturnInterval = 10 * time.Second

// NewHashGate returns a gate. Share one per process: the bound is per gate.
func NewHashGate(cfg HashGateConfig) *HashGate {
	if cfg.Max <= 0 {
		cfg.Max = max(1, runtime.GOMAXPROCS(0))
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 5 * time.Second
	}
	if cfg.ReturnAfter == 0 {
		cfg.ReturnAfter = time.Second
	}
	return &HashGate{slots: make(chan struct{}, cfg.Max), wait: cfg.Wait, returnAfter: cfg.ReturnAfter, release: runtime.GC}
}

// Max is how many hashes may run at once.
func (g *HashGate) Max() int { return cap(g.slots) }

// Wait is how long a hash may queue for a slot.
func (g *HashGate) Wait() time.Duration { return g.wait }

// Enter takes a slot, waiting at most Wait (or until ctx ends), and returns
// the function that gives it back; call it as soon as the hash is done. It
// returns ErrBusy when no slot freed up in time, or ctx's error.
func (g *HashGate) Enter(ctx context.Context) (leave func(), err error) {
	select {
	case g.slots <- struct{}{}:
		return g.entered(), nil
	default:
	}
	timer := time.NewTimer(g.wait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		return g.entered(), nil
	case <-timer.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("auth: waiting to check a password: %w", ctx.Err())
	}
}

// entered counts a hash in and returns its leave.
func (g *HashGate) entered() func() {
	g.mu.Lock()
	g.busy++
	g.mu.Unlock()
	var once sync.Once
	return func() { once.Do(g.leave) }
}

func (g *HashGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.busy--
	g.lastEnd = time.Now()
	<-g.slots
	if g.busy == 0 && g.returnAfter > 0 {
		g.armLocked(g.lastEnd)
	}
}

// armLocked schedules a hand-back ReturnAfter after now, or later if the
// last one was less than MinReturnInterval ago.
func (g *HashGate) armLocked(now time.Time) {
	at := now.Add(g.returnAfter)
	if next := g.lastReturn.Add(MinReturnInterval); next.After(at) {
		at = next
	}
	if g.timer == nil {
		g.timer = time.AfterFunc(at.Sub(now), g.returnMemory)
		return
	}
	g.timer.Reset(at.Sub(now))
}

// returnMemory collects the hashes' garbage if the gate is still idle; a hash
// that ran meanwhile armed the timer again when it ended.
func (g *HashGate) returnMemory() {
	g.mu.Lock()
	now := time.Now()
	if g.busy > 0 || now.Sub(g.lastEnd) < g.returnAfter || now.Sub(g.lastReturn) < MinReturnInterval {
		if g.busy == 0 {
			g.armLocked(now)
		}
		g.mu.Unlock()
		return
	}
	g.lastReturn = now
	g.mu.Unlock()
	g.release()
}
