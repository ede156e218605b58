// Package subprocess runs a search index in a child process of the API, so
// the operating system, not Go's scheduler, shares the CPU between serving
// and indexing.
//
// Why: on one core (GOMAXPROCS=1) a goroutine keeps the processor until it
// blocks or runs 10 ms, and bleve's indexing batches and segment merges run
// 10-20 ms at a time: every send and delivery queued behind them waited
// (docs/BENCHMARKS.md, session 11's trace). In a child at a higher nice
// value the kernel preempts the indexer within a fraction of a millisecond
// whenever the API has work, and the index catches up in the gaps. The
// index is derived data: under overload it lags (search is eventually
// consistent anyway), sends never wait for it.
//
// The parent holds an *Index (a search.Rebuilder that forwards each call
// over a socket pair with net/rpc); the child calls Serve with the real
// index. A child that dies is started again, and calls in between fail
// with search.ErrUnavailable, which the indexer retries. A child exits
// when its parent does: the kernel closes the parent's end of the socket,
// and on Linux it is also sent SIGKILL (Pdeathsig).
package subprocess

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/rpc"
	"os"
	"os/exec"
	"sync"
	"time"

	"messenger/search"
)

var _ search.Rebuilder = (*Index)(nil)

// Config starts the child.
type Config struct {
	// Path and Args are the child's program and arguments; the program
	// must call Serve on InheritedConn. Required.
	Path string
	Args []string
	// Env is the child's environment (default: the parent's).
	Env []string
	// Nice is added to the child's nice value (default 10; at most 19). A
	// negative value leaves it at the parent's.
	Nice int
	// Logger reports restarts (default slog.Default()).
	Logger *slog.Logger
	// Stderr receives the child's standard error (default os.Stderr).
	Stderr *os.File
}

// DefaultNice is Config.Nice's default: at nice 10 the kernel gives the
// index about a tenth of a busy core (weight 110 against 1024) and
// preempts it as soon as the API wakes.
const DefaultNice = 10

// Index is a search.Rebuilder served by a child process.
type Index struct {
	cfg  Config
	log  *slog.Logger
	done chan struct{} // closed when the supervisor has stopped the child

	mu      sync.Mutex
	client  *rpc.Client // nil while the child is down
	proc    *os.Process
	closing bool
}

// Start starts the child and returns once it has opened its index (its
// first answer), or with the child's failure.
func Start(ctx context.Context, cfg Config) (*Index, error) {
	if cfg.Path == "" {
		return nil, errors.New("search process: Config.Path is required")
	}
	if cfg.Nice == 0 {
		cfg.Nice = DefaultNice
	}
	cfg.Nice = min(cfg.Nice, 19)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	x := &Index{cfg: cfg, log: cfg.Logger, done: make(chan struct{})}
	cmd, client, err := x.spawn(ctx)
	if err != nil {
		return nil, err
	}
	x.client, x.proc = client, cmd.Process
	go x.supervise(context.WithoutCancel(ctx), cmd)
	return x, nil
}

// spawn starts one child and waits for its first answer.
func (x *Index) spawn(ctx context.Context) (*exec.Cmd, *rpc.Client, error) {
	mine, theirs, err := socketPair()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(x.cfg.Path, x.cfg.Args...) // #nosec G204 -- the API's own binary, chosen by the API
	cmd.Env = x.cfg.Env
	cmd.Stdout, cmd.Stderr = x.cfg.Stderr, x.cfg.Stderr
	cmd.ExtraFiles = []*os.File{theirs}
	cmd.SysProcAttr = sysProcAttr()
	err = cmd.Start()
	_ = theirs.Close() // the child has its copy: its exit must close the socket
	if err != nil {
		_ = mine.Close()
		return nil, nil, fmt.Errorf("search process: start %s: %w", x.cfg.Path, err)
	}
	if x.cfg.Nice > 0 {
		if err := renice(cmd.Process.Pid, x.cfg.Nice); err != nil {
			x.log.Warn("search process: could not lower its priority", "err", err)
		}
	}
	client := rpc.NewClient(mine)
	call := client.Go("Index.Ping", struct{}{}, &struct{}{}, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		err = call.Error
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		_ = client.Close()
		_ = cmd.Process.Kill()
		werr := cmd.Wait()
		return nil, nil, fmt.Errorf("search process: it did not open its index (%v): %w", werr, err)
	}
	return cmd, client, nil
}

// supervise waits for the child to exit and starts another unless the
// index is closing, backing off from 1 s to 30 s while starts fail.
func (x *Index) supervise(ctx context.Context, cmd *exec.Cmd) {
	defer close(x.done)
	backoff := time.Second
	for {
		err := cmd.Wait()
		x.mu.Lock()
		if x.client != nil {
			_ = x.client.Close()
		}
		x.client, x.proc = nil, nil
		closing := x.closing
		x.mu.Unlock()
		if closing {
			return
		}
		x.log.Error("search process exited; starting another", "err", err)
		for {
			time.Sleep(backoff)
			if x.isClosing() {
				return
			}
			next, client, err := x.spawn(ctx)
			if err == nil {
				x.mu.Lock()
				x.client, x.proc, cmd = client, next.Process, next
				closing := x.closing
				x.mu.Unlock()
				if closing { // Close ran while it started: stop it too
					_ = client.Close()
				}
				backoff = time.Second
				break
			}
			x.log.Error("search process did not start", "err", err, "retryIn", backoff)
			backoff = min(2*backoff, 30*time.Second)
		}
	}
}

func (x *Index) isClosing() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.closing
}

// Pid is the running child's process id, or 0 while there is none.
func (x *Index) Pid() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.proc == nil {
		return 0
	}
	return x.proc.Pid
}

// Close asks the child to close its index and exit (by closing the
// socket), and kills it if it has not within 30 s.
func (x *Index) Close() error {
	x.mu.Lock()
	x.closing = true
	if x.client != nil {
		_ = x.client.Close()
	}
	proc := x.proc
	x.mu.Unlock()
	select {
	case <-x.done:
		return nil
	case <-time.After(30 * time.Second):
	}
	if proc != nil {
		_ = proc.Kill()
	}
	<-x.done
	return errors.New("search process: killed after 30 s without exiting")
}

// call makes one call, waiting for the answer or ctx.
func (x *Index) call(ctx context.Context, method string, args, reply any) error {
	x.mu.Lock()
	client := x.client
	x.mu.Unlock()
	if client == nil {
		return fmt.Errorf("%w: the search process is starting again", search.ErrUnavailable)
	}
	call := client.Go("Index."+method, args, reply, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		return decodeErr(call.Error)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Apply implements search.Index.
func (x *Index) Apply(ctx context.Context, b search.Batch) error {
	return x.call(ctx, "Apply", ApplyArgs{Batch: b}, &struct{}{})
}

// Watermarks implements search.Index.
func (x *Index) Watermarks(ctx context.Context, conversationIDs []string) (map[string]int64, error) {
	var m map[string]int64
	err := x.call(ctx, "Watermarks", conversationIDs, &m)
	return m, err
}

// WatermarkedConversations implements search.Index.
func (x *Index) WatermarkedConversations(ctx context.Context, afterID string, limit int) ([]string, error) {
	var ids []string
	err := x.call(ctx, "WatermarkedConversations", PageArgs{AfterID: afterID, Limit: limit}, &ids)
	return ids, err
}

// SyncedAt implements search.Index.
func (x *Index) SyncedAt(ctx context.Context) (time.Time, error) {
	var r SyncedAtReply
	err := x.call(ctx, "SyncedAt", struct{}{}, &r)
	return r.At, err
}

// SearchMessages implements search.Index.
func (x *Index) SearchMessages(ctx context.Context, q search.MessageQuery) (search.MessagePage, error) {
	var p search.MessagePage
	err := x.call(ctx, "SearchMessages", q, &p)
	return p, err
}

// SearchUsers implements search.Index.
func (x *Index) SearchUsers(ctx context.Context, q search.UserQuery) (search.UserPage, error) {
	var p search.UserPage
	err := x.call(ctx, "SearchUsers", q, &p)
	return p, err
}

// Hides implements search.Rebuilder, a page of 1,000 at a time.
func (x *Index) Hides(ctx context.Context, fn func(search.Hide) error) error {
	var id int64
	if err := x.call(ctx, "HidesStart", struct{}{}, &id); err != nil {
		return err
	}
	for {
		var page HidesPage
		if err := x.call(ctx, "HidesNext", id, &page); err != nil {
			x.endHides(id)
			return err
		}
		for _, h := range page.Hides {
			if err := fn(h); err != nil {
				x.endHides(id)
				return err
			}
		}
		if page.Done {
			return nil
		}
	}
}

func (x *Index) endHides(id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = x.call(ctx, "HidesEnd", id, &struct{}{})
}

// NewGeneration implements search.Rebuilder. A generation lives in the
// child that made it: if that child dies, the generation's calls fail and
// the rebuild starts over.
func (x *Index) NewGeneration(ctx context.Context) (search.Generation, error) {
	var name string
	if err := x.call(ctx, "NewGeneration", struct{}{}, &name); err != nil {
		return nil, err
	}
	return &generation{x: x, name: name}, nil
}

type generation struct {
	x    *Index
	name string
}

func (g *generation) Name() string { return g.name }

func (g *generation) Apply(ctx context.Context, b search.Batch) error {
	return g.x.call(ctx, "Apply", ApplyArgs{Generation: g.name, Batch: b}, &struct{}{})
}

func (g *generation) Promote(ctx context.Context) error {
	return g.x.call(ctx, "Promote", g.name, &struct{}{})
}

func (g *generation) Abandon(ctx context.Context) error {
	return g.x.call(ctx, "Abandon", g.name, &struct{}{})
}

// socketPair is a connected pair of stream sockets: the parent's end as a
// net.Conn, the child's as a file to inherit.
func socketPair() (net.Conn, *os.File, error) {
	fds, err := socketpairFDs()
	if err != nil {
		return nil, nil, fmt.Errorf("search process: socketpair: %w", err)
	}
	mineF := os.NewFile(uintptr(fds[0]), "search-parent")
	theirs := os.NewFile(uintptr(fds[1]), "search-child")
	defer func() { _ = mineF.Close() }()
	mine, err := net.FileConn(mineF)
	if err != nil {
		_ = theirs.Close()
		return nil, nil, fmt.Errorf("search process: socket: %w", err)
	}
	return mine, theirs, nil
}
