//go:build !unix

package subprocess

import (
	"errors"
	"syscall"
)

// Start fails with errors.ErrUnsupported here: there is no socket pair to
// hand the child. The API then keeps the index in its own process.
func socketpairFDs() ([2]int, error) { return [2]int{}, errors.ErrUnsupported }

func sysProcAttr() *syscall.SysProcAttr { return nil }

func renice(pid, n int) error { return nil }
