// Command hashmem measures what a burst of concurrent logIns does to the
// API's memory: it runs the API in this process (embedded backends, a
// temporary data directory, passwords at the production argon2id cost of
// 64 MiB, the API's GC target of 400 %), signs one user up, then sends n
// logIns at once over HTTP and reports the process's resident memory
// before, at its peak during the burst, just after, after some idle time,
// and after handing free memory back to the OS (debug.FreeOSMemory).
//
//	go run ./cmd/hashmem -n 20                                    # the defaults: one hash per core, memory handed back after 1 s idle
//	go run ./cmd/hashmem -n 20 -max-hashes -1 -return-after -1ns  # no bound, nothing handed back: as before
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"messenger/auth"
	"messenger/cmd/internal/inproc"
	"messenger/server"
)

func main() {
	n := flag.Int("n", 20, "concurrent logIns")
	maxHashes := flag.Int("max-hashes", 0, "hashes at once: 0 the default (one per core), -1 no bound")
	wait := flag.Duration("wait", 0, "how long a hash may queue (0: the default)")
	returnAfter := flag.Duration("return-after", 0, "idle time after which the gate collects the hashes' garbage (0: the default, negative: never)")
	gogc := flag.Int("gogc", 400, "the garbage collector's target, as the API sets it")
	idle := flag.Duration("idle", 5*time.Second, "how long to stay idle after the burst before measuring again")
	flag.Parse()
	if err := run(*n, *maxHashes, *wait, *returnAfter, *gogc, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "hashmem:", err)
		os.Exit(1)
	}
}

func run(n, maxHashes int, wait, returnAfter time.Duration, gogc int, idle time.Duration) error {
	debug.SetGCPercent(gogc)
	if maxHashes < 0 {
		maxHashes = n // as many slots as requests: no bound
	}
	gate := auth.NewHashGate(auth.HashGateConfig{Max: maxHashes, Wait: wait, ReturnAfter: returnAfter})
	api, closeAPI, err := inproc.Open(inproc.Config{Name: "hashmem", Hashes: gate})
	if err != nil {
		return err
	}
	defer closeAPI()
	svc, tokens, store, quiet := api.Chat, api.Tokens, api.Store, api.Logger
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: server.New(server.Config{Chat: svc, Tokens: tokens, Loaders: store, Logger: quiet}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/graphql"

	if _, err := post(url, `mutation { signUp(input: {username: "hashmem", password: "correct horse battery", displayName: "H"}) { token } }`); err != nil {
		return err
	}
	runtime.GC()
	debug.FreeOSMemory()
	handBack := fmt.Sprintf("garbage collected after %v idle", returnAfter)
	switch {
	case returnAfter == 0:
		handBack = "garbage collected after the default idle time"
	case returnAfter < 0:
		handBack = "garbage never collected by the gate"
	}
	fmt.Printf("GOMAXPROCS %d, GOGC %d, %d concurrent logIns, at most %d hashes at once (wait %v, %s)\n",
		runtime.GOMAXPROCS(0), gogc, n, gate.Max(), gate.Wait(), handBack)
	report("before", rss())

	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if r := rss(); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	var ok, limited, failed atomic.Int64
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, err := post(url, `mutation { logIn(input: {username: "hashmem", password: "correct horse battery"}) { token } }`)
			switch {
			case err != nil:
				failed.Add(1)
			case code == "":
				ok.Add(1)
			case code == "RATE_LIMITED":
				limited.Add(1)
			default:
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(stop)
	<-sampled
	fmt.Printf("burst: %d signed in, %d RATE_LIMITED, %d failed, in %v\n", ok.Load(), limited.Load(), failed.Load(), took.Round(time.Millisecond))
	report("peak during the burst", peak.Load())
	report("just after", rss())
	time.Sleep(idle)
	report(fmt.Sprintf("after %v idle", idle), rss())
	debug.FreeOSMemory()
	report("after debug.FreeOSMemory", rss())
	return nil
}

// post runs one operation and returns its first error code ("" if none).
func post(url, query string) (string, error) {
	body, _ := json.Marshal(map[string]any{"query": query})
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	var r struct {
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return "", fmt.Errorf("response %s: %w", b, err)
	}
	if len(r.Errors) > 0 {
		return r.Errors[0].Extensions.Code, nil
	}
	return "", nil
}

func report(when string, rssBytes int64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("%-28s RSS %5d MiB   heap in use %5d MiB   heap held but free %5d MiB\n", when, rssBytes>>20, ms.HeapInuse>>20, (ms.HeapIdle-ms.HeapReleased)>>20)
}

// rss is the process's resident set size, from /proc/self/status (Linux).
func rss() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
