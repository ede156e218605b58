// Command loadgen drives a running messenger API over its public interface
// (GraphQL over HTTP and graphql-transport-ws) and measures what one node
// costs: send→receive latency percentiles from an open-loop schedule, group
// fan-out time, connection storms, history paging, and the server's memory
// and CPU per connection.
//
//	go run ./cmd/loadgen -url http://127.0.0.1:8080 -scenario direct -rate 5000 -duration 30s -out direct.json
//
// Scenarios: idle, direct (with -find-max), group, storm, history. Each run
// prints one summary line and can write a JSON result (-out) for comparison.
// See docs/CAPACITY.md for how the numbers multiply out to a fleet.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	neturl "net/url"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	URL          string
	AlsoURLs     string
	Scenario     string
	Label        string
	Duration     time.Duration
	Warmup       time.Duration
	Drain        time.Duration
	Rate         float64
	Conns        int
	Pairs        int
	Members      int
	Users        int
	UsersFile    string
	SignupConc   int
	Workers      int
	Sources      int
	DialConc     int
	ServerPID    int
	Watch        string
	Out          string
	Query        string
	FindMax      bool
	MaxP99       time.Duration
	StepDuration time.Duration
	StepFactor   float64
	MaxRate      float64
	IdleWindow   time.Duration
	HistoryConvs int
	HistoryMsgs  int
	PageSize     int
	InProcess    bool
	CPUProfile   string
	DataDir      string
	Commit       string
	Target       string
	PeerAPIKey   string
	PeerSecret   string
}

func main() {
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	var c config
	fs := flag.NewFlagSet("loadgen", flag.ExitOnError)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "API base URL")
	fs.StringVar(&c.AlsoURLs, "also-url", "", "more API instances of the same fleet (comma-separated base URLs): sends go round-robin over -url and these, sockets stay on -url (direct, group)")
	fs.StringVar(&c.Scenario, "scenario", "direct", "idle | direct | group | storm | history")
	fs.StringVar(&c.Label, "label", "", "free text stored in the result (e.g. embedded, redis+cassandra)")
	fs.DurationVar(&c.Duration, "duration", 30*time.Second, "measured time of a direct, group or history run")
	fs.DurationVar(&c.Warmup, "warmup", 3*time.Second, "load before measuring starts (not recorded); idle: settling time before memory is read")
	fs.DurationVar(&c.Drain, "drain", 5*time.Second, "how long to wait for outstanding deliveries after the last send")
	fs.Float64Var(&c.Rate, "rate", 0, "messages/s (direct 5000, group 100), connections/s (storm 500), pages/s (history 200)")
	fs.IntVar(&c.Conns, "conns", 0, "connections (idle 15000, storm 2000)")
	fs.IntVar(&c.Pairs, "pairs", 500, "direct: 1:1 conversations (two users and two sockets each)")
	fs.IntVar(&c.Members, "members", 1000, "group: members, every one online with one socket")
	fs.IntVar(&c.Users, "users", 0, "idle, storm: distinct users the connections are spread over (default min(conns, 1000))")
	fs.StringVar(&c.UsersFile, "users-file", os.TempDir()+"/messenger-loadgen-users.json", "cache of signed-up users and tokens, reused while the server accepts them (empty: none)")
	fs.IntVar(&c.SignupConc, "signup-concurrency", 8, "signUp requests in flight while creating users")
	fs.IntVar(&c.Workers, "workers", 256, "concurrent HTTP requests at most (queued sends still count from their intended time)")
	fs.IntVar(&c.Sources, "sources", 8, "loopback source addresses 127.0.0.1..N for client sockets")
	fs.IntVar(&c.DialConc, "dial-concurrency", 64, "websocket opens in flight while connecting (idle, direct, group)")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "server process for memory and CPU (default: whoever listens on the URL's port)")
	fs.StringVar(&c.Watch, "watch", "", "more processes whose CPU to report: name=pid or name=:port, comma-separated (e.g. redis=:6379,cassandra=:9042)")
	fs.StringVar(&c.Out, "out", "", "write the JSON result here")
	fs.StringVar(&c.Query, "query", eventsQuery, "the events subscription every socket sends")
	fs.BoolVar(&c.FindMax, "find-max", false, "direct: step the rate up and report the highest whose p99 stays under -max-p99")
	fs.DurationVar(&c.MaxP99, "max-p99", 50*time.Millisecond, "find-max: p99 bound")
	fs.DurationVar(&c.StepDuration, "step-duration", 10*time.Second, "find-max: time per rate step")
	fs.Float64Var(&c.StepFactor, "step-factor", 1.25, "find-max: each step's rate is the previous times this")
	fs.Float64Var(&c.MaxRate, "max-rate", 100000, "find-max: stop stepping here")
	fs.DurationVar(&c.IdleWindow, "idle-window", 10*time.Second, "idle: window over which the server's idle CPU is measured")
	fs.IntVar(&c.HistoryConvs, "history-convs", 20, "history: conversations of the reading user")
	fs.IntVar(&c.HistoryMsgs, "history-messages", 300, "history: messages per conversation (seeded once, every 4th with reactions)")
	fs.IntVar(&c.PageSize, "page-size", 30, "history: messages per page")
	fs.StringVar(&c.Target, "target", "messenger", "system under test: messenger (this API) or centrifugo (a Centrifugo server at -url; direct, group and idle only)")
	fs.StringVar(&c.PeerAPIKey, "centrifugo-api-key", "loadgen-api-key", "with -target centrifugo: its http_api.key")
	fs.StringVar(&c.PeerSecret, "centrifugo-secret", "loadgen-hmac-secret-at-least-32-bytes", "with -target centrifugo: its client.token.hmac_secret_key")
	fs.BoolVar(&c.InProcess, "inprocess", false, "run the API (embedded backends, as cmd/api wires them) inside this process, for -cpuprofile")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of this process over the measured phase (with -inprocess: server and load generator together)")
	fs.StringVar(&c.DataDir, "data-dir", "", "with -inprocess: data directory (default: a temporary one, removed at exit)")
	fs.StringVar(&c.Commit, "commit", "", "source revision to record (default: git describe --always --dirty of the current directory)")
	_ = fs.Parse(os.Args[1:])
	if c.Commit == "" {
		c.Commit = commit()
	}
	if err := run(c); err != nil {
		log.Fatalf("loadgen: %v", err)
	}
}

func run(c config) error {
	limit := raiseFileLimit()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if c.InProcess {
		u, err := neturl.Parse(c.URL)
		if err != nil {
			return fmt.Errorf("-url: %w", err)
		}
		url, cleanup, err := startInProcess(ctx, u.Host, c.DataDir)
		if err != nil {
			return err
		}
		defer cleanup()
		c.URL = url
		c.ServerPID = os.Getpid()
	}
	if c.ServerPID == 0 {
		pid, err := pidListening(c.URL)
		if err != nil {
			log.Printf("server memory and CPU not measured: %v", err)
		}
		c.ServerPID = pid
	}
	nd := newNetDialer(strings.TrimPrefix(strings.TrimPrefix(c.URL, "http://"), "https://"), c.Sources)
	r := &runner{
		cfg:  c,
		api:  newAPI(c.URL, c.Workers, nd.DialContext),
		ws:   newWSClient(c.URL, c.Query, nd),
		pids: map[string]int{"server": c.ServerPID, "loadgen": os.Getpid()},
		res: &result{
			Scenario: c.Scenario, Label: c.Label, URL: c.URL, Commit: c.Commit, GoVersion: runtime.Version(),
			Started: time.Now().UTC().Format(time.RFC3339), LoadAvgStart: loadAvg(),
			Latency: map[string]*summary{}, Params: map[string]any{}, FileLimit: limit,
		},
	}
	switch c.Target {
	case "messenger":
		m := &messenger{api: r.api, ws: r.ws, usersFile: c.UsersFile, signupK: c.SignupConc}
		for _, u := range strings.Split(c.AlsoURLs, ",") {
			if u = strings.TrimSpace(u); u != "" {
				m.more = append(m.more, newAPI(u, c.Workers, nd.DialContext))
			}
		}
		if len(m.more) > 0 {
			r.res.Params["alsoURLs"] = c.AlsoURLs
		}
		r.plat = m
	case "centrifugo":
		if c.Scenario != "direct" && c.Scenario != "group" && c.Scenario != "idle" {
			return fmt.Errorf("-target centrifugo runs the direct, group and idle scenarios, not %q", c.Scenario)
		}
		r.plat = newCentrifugo(c.URL, c.PeerAPIKey, c.PeerSecret, c.Workers, nd)
	default:
		return fmt.Errorf("unknown -target %q (messenger, centrifugo)", c.Target)
	}
	r.res.Params["target"] = c.Target
	if c.InProcess {
		delete(r.pids, "loadgen") // one process: "server" is both
		r.res.Notes = append(r.res.Notes, "in-process: server and load generator share one process; CPU and memory are of both")
	}
	for _, w := range strings.Split(c.Watch, ",") {
		name, spec, ok := strings.Cut(strings.TrimSpace(w), "=")
		if !ok {
			continue
		}
		var pid int
		var err error
		if port, found := strings.CutPrefix(spec, ":"); found {
			p, _ := strconv.Atoi(port)
			pid, err = pidOnPort(p)
		} else {
			pid, err = strconv.Atoi(spec)
		}
		if err != nil {
			log.Printf("-watch %s: %v", w, err)
			continue
		}
		r.pids[name] = pid
	}
	r.res.Server.PID = c.ServerPID

	var err error
	switch c.Scenario {
	case "idle":
		err = r.idle(ctx)
	case "direct":
		err = r.direct(ctx)
	case "group":
		err = r.group(ctx)
	case "storm":
		err = r.storm(ctx)
	case "history":
		err = r.history(ctx)
	default:
		return fmt.Errorf("unknown scenario %q (idle, direct, group, storm, history)", c.Scenario)
	}
	r.res.LoadAvgEnd = loadAvg()
	r.res.Errors, r.res.ErrorExamples, _ = r.errs.snapshot()
	if ops := r.res.Sent; ops > 0 && r.res.ServerCPUPerOp == 0 && r.res.CPUCores["server"] > 0 && r.res.DurationSec > 0 {
		r.res.ServerCPUPerOp = round3(r.res.CPUCores["server"] * r.res.DurationSec * 1e6 / float64(ops))
	}
	if err != nil {
		r.res.Notes = append(r.res.Notes, "aborted: "+err.Error())
	}
	r.res.Summary = r.summaryLine()
	fmt.Println(r.res.Summary)
	if c.Out != "" {
		b, _ := json.MarshalIndent(r.res, "", "  ")
		if werr := os.WriteFile(c.Out, append(b, '\n'), 0o644); werr != nil {
			return werr
		}
	}
	return err
}

// runner holds what every scenario shares.
type runner struct {
	cfg config
	api *api
	ws  *wsClient
	// plat is the system under test for the direct, group and idle
	// scenarios: this API, or a peer (-target).
	plat platform
	pids map[string]int
	errs errorCounts
	res  *result
	prof func() // stops the CPU profile, when one is running

	warnedRSS bool
}

// result is one run, as written to -out.
type result struct {
	Scenario      string              `json:"scenario"`
	Label         string              `json:"label,omitempty"`
	URL           string              `json:"url"`
	Commit        string              `json:"commit"`
	GoVersion     string              `json:"goVersion"`
	Started       string              `json:"started"`
	LoadAvgStart  string              `json:"loadAvgStart"`
	LoadAvgEnd    string              `json:"loadAvgEnd"`
	FileLimit     uint64              `json:"fileLimit"`
	Params        map[string]any      `json:"params"`
	DurationSec   float64             `json:"durationSec"`
	Connections   int                 `json:"connections"`
	Sent          int64               `json:"sent"`
	SendErrors    int64               `json:"sendErrors"`
	Delivered     int64               `json:"delivered"`
	Lost          int64               `json:"lost"`
	Throughput    float64             `json:"throughputPerSec"`
	Deliveries    float64             `json:"deliveriesPerSec,omitempty"`
	Latency       map[string]*summary `json:"latency"`
	Errors        map[string]int64    `json:"errors"`
	ErrorExamples map[string]string   `json:"errorExamples,omitempty"`
	Server        serverStats         `json:"server"`
	CPUCores      map[string]float64  `json:"cpuCores,omitempty"`
	// ServerCPUPerOp is server CPU time per message sent (direct, group)
	// or per page (history), in microseconds: the figure that survives a
	// busy machine, since it does not depend on how much CPU the server got.
	ServerCPUPerOp float64  `json:"serverCpuMicrosPerOp,omitempty"`
	Steps          []step   `json:"steps,omitempty"`
	MaxRate        float64  `json:"maxRateUnderP99,omitempty"`
	Backlog        *backlog `json:"backlog,omitempty"`
	Notes          []string `json:"notes,omitempty"`
	Summary        string   `json:"summary"`
}

type serverStats struct {
	PID          int     `json:"pid"`
	RSSBeforeKiB int64   `json:"rssBeforeKiB"`
	RSSAfterKiB  int64   `json:"rssAfterKiB"`
	PerConnKiB   float64 `json:"perConnKiB"`
	IdleCPUCores float64 `json:"idleCpuCores,omitempty"`
}

// step is one rate of a -find-max run.
type step struct {
	Rate       float64  `json:"rate"`
	Seconds    float64  `json:"seconds"` // from the first measured send's schedule to the last send's end
	Throughput float64  `json:"throughputPerSec"`
	SendErrors int64    `json:"sendErrors"`
	Lost       int64    `json:"lost"`
	Latency    *summary `json:"latency"`
	ServerCPU  float64  `json:"serverCpuCores"`
	CPUPerOp   float64  `json:"serverCpuMicrosPerOp"`
	LoadAvg    string   `json:"loadAvg"`
}

func (r *runner) summaryLine() string {
	res := r.res
	var b strings.Builder
	fmt.Fprintf(&b, "scenario=%s", res.Scenario)
	if res.Label != "" {
		fmt.Fprintf(&b, " label=%s", res.Label)
	}
	for _, k := range []string{"rate", "members", "pairs"} {
		if v, ok := res.Params[k]; ok {
			fmt.Fprintf(&b, " %s=%v", k, v)
		}
	}
	fmt.Fprintf(&b, " conns=%d", res.Connections)
	if res.Sent > 0 {
		fmt.Fprintf(&b, " sent=%d thr=%.0f/s", res.Sent, res.Throughput)
	}
	if res.Deliveries > 0 {
		fmt.Fprintf(&b, " deliv=%.0f/s", res.Deliveries)
	}
	if res.Lost != 0 {
		fmt.Fprintf(&b, " lost=%d", res.Lost)
	}
	for _, k := range []string{"e2e", "timeToLast", "firstEvent", "ack", "reconnectAck", "messagesPage", "conversationsPage"} {
		if s := res.Latency[k]; s != nil && s.Count > 0 {
			fmt.Fprintf(&b, " %s[p50=%.2f p99=%.2f p99.9=%.2f p99.99=%.2f max=%.2f ms]", k, s.P50, s.P99, s.P999, s.P9999, s.Max)
		}
	}
	if res.MaxRate > 0 {
		fmt.Fprintf(&b, " max_rate_p99<%v=%.0f/s", r.cfg.MaxP99, res.MaxRate)
	}
	if res.Backlog != nil {
		fmt.Fprintf(&b, " backlog=%v", res.Backlog.Growing)
	}
	fmt.Fprintf(&b, " errors=%s", r.errs.String())
	if res.Server.PerConnKiB != 0 {
		fmt.Fprintf(&b, " server_kib_per_conn=%.1f", res.Server.PerConnKiB)
	}
	if res.Server.IdleCPUCores != 0 {
		fmt.Fprintf(&b, " idle_cpu=%.3f", res.Server.IdleCPUCores)
	}
	if res.ServerCPUPerOp > 0 {
		fmt.Fprintf(&b, " server_cpu_us_per_op=%.0f", res.ServerCPUPerOp)
	}
	for _, k := range []string{"server", "loadgen", "redis", "cassandra"} {
		if v, ok := res.CPUCores[k]; ok {
			fmt.Fprintf(&b, " cpu_%s=%.2f", k, v)
		}
	}
	fmt.Fprintf(&b, " load=%q commit=%s", res.LoadAvgEnd, res.Commit)
	return b.String()
}
