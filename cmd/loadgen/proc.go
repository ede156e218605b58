package main

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// raiseFileLimit lifts the soft open-files limit to the hard one: every
// socket is a file, and the machines here allow 20,000 per process.
func raiseFileLimit() uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	if r.Cur < r.Max {
		r.Cur = r.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
	}
	return r.Cur
}

// rssKiB is the VmRSS of pid and of its descendants (the API's search
// index runs in a child process), from /proc/<pid>/status, in KiB.
func rssKiB(pid int) int64 {
	var sum int64
	for _, p := range family(pid) {
		sum += ownRSSKiB(p)
	}
	return sum
}

// family is pid and every live descendant of it.
func family(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return []int{pid}
	}
	kids := map[int][]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp := parentOf(p); pp > 0 {
			kids[pp] = append(kids[pp], p)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, kids[out[i]]...)
	}
	return out
}

// parentOf is field 4 (ppid) of /proc/<pid>/stat.
func parentOf(pid int) int {
	f := statFields(pid)
	if len(f) < 2 {
		return 0
	}
	pp, _ := strconv.Atoi(f[1])
	return pp
}

// statFields are the fields of /proc/<pid>/stat after the command name:
// f[0] is field 3 (state).
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	return strings.Fields(s)
}

func ownRSSKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n
			}
		}
	}
	return 0
}

const clockTicks = 100 // USER_HZ on Linux

// cpuTime is utime+stime (user and kernel CPU used so far) of pid and of
// its live descendants: the API's search index is a child process.
func cpuTime(pid int) time.Duration {
	var sum time.Duration
	for _, p := range family(pid) {
		f := statFields(p) // utime is field 14, stime 15
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		k, _ := strconv.ParseInt(f[12], 10, 64)
		sum += time.Duration(u+k) * time.Second / clockTicks
	}
	return sum
}

// cpuMeter measures the CPU a set of processes uses over a window, in cores.
type cpuMeter struct {
	pids  map[string]int
	start map[string]time.Duration
	at    time.Time
}

func newCPUMeter(pids map[string]int) *cpuMeter {
	m := &cpuMeter{pids: pids, start: map[string]time.Duration{}, at: time.Now()}
	for name, pid := range pids {
		m.start[name] = cpuTime(pid)
	}
	return m
}

// cores returns each process's average CPU use since the meter started
// (1.0 = one core busy).
func (m *cpuMeter) cores() map[string]float64 {
	el := time.Since(m.at).Seconds()
	out := map[string]float64{}
	for name, pid := range m.pids {
		if pid <= 0 || el <= 0 {
			continue
		}
		out[name] = round3((cpuTime(pid) - m.start[name]).Seconds() / el)
	}
	return out
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// pidListening finds the process listening on the TCP port of rawURL, from
// /proc/net/tcp{,6} (the socket's inode) and /proc/*/fd (who holds it).
func pidListening(rawURL string) (int, error) {
	port := 0
	if u, err := url.Parse(rawURL); err == nil {
		port, _ = strconv.Atoi(u.Port())
		if port == 0 && u.Scheme == "http" {
			port = 80
		}
	}
	if port == 0 {
		return 0, fmt.Errorf("no port in %q", rawURL)
	}
	return pidOnPort(port)
}

func pidOnPort(port int) (int, error) {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" { // 0A = LISTEN
				continue
			}
			i := strings.LastIndexByte(fields[1], ':')
			p, err := strconv.ParseInt(fields[1][i+1:], 16, 32)
			if err == nil && int(p) == port {
				inodes["socket:["+fields[9]+"]"] = true
			}
		}
		fh.Close()
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("nothing listens on port %d", port)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil || pid == os.Getpid() {
			continue
		}
		fds, _ := os.ReadDir(p + "/fd")
		for _, fd := range fds {
			if link, err := os.Readlink(p + "/fd/" + fd.Name()); err == nil && inodes[link] {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("no process holds the socket listening on port %d", port)
}

// loadAvg is the 1-, 5- and 15-minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// commit is the source revision the run measured, best effort ("-dirty"
// when the work tree has changes).
func commit() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty", "--abbrev=7").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
