//go:build unix

package subprocess

import "syscall"

// socketpairFDs makes a connected pair of Unix stream sockets, both
// close-on-exec (exec.Cmd passes the child's end on as fd 3 regardless).
func socketpairFDs() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return fds, err
	}
	syscall.CloseOnExec(fds[0])
	syscall.CloseOnExec(fds[1])
	return fds, nil
}
