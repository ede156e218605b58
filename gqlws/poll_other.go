//go:build !linux

package gqlws

// poller is unavailable here: every socket is read by a goroutine of its
// own.
type poller struct{}

func processPoller() *poller { return nil }

func (*poller) watch(*conn) bool { return false }

func (*poller) forget(*conn) {}
