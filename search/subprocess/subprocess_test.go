package subprocess_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"messenger/search"
	"messenger/search/bleve"
	"messenger/search/searchtest"
	"messenger/search/subprocess"
)

// The test binary is also the child (and, for one test, a parent): these
// variables pick the role.
const (
	envChild  = "SUBPROCESS_TEST_CHILD"  // the index directory to serve
	envFail   = "SUBPROCESS_TEST_FAIL"   // the child exits before serving
	envParent = "SUBPROCESS_TEST_PARENT" // start a child, print its pid, wait
)

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(envChild) != "":
		os.Exit(child(os.Getenv(envChild)))
	case os.Getenv(envParent) != "":
		os.Exit(parent(os.Getenv(envParent)))
	}
	os.Exit(m.Run())
}

func child(dir string) int {
	if os.Getenv(envFail) != "" {
		fmt.Fprintln(os.Stderr, "child: told to fail")
		return 3
	}
	idx, err := bleve.Open(bleve.Config{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	defer idx.Close()
	conn, err := subprocess.InheritedConn()
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	if err := subprocess.Serve(conn, idx); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

func parent(dir string) int {
	x, err := start(context.Background(), dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "parent:", err)
		return 1
	}
	fmt.Println(x.Pid())
	time.Sleep(time.Minute) // until the test kills it
	return 0
}

func start(ctx context.Context, dir string, env ...string) (*subprocess.Index, error) {
	return subprocess.Start(ctx, subprocess.Config{
		Path: os.Args[0],
		Args: []string{"-test.run=^$"},
		Env:  append(append(os.Environ(), envChild+"="+dir), env...),
	})
}

func newIndex(t *testing.T) *subprocess.Index {
	t.Helper()
	x, err := start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := x.Close(); err != nil {
			t.Error(err)
		}
	})
	return x
}

func TestContract(t *testing.T) {
	searchtest.Run(t, func(t *testing.T) search.Index { return newIndex(t) })
}

func TestAChildThatCannotOpenItsIndexFailsTheStart(t *testing.T) {
	_, err := start(context.Background(), t.TempDir(), envFail+"=1")
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("Start = %v, want the child's exit status 3", err)
	}
}

func TestAKilledIndexProcessIsStartedAgainAndServes(t *testing.T) {
	x := newIndex(t)
	ctx := context.Background()
	old := x.Pid()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c := fmt.Sprintf("c-%d", time.Now().UnixNano())
	b := search.Batch{Upserts: []search.Message{{ConversationID: c, Seq: 1, SenderID: "u", Body: "phoenix rises", SentAt: time.Now()}}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := x.Apply(ctx, b)
		if err == nil {
			break
		}
		if !errors.Is(err, search.ErrUnavailable) {
			t.Fatalf("Apply while restarting = %v, want search.ErrUnavailable", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new search process after 20 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if now := x.Pid(); now == old || now == 0 {
		t.Fatalf("pid %d after the kill, was %d", now, old)
	}
	q := search.MessageQuery{Viewer: "v", Query: search.ParseQuery("phoenix"), Scopes: []search.Scope{{ConversationID: c}}, First: 10}
	for {
		p, err := x.SearchMessages(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Hits) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the message written to the new process is not found: %+v", p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTheIndexProcessRunsAtALowerPriority(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	x := newIndex(t)
	pid := x.Pid()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if n := niceOf(t, fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name())); n != subprocess.DefaultNice {
			t.Errorf("thread %s of the search process runs at nice %d, want %d", task.Name(), n, subprocess.DefaultNice)
		}
	}
	if n := niceOf(t, "/proc/self/stat"); n != 0 {
		t.Errorf("the parent runs at nice %d, want it unchanged (0)", n)
	}
}

// niceOf reads field 19 (nice) of a /proc stat file.
func niceOf(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // f[0] is field 3
	n, err := strconv.Atoi(f[16])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestClosingStopsTheIndexProcess(t *testing.T) {
	x, err := start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pid := x.Pid()
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process %d after Close: kill 0 = %v, want ESRCH", pid, err)
	}
	if err := x.Apply(context.Background(), search.Batch{Users: []search.User{{ID: "u"}}}); !errors.Is(err, search.ErrUnavailable) {
		t.Fatalf("Apply after Close = %v, want search.ErrUnavailable", err)
	}
}

// TestTheIndexProcessGoesWhenTheAPIIsKilled: a parent killed with SIGKILL
// closes nothing; its child must not live on holding the index's lock.
func TestTheIndexProcessGoesWhenTheAPIIsKilled(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envParent+"="+filepath.Join(t.TempDir(), "idx"))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		_ = cmd.Process.Kill()
		t.Fatalf("the parent printed %q, not its child's pid", line)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil && !zombie(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("search process %d still runs 10 s after its parent was killed", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// zombie: an exited process not yet reaped (its parent is gone, init
// reaps it soon).
func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] == "Z"
}

// TestHidesComeBackAcrossPages: a rebuild lists every hide of the live
// index, more than one page's worth, and can stop early.
func TestHidesComeBackAcrossPages(t *testing.T) {
	x := newIndex(t)
	ctx := context.Background()
	var b search.Batch
	for i := range 2500 {
		b.Hides = append(b.Hides, search.Hide{Key: search.Key{ConversationID: "c", Seq: int64(i + 1)}, UserID: "u"})
	}
	if err := x.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for len(seen) < 2500 {
		clear(seen)
		if err := x.Hides(ctx, func(h search.Hide) error { seen[h.Seq] = true; return nil }); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("Hides listed %d of 2,500", len(seen))
		}
	}
	stop := errors.New("enough")
	n := 0
	err := x.Hides(ctx, func(search.Hide) error {
		if n++; n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Fatalf("Hides after the callback failed: %v after %d hides, want the callback's error after 10", err, n)
	}
	if _, err := x.Watermarks(ctx, []string{"c"}); err != nil {
		t.Fatalf("the index after an iteration stopped early: %v", err)
	}
}
