package redislog

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"messenger/netcut"
	"messenger/realtime"
)

// outageRun drives the writer/reader scenario shared by the outage tests:
// one instance appends numbered events while another subscribes; down()
// makes Redis unreachable, up() brings it back (with its data).
func outageRun(t *testing.T, writer, reader *Log, down, up func()) {
	ctx := t.Context()
	u := users(1)[0]
	ch, errf, err := realtime.Chan(ctx, reader, u, "")
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu       sync.Mutex
		acked    []int
		slowest  time.Duration
		failures int
	)
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			err := writer.Append(ctx, []string{u}, realtime.Event{Type: "N", Data: []byte(strconv.Itoa(i))})
			took := time.Since(start)
			mu.Lock()
			if err == nil {
				acked = append(acked, i)
			} else {
				failures++
				slowest = max(slowest, took)
				if !errors.Is(err, realtime.ErrUnavailable) {
					t.Errorf("append during outage: %v, want ErrUnavailable", err)
				}
			}
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
	}()
	ackedLen := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }

	var got []int
	var last string
	take := func(e realtime.Event) {
		n, err := strconv.Atoi(string(e.Data))
		if err != nil {
			t.Fatalf("event %q", e.Data)
		}
		got = append(got, n)
		last = e.Cursor
	}
	for len(got) < 100 {
		take(recv(t, ch))
	}

	down()
	outage := time.Now()
	for e := range ch { // what was read before the outage, then the end
		take(e)
	}
	t.Logf("subscription ended %v after Redis went down: %v", time.Since(outage).Round(time.Millisecond), errf())
	if err := errf(); !errors.Is(err, realtime.ErrUnavailable) {
		t.Fatalf("subscription ended with %v, want ErrUnavailable", err)
	}
	time.Sleep(time.Second) // appends keep failing for a while
	up()
	deadline := time.Now().Add(30 * time.Second)
	for n := ackedLen(); ackedLen() < n+100; {
		if time.Now().After(deadline) {
			t.Fatal("appends did not resume after Redis came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	<-writerDone
	mu.Lock()
	t.Logf("%d appends acknowledged, %d failed (slowest failure %v)", len(acked), failures, slowest.Round(time.Millisecond))
	if failures == 0 {
		t.Error("no append failed while Redis was down")
	}
	if slowest > 5*time.Second {
		t.Errorf("a failing append took %v: not bounded", slowest)
	}
	want := append([]int(nil), acked...)
	mu.Unlock()

	// Resume from the last cursor, retrying while Redis warms up.
	var ch2 <-chan realtime.Event
	for {
		ch2, _, err = realtime.Chan(ctx, reader, u, last)
		if err == nil {
			break
		}
		if errors.Is(err, realtime.ErrCursorExpired) {
			t.Logf("resume: %v (the client resyncs; nothing is skipped silently)", err)
			return
		}
		if !errors.Is(err, realtime.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("resume: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for got[len(got)-1] < want[len(want)-1] {
		take(recv(t, ch2))
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("received %d after %d: out of order or twice", got[i], got[i-1])
		}
	}
	seen := map[int]bool{}
	for _, n := range got {
		seen[n] = true
	}
	for _, n := range want {
		if !seen[n] {
			t.Fatalf("acknowledged event %d never arrived", n)
		}
	}
	t.Logf("received %d events, every one of the %d acknowledged, in order, none twice", len(got), len(want))
}

// TestRedisRestartLosesNothingAcknowledged restarts the shared Redis of
// scripts/services.sh (same port, AOF kept), so it only runs when asked:
// MESSENGER_TEST_OUTAGE=1.
func TestRedisRestartLosesNothingAcknowledged(t *testing.T) {
	if os.Getenv("MESSENGER_TEST_OUTAGE") != "1" {
		t.Skip("restarts the shared Redis: set MESSENGER_TEST_OUTAGE=1 to run")
	}
	cfg := singleConfig(t)
	services, err := filepath.Abs(filepath.Join("..", "..", "scripts", "services.sh"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		out, err := exec.Command(services, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("services.sh %v: %v\n%s", args, err, out)
		}
	}
	writer := open(t, cfg)
	reader := sameKeys(t, writer)
	outageRun(t, writer, reader, func() { run("stop", "redis") }, func() { run("start", "redis") })
}

// TestCutConnectionEndsSubscriptionsAndResumes cuts the network between the
// logs and Redis (a proxy that refuses and drops connections), leaving the
// shared server alone: appends fail fast with ErrUnavailable, subscriptions
// end with it, and resuming afterwards misses nothing acknowledged.
func TestCutConnectionEndsSubscriptionsAndResumes(t *testing.T) {
	cfg := singleConfig(t)
	p := netcut.New(t, cfg.Addrs[0])
	cfg.Addrs = []string{p.Addr()}
	writer := open(t, cfg)
	reader := sameKeys(t, writer)
	outageRun(t, writer, reader, p.Cut, p.Restore)
}

// sameKeys opens a second instance (a second API process) on l's keys.
func sameKeys(t *testing.T, l *Log) *Log {
	cfg := l.cfg
	other, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	return other
}
