package lifecycle_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"messenger/auth"
	"messenger/chat"
	"messenger/cql"
	"messenger/lifecycle"
	"messenger/realtime/memlog"
	"messenger/storage"
	"messenger/storage/cassandra"
	"messenger/storage/pebble"
)

// childEnv names the data directory of a child process that runs jobs
// until it is killed (see TestMain).
const childEnv = "LIFECYCLE_TEST_JOB_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		runChild(dir)
		return
	}
	os.Exit(m.Run())
}

// slowDomain erases slowly and counts, so a kill lands mid-job.
type slowDomain struct {
	lifecycle.Domain
	delay  time.Duration
	erased atomic.Int64
	print  bool
}

func (d *slowDomain) EraseMessage(ctx context.Context, m storage.Message) error {
	time.Sleep(d.delay)
	if err := d.Domain.EraseMessage(ctx, m); err != nil {
		return err
	}
	n := d.erased.Add(1)
	if d.print {
		fmt.Printf("erased %d\n", n)
	}
	return nil
}

// runChild is the process the test kills: it runs the jobs it finds in
// the store named by where (a directory, or "cassandra:<keyspace>").
func runChild(where string) {
	store, err := openChildStore(where)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	tokens, _ := auth.NewTokens(auth.TokensConfig{Key: []byte(strings.Repeat("k", 32))})
	svc, err := chat.New(chat.Config{Store: store, Log: memlog.New(memlog.Config{}), Tokens: tokens, FanOutSweep: -1})
	if err != nil {
		fmt.Println("chat:", err)
		os.Exit(2)
	}
	life, err := lifecycle.New(lifecycle.Config{Store: store, Domain: &slowDomain{Domain: svc, delay: 2 * time.Millisecond, print: true},
		Runner: lifecycle.RunnerConfig{Poll: 50 * time.Millisecond}})
	if err != nil {
		fmt.Println("lifecycle:", err)
		os.Exit(2)
	}
	life.Run(context.Background()) // until killed
}

func openChildStore(where string) (storage.Store, error) {
	if ks, ok := strings.CutPrefix(where, "cassandra:"); ok {
		// Generous timeouts: the test Cassandra is shared and may be slow.
		return cassandra.Open(context.Background(), cql.Config{Hosts: strings.Split(os.Getenv("MESSENGER_CASSANDRA_HOSTS"), ","), Keyspace: ks,
			StartupTimeout: 2 * time.Minute, Timeout: 20 * time.Second})
	}
	return pebble.Open(pebble.Config{Dir: where, NoSync: true})
}

func TestDeletionSurvivesKill9MidJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	testKill9(t, t.TempDir())
}

// testKill9 runs a deletion in a child process on the store named by
// where (see runChild), kills it mid-job, and resumes it here.
func testKill9(t *testing.T, where string) {
	store, err := openChildStore(where)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvOn(t, store, nil)
	ctx := context.Background()
	a, b := e.signUp(t, "alice").User.ID, e.signUp(t, "bob").User.ID
	g, _ := e.chat.CreateGroup(ctx, a, "friends", []string{b})
	const total = 700
	var mine []storage.Message
	for i := range total {
		m, err := e.chat.Send(ctx, a, g.ID, fmt.Sprint("c", i), "alice's words")
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, m)
	}
	job, err := e.life.DeleteAccount(ctx, a, "password1")
	if err != nil {
		t.Fatal(err)
	}
	e.chat.Close()
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+where)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	killedAt, last := "", ""
	for lines.Scan() {
		if last = lines.Text(); last == "erased 300" { // past the first recorded page
			l := last
			killedAt = l
			break
		}
	}
	_ = cmd.Process.Kill() // SIGKILL: no deferred code, no clean-up
	_ = cmd.Wait()
	if killedAt == "" {
		t.Fatalf("the child ended before erasing 300 messages; its last line: %q", last)
	}

	store, err = openChildStore(where)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	mid, err := store.Job(ctx, job.JobID)
	if err != nil || mid.State != storage.JobRunning || !strings.HasPrefix(mid.Progress, "messages:") {
		t.Fatalf("after the kill: %+v %v, want RUNNING mid-messages", mid, err)
	}
	var counter *slowDomain
	e2 := newEnvOn(t, store, func(c *lifecycle.Config) {
		counter = &slowDomain{Domain: c.Domain}
		c.Domain = counter
	})
	e2.clock.Add(time.Minute) // the dead runner's lease has ended
	e2.runJobs(t)
	done, _ := store.Job(ctx, job.JobID)
	if done.Progress != "username" || done.State != storage.JobPending {
		t.Fatalf("after the restart: %+v", done)
	}
	if n := counter.erased.Load(); n >= total || n == 0 {
		t.Fatalf("the restarted job erased %d messages: want it to resume, not start over (%d in all)", n, total)
	}
	for _, m := range mine {
		ms, _ := store.Messages(ctx, m.ConversationID, []int64{m.Seq})
		if ms[m.Seq].DeletedAt == nil {
			t.Fatalf("message %d survived the crash and the restart", m.Seq)
		}
	}
}
