package subprocess

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// sysProcAttr: the child is killed when the parent dies, even when the
// parent is killed with SIGKILL and cannot close anything.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// renice sets every thread of pid to nice n. Linux keeps a nice value per
// thread and a new thread inherits its creator's, so once each existing
// thread is set (a few passes, for threads started meanwhile) every later
// one is too.
func renice(pid, n int) error {
	done := map[int]bool{}
	for range 5 {
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		if err != nil {
			return err
		}
		fresh := 0
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, n); err != nil {
				return fmt.Errorf("setpriority %d: %w", tid, err)
			}
			done[tid] = true
			fresh++
		}
		if fresh == 0 {
			return nil
		}
	}
	return nil
}
