package lifecycle_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/lifecycle"
	"messenger/storage"
	"messenger/storage/pebble"
)

func newJobStore(t *testing.T) storage.Store {
	t.Helper()
	s, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func createJob(t *testing.T, s storage.Store, now time.Time) storage.Job {
	t.Helper()
	j, _, err := s.CreateJob(context.Background(), storage.Job{ID: uuid.NewString(), UserID: uuid.NewString(), Kind: storage.JobExport, CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestAFailingJobIsRetriedThenFails(t *testing.T) {
	s := newJobStore(t)
	c := &clock{t: time.Now().UTC()}
	runs := 0
	r := lifecycle.NewRunner(s, lifecycle.RunnerConfig{Poll: -1, MaxAttempts: 3, Now: c.Now}, map[storage.JobKind]lifecycle.Handler{
		storage.JobExport: func(context.Context, *storage.Job, func(string) error) error { runs++; return errors.New("disk full") },
	})
	j := createJob(t, s, c.Now())
	for range 10 {
		if _, err := r.RunPending(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Hour) // past any backoff
	}
	got, _ := s.Job(context.Background(), j.ID)
	if runs != 3 || got.State != storage.JobFailed || got.Error == "" || got.FinishedAt.IsZero() {
		t.Fatalf("after 3 failures: %d runs, %+v", runs, got)
	}
}

func TestAJobLeasedByALiveRunnerIsNotRunTwice(t *testing.T) {
	s := newJobStore(t)
	c := &clock{t: time.Now().UTC()}
	j := createJob(t, s, c.Now())
	if ok, err := s.ClaimJob(context.Background(), j.ID, "other-process", c.Now(), c.Now().Add(30*time.Second)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	runs := 0
	r := lifecycle.NewRunner(s, lifecycle.RunnerConfig{Poll: -1, Now: c.Now}, map[storage.JobKind]lifecycle.Handler{
		storage.JobExport: func(context.Context, *storage.Job, func(string) error) error { runs++; return nil },
	})
	if n, _ := r.RunPending(context.Background()); n != 0 || runs != 0 {
		t.Fatalf("ran a job another runner holds: %d", runs)
	}
	c.Add(31 * time.Second) // the other process died: its lease ends
	if n, _ := r.RunPending(context.Background()); n != 1 || runs != 1 {
		t.Fatalf("did not take over an ended lease: %d runs", runs)
	}
	if got, _ := s.Job(context.Background(), j.ID); got.State != storage.JobDone {
		t.Fatalf("job is %s, want DONE", got.State)
	}
}

func TestAStoppedRunnerLeavesTheJobToResumeFromItsLastStep(t *testing.T) {
	s := newJobStore(t)
	c := &clock{t: time.Now().UTC()}
	j := createJob(t, s, c.Now())
	var seen []string
	handler := func(stopAfter int) lifecycle.Handler {
		return func(ctx context.Context, j *storage.Job, step func(string) error) error {
			seen = append(seen, "start at "+j.Progress)
			for i := len(j.Progress); i < 5; i++ {
				if i == stopAfter {
					<-ctx.Done() // the process is going away
					return ctx.Err()
				}
				if err := step(j.Progress + "x"); err != nil {
					return err
				}
			}
			return nil
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	r1 := lifecycle.NewRunner(s, lifecycle.RunnerConfig{Poll: -1, Now: c.Now}, map[storage.JobKind]lifecycle.Handler{storage.JobExport: handler(3)})
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, _ = r1.RunPending(ctx)
	r2 := lifecycle.NewRunner(s, lifecycle.RunnerConfig{Poll: -1, Now: c.Now}, map[storage.JobKind]lifecycle.Handler{storage.JobExport: handler(-1)})
	c.Add(time.Minute)
	if n, err := r2.RunPending(context.Background()); n != 1 || err != nil {
		t.Fatalf("the second runner ran %d jobs: %v", n, err)
	}
	got, _ := s.Job(context.Background(), j.ID)
	if got.State != storage.JobDone || got.Progress != "xxxxx" || len(seen) != 2 || seen[1] != "start at xxx" {
		t.Fatalf("job %+v, runs %q: want DONE at xxxxx, resumed at xxx", got, seen)
	}
}
