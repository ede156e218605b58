package cassandra

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"messenger/blob"
	"messenger/storage"
	"messenger/storage/cold"
)

// childEnv carries the mover child's orders: keyspace, S3 prefix,
// conversation, step to stop at, marker file to create there.
const childEnv = "MESSENGER_COLD_MOVER_CHILD"

// TestColdMoverChildProcess is the mover killed by
// testColdMoveSurvivesKill9: it runs only as that test's child process.
func TestColdMoverChildProcess(t *testing.T) {
	orders := strings.Split(os.Getenv(childEnv), "|")
	if len(orders) != 5 {
		t.Skip("run by TestColdTier/MoveSurvivesKill9 only")
	}
	cfg := testConfig(t)
	cfg.Keyspace, cfg.Timeout = orders[0], 30*time.Second
	var s *Store
	var err error
	for try := 0; try < 5 && (s == nil); try++ { // a loaded cluster may time out the migrations check
		s, err = Open(context.Background(), cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	blobs, _ := coldTestBlobs(t)
	mv := cold.Mover{Backend: s, Blobs: blobs, Prefix: orders[1], Owner: "doomed", LeaseTTL: time.Second,
		AfterStep: func(_ string, _ int64, at cold.Step) error {
			if string(at) == orders[3] {
				if err := os.WriteFile(orders[4], []byte("here"), 0o600); err != nil {
					return err
				}
				select {} // wait for SIGKILL
			}
			return nil
		}}
	_, err = mv.MoveConversation(context.Background(), orders[2], coldCutoff())
	t.Fatalf("the mover was not killed: %v", err)
}

// testColdMoveSurvivesKill9 kills a mover process with SIGKILL right after
// a step of a bucket's move, then finishes the move in this process once
// the dead mover's lease has expired: the history reads the same, with
// one manifest and one segment.
func testColdMoveSurvivesKill9(t *testing.T, s *Store, cfg Config, blobs blob.Store, prefix string) {
	if os.Getenv("MESSENGER_S3_ENDPOINT") == "" {
		t.Skip("MESSENGER_S3_ENDPOINT is unset: the child mover must share object storage with this process")
	}
	ctx := context.Background()
	for _, step := range []cold.Step{cold.StepPut, cold.StepRecorded} {
		t.Run(string(step), func(t *testing.T) {
			conv, user := coldConversation(t, s, 1002)
			want := history(t, s, conv, user)
			marker := filepath.Join(t.TempDir(), "at-step")
			cmd := exec.Command(os.Args[0], "-test.run=^TestColdMoverChildProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), childEnv+"="+strings.Join([]string{cfg.Keyspace, prefix, conv, string(step), marker}, "|"))
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			deadline := time.After(90 * time.Second)
			for {
				if _, err := os.Stat(marker); err == nil {
					break
				}
				select {
				case err := <-exited:
					t.Fatalf("the mover exited before step %s: %v\n%s", step, err, out.String())
				case <-deadline:
					_ = cmd.Process.Kill()
					t.Fatalf("the mover never reached step %s", step)
				case <-time.After(50 * time.Millisecond):
				}
			}
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			if err := <-exited; err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("mover exit: %v", err)
			}
			if got := history(t, s, conv, user); !reflect.DeepEqual(got, want) {
				t.Fatalf("history changed by the killed move")
			}
			next := cold.Mover{Backend: s, Blobs: blobs, Prefix: prefix, Owner: "survivor"}
			stop := time.Now().Add(60 * time.Second)
			for {
				if _, err := next.MoveConversation(ctx, conv, coldCutoff()); err != nil && !errors.Is(err, storage.ErrUnavailable) {
					t.Fatal(err)
				}
				if m, ok, err := s.SegmentOf(ctx, conv, 0); err != nil {
					t.Fatal(err)
				} else if ok && m.HotDropped {
					break
				}
				if time.Now().After(stop) {
					t.Fatal("the killed mover's lease never expired")
				}
				time.Sleep(200 * time.Millisecond) // its lease lasts 1 s
			}
			if got := history(t, s, conv, user); !reflect.DeepEqual(got, want) {
				t.Fatalf("history after the finished move differs")
			}
			assertOneSegment(t, s, blobs, prefix, conv)
		})
	}
}
