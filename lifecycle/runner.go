package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"messenger/storage"
)

// Handler runs one job from j.Progress on. It calls step after each unit
// of work with the progress reached, which records it durably (so a
// restart resumes there) and renews the job's lease. It returns nil when
// the job is done (the runner then records Done, with whatever the
// handler set in j, such as BlobKey), Later to be run again at a given
// time, or an error to be retried (Failed after RunnerConfig.MaxAttempts).
type Handler func(ctx context.Context, j *storage.Job, step func(progress string) error) error

// Later is a Handler's answer for a job that has more to do, but not
// before At (a deleted account's username, released after quarantine).
type Later struct{ At time.Time }

func (l *Later) Error() string { return "lifecycle: job continues at " + l.At.Format(time.RFC3339) }

// RunnerConfig tunes a Runner. Zero values are the documented defaults.
type RunnerConfig struct {
	// Owner names this runner in job leases (default a random id: each
	// process is its own owner).
	Owner string
	// Lease is how long a claimed job stays this runner's without renewal
	// (default 30 s): how long a job of a runner killed mid-job waits
	// before another runner resumes it.
	Lease time.Duration
	// Poll is how often the runner looks for jobs (default 30 s; negative:
	// never, only RunPending and Wake). A job is woken at once in the
	// process that creates it; polling only resumes the jobs of runners
	// that died and those whose RunAfter came. Each poll reads every
	// unfinished job (at most 1,000), quarantined deletions included.
	Poll time.Duration
	// MaxAttempts is how many runs a failing job gets (default 5).
	MaxAttempts int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives job failures (default slog.Default()).
	Logger *slog.Logger
}

// Runner runs durable jobs: it lists unfinished jobs, leases each from the
// store (so of several processes one runs it), and runs its handler while
// renewing the lease. Jobs are idempotent step by step: a step that ran
// but was not recorded runs again after a restart.
type Runner struct {
	store    storage.Lifecycle
	cfg      RunnerConfig
	handlers map[storage.JobKind]Handler
	wake     chan struct{}
	running  sync.Mutex // one RunPending at a time in this process
}

// NewRunner returns a Runner of store's jobs with a handler per kind.
func NewRunner(store storage.Lifecycle, cfg RunnerConfig, handlers map[storage.JobKind]Handler) *Runner {
	if cfg.Owner == "" {
		cfg.Owner = uuid.NewString()
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Poll == 0 {
		cfg.Poll = 30 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Runner{store: store, cfg: cfg, handlers: handlers, wake: make(chan struct{}, 1)}
}

// Wake makes a running Run look for jobs now (a job was just created).
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run runs jobs until ctx ends: at start (resuming what a previous process
// left), on every Wake and every Poll.
func (r *Runner) Run(ctx context.Context) {
	var tick <-chan time.Time
	if r.cfg.Poll > 0 {
		t := time.NewTicker(r.cfg.Poll)
		defer t.Stop()
		tick = t.C
	}
	for {
		if _, err := r.RunPending(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("lifecycle: listing jobs failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-r.wake:
		}
	}
}

// RunPending runs, one after the other, every unfinished job that is due
// and not leased by another runner, and returns how many it ran (to the
// end, a failure or a Later). A job's error is logged and recorded in
// the job, not returned.
func (r *Runner) RunPending(ctx context.Context) (int, error) {
	r.running.Lock()
	defer r.running.Unlock()
	jobs, err := r.store.UnfinishedJobs(ctx, 1000)
	if err != nil {
		return 0, fmt.Errorf("lifecycle: list jobs: %w", err)
	}
	ran := 0
	for _, j := range jobs {
		if ctx.Err() != nil {
			return ran, ctx.Err()
		}
		now := r.cfg.Now()
		if j.RunAfter.After(now) || r.handlers[j.Kind] == nil {
			continue
		}
		ok, err := r.store.ClaimJob(ctx, j.ID, r.cfg.Owner, now, now.Add(r.cfg.Lease))
		if err != nil {
			r.cfg.Logger.Warn("lifecycle: claim job", "job", j.ID, "err", err)
			continue
		}
		if !ok {
			continue
		}
		// Re-read under the lease: another runner may have moved it on.
		if j, err = r.store.Job(ctx, j.ID); err != nil || j.State.Finished() {
			continue
		}
		r.runOne(ctx, j)
		ran++
	}
	return ran, nil
}

// runOne runs one leased job and records how it ended.
func (r *Runner) runOne(ctx context.Context, j storage.Job) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	j.State, j.Attempts, j.UpdatedAt, j.Error = storage.JobRunning, j.Attempts+1, r.cfg.Now().UTC(), ""
	if err := r.store.UpdateJob(ctx, j); err != nil {
		r.cfg.Logger.Warn("lifecycle: start job", "job", j.ID, "err", err)
		return
	}
	var lost error
	var mu sync.Mutex
	renew := func() error {
		now := r.cfg.Now()
		ok, err := r.store.ClaimJob(ctx, j.ID, r.cfg.Owner, now, now.Add(r.cfg.Lease))
		if err == nil && !ok {
			err = errors.New("lifecycle: lease lost to another runner")
		}
		if err != nil {
			mu.Lock()
			lost = err
			mu.Unlock()
			cancel()
		}
		return err
	}
	done := make(chan struct{})
	go func() { // renew while a long step runs
		t := time.NewTicker(r.cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				_ = renew()
			}
		}
	}()
	step := func(progress string) error {
		if err := renew(); err != nil {
			return err
		}
		j.Progress, j.UpdatedAt = progress, r.cfg.Now().UTC()
		return r.store.UpdateJob(ctx, j)
	}
	err := r.handlers[j.Kind](ctx, &j, step)
	close(done)
	mu.Lock()
	if lost != nil {
		mu.Unlock()
		r.cfg.Logger.Warn("lifecycle: job stopped", "job", j.ID, "err", lost)
		return // the new holder records the outcome
	}
	mu.Unlock()
	// Record the outcome even if ctx ended just now, with a short grace.
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer wcancel()
	now := r.cfg.Now().UTC()
	j.UpdatedAt = now
	var later *Later
	switch {
	case err == nil:
		j.State, j.FinishedAt = storage.JobDone, now
	case errors.As(err, &later):
		j.State, j.RunAfter, j.Attempts = storage.JobPending, later.At, 0
	case ctx.Err() != nil:
		j.State, j.Attempts = storage.JobPending, j.Attempts-1 // stopped, not failed: resumes next start
	case j.Attempts >= r.cfg.MaxAttempts:
		j.State, j.FinishedAt, j.Error = storage.JobFailed, now, err.Error()
		r.cfg.Logger.Error("lifecycle: job failed", "job", j.ID, "kind", j.Kind, "err", err)
	default:
		j.State, j.Error = storage.JobPending, err.Error()
		j.RunAfter = now.Add(time.Duration(1<<min(j.Attempts, 10)) * time.Second) // backoff
		r.cfg.Logger.Warn("lifecycle: job will be retried", "job", j.ID, "kind", j.Kind, "err", err)
	}
	if err := r.store.UpdateJob(wctx, j); err != nil {
		r.cfg.Logger.Warn("lifecycle: record job outcome", "job", j.ID, "err", err)
	}
	// Free the lease at once, so a Later job is not held past its time.
	_, _ = r.store.ClaimJob(wctx, j.ID, r.cfg.Owner, now, now)
}
