//go:build unix && !linux

package subprocess

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }

// renice: outside Linux the nice value is the process's.
func renice(pid, n int) error { return syscall.Setpriority(syscall.PRIO_PROCESS, pid, n) }
