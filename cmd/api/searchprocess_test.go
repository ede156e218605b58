package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTheSearchIndexRunsBesideTheAPIAndStopsWithIt: the embedded index is
// a child process at nice 10 with a sixth of the API's memory limit, and a
// stopped API leaves no child behind.
func TestTheSearchIndexRunsBesideTheAPIAndStopsWithIt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	bin := buildBinary(t)
	_, cmd := startBinary(t, bin, t.TempDir(), append(embedded, "MESSENGER_MEMORY_LIMIT=600MiB")...)
	child := childOf(t, cmd.Process.Pid)
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", child))
	if !strings.Contains(string(cmdline), "search-index") {
		t.Fatalf("the API's child is %q, want `api search-index`", cmdline)
	}
	stat := procStat(t, child)
	if nice := stat[16]; nice != "10" {
		t.Errorf("the search process runs at nice %s, want 10", nice)
	}
	environ, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", child))
	if want := "GOMEMLIMIT=104857600"; !strings.Contains(string(environ), want) { // 600 MiB / 6
		t.Errorf("the search process's environment lacks %s", want)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the API stopped with %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(child, 0) == nil && procStat(t, child)[0] != "Z" {
		if time.Now().After(deadline) {
			_ = syscall.Kill(child, syscall.SIGKILL)
			t.Fatalf("the search process %d still runs 10 s after the API stopped", child)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// childOf waits for pid's first child process.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		for _, task := range tasks {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
			if f := strings.Fields(string(b)); len(f) > 0 {
				if c, err := strconv.Atoi(f[0]); err == nil {
					return c
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("process %d has no child", pid)
	return 0
}

// procStat is /proc/<pid>/stat after the command name: [0] is the state,
// [16] the nice value. A process that is gone reads as state "Z".
func procStat(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return []string{"Z"}
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}
