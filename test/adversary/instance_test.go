package adversary

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The API binary is built once per test run, into workDir, which TestMain
// removes at the end with the shared instance's data.
var (
	workDir   string
	buildOnce sync.Once
	binPath   string
	buildErr  error
	noGo      string // why the binary cannot be built here at all
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopShared()
	if workDir != "" {
		_ = os.RemoveAll(workDir)
	}
	os.Exit(code)
}

// apiBinary returns the path of the API binary, building it on first use.
// It skips t only when there is no go command to build with; a build that
// fails fails t.
func apiBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			noGo = "no go command on PATH to build cmd/api with: " + err.Error()
			return
		}
		if workDir, buildErr = os.MkdirTemp("", "adversary-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(workDir, "api")
		out, err := exec.Command(gobin, "build", "-o", binPath, "messenger/cmd/api").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build messenger/cmd/api: %v\n%s", err, out)
		}
	})
	switch {
	case noGo != "":
		t.Skip(noGo)
	case buildErr != nil:
		t.Fatal(buildErr)
	}
	return binPath
}

// instance is one API process on a fixed port and data directory that a
// test can start, kill -9 and restart. Its stdout and stderr, over every
// start, are kept for failure output.
type instance struct {
	name string
	bin  string
	dir  string
	env  []string
	// URL is the API's base URL; it stays the same across restarts.
	URL  string
	addr string
	log  logBuffer

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when the current process has exited
	starts int
}

// logBuffer is a goroutine-safe log of an instance's output.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// since returns the output from offset on, at most its last 12 KiB.
func (l *logBuffer) since(offset int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.b.Bytes()
	if offset > len(b) {
		offset = len(b)
	}
	b = b[offset:]
	if len(b) > 12<<10 {
		b = append([]byte("…\n"), b[len(b)-12<<10:]...)
	}
	return string(b)
}

func (l *logBuffer) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

// cleanEnv is this process's environment without any MESSENGER_* or
// OTEL_* setting: an instance gets only the configuration a test chooses.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MESSENGER_") && !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	return env
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func newInstance(name, bin, dir string, env []string) (*instance, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return &instance{name: name, bin: bin, dir: dir, env: env, addr: addr, URL: "http://" + addr}, nil
}

// launch starts the process without waiting for it to be ready.
func (in *instance) launch() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cmd != nil {
		return fmt.Errorf("%s is already running", in.name)
	}
	in.starts++
	fmt.Fprintf(&in.log, "=== %s: start %d on %s\n", in.name, in.starts, in.addr)
	cmd := exec.Command(in.bin)
	cmd.Env = append(append(cleanEnv(), in.env...), "MESSENGER_HTTP_ADDR="+in.addr, "MESSENGER_DATA_DIR="+in.dir)
	cmd.Stdout, cmd.Stderr = &in.log, &in.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", in.name, err)
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(&in.log, "=== %s: process exited: %v\n", in.name, err)
		close(exited)
	}()
	in.cmd, in.exited = cmd, exited
	return nil
}

// waitReady polls /readyz until it answers 200, the process exits, or
// timeout passes.
func (in *instance) waitReady(timeout time.Duration) error {
	in.mu.Lock()
	exited := in.exited
	in.mu.Unlock()
	if exited == nil {
		return fmt.Errorf("%s is not running", in.name)
	}
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			in.forget()
			return fmt.Errorf("%s exited before it was ready", in.name)
		default:
		}
		if resp, err := client.Get(in.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s was not ready within %v", in.name, timeout)
}

// forget clears the current process after it exited.
func (in *instance) forget() {
	in.mu.Lock()
	in.cmd, in.exited = nil, nil
	in.mu.Unlock()
}

// signal sends sig to the running process and waits at most wait for it to
// exit; a process still running then gets SIGKILL.
func (in *instance) signal(sig syscall.Signal, wait time.Duration) {
	in.mu.Lock()
	cmd, exited := in.cmd, in.exited
	in.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
		fmt.Fprintf(&in.log, "=== %s: (had already exited when signalled)\n", in.name)
	default:
		if sig == syscall.SIGKILL {
			fmt.Fprintf(&in.log, "=== %s: kill -9\n", in.name)
		}
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		<-exited
	}
	in.forget()
}

// start launches the process and waits until it is ready, retrying on
// another port if the chosen one was taken meanwhile.
func (in *instance) start(timeout time.Duration) error {
	for attempt := 0; ; attempt++ {
		mark := in.log.len()
		if err := in.launch(); err != nil {
			return err
		}
		err := in.waitReady(timeout)
		if err == nil {
			return nil
		}
		if attempt < 2 && strings.Contains(in.log.since(mark), "address already in use") {
			addr, aerr := freeAddr()
			if aerr != nil {
				return aerr
			}
			in.addr, in.URL = addr, "http://"+addr
			continue
		}
		in.signal(syscall.SIGKILL, 5*time.Second)
		return err
	}
}

// startInstance starts an instance with its own data directory and env,
// waits for it to be ready, and stops it when t ends; its output is
// logged if t fails.
func startInstance(t *testing.T, name string, timeout time.Duration, env ...string) *instance {
	t.Helper()
	in := newTestInstance(t, name, env...)
	in.mustStart(t, timeout)
	return in
}

// newTestInstance prepares an instance for t without starting it.
func newTestInstance(t *testing.T, name string, env ...string) *instance {
	t.Helper()
	in, err := newInstance(name, apiBinary(t), t.TempDir(), env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.signal(syscall.SIGTERM, 20*time.Second)
		if t.Failed() {
			t.Logf("output of %s:\n%s", in.name, in.log.since(0))
		}
	})
	return in
}

// mustStart starts (or restarts) the instance, failing t with its output.
func (in *instance) mustStart(t testing.TB, timeout time.Duration) {
	t.Helper()
	if err := in.start(timeout); err != nil {
		t.Fatalf("%v", err)
	}
}

// kill9 kills the running process with SIGKILL and waits for it to go.
func (in *instance) kill9(t testing.TB) {
	t.Helper()
	in.signal(syscall.SIGKILL, 10*time.Second)
}

// errNotReady is returned by helpers that poll for an eventual state.
var errNotReady = errors.New("not yet")

// eventually calls f every 100 ms until it returns nil or a different
// error than errNotReady, for at most d; it returns f's last error.
func eventually(ctx context.Context, d time.Duration, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		err := f()
		if !errors.Is(err, errNotReady) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// peakRSS is the running process's peak resident memory in bytes (VmHWM),
// or an error where /proc does not say (not Linux).
func (in *instance) peakRSS() (int64, error) {
	in.mu.Lock()
	cmd := in.cmd
	in.mu.Unlock()
	if cmd == nil {
		return 0, fmt.Errorf("%s is not running", in.name)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				return 0, fmt.Errorf("reading VmHWM %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", cmd.Process.Pid)
}
