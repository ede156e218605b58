package server

import (
	"context"
	"sync"

	"messenger/auth"
	"messenger/gqlws"
	"messenger/revocation"
)

// sessionSockets finds the open websockets of each session, so that when a
// session ends anywhere in the fleet (the revocation bus tells every
// instance) its sockets here close with 4403 at once, rather than when
// their token expires.
type sessionSockets struct {
	mu    sync.Mutex
	next  uint64
	byID  map[string]map[uint64]func(code int, reason string)
	watch func() // stops the bus subscription
}

func newSessionSockets() *sessionSockets {
	return &sessionSockets{byID: map[string]map[uint64]func(int, string){}}
}

// onAck is gqlws.Config.OnAck: it files an accepted socket under its
// session until the socket finishes.
func (s *sessionSockets) onAck(ctx context.Context, closeFn func(code int, reason string)) func() {
	sid := auth.SessionID(ctx)
	if sid == "" {
		return func() {}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	n := s.next
	if s.byID[sid] == nil {
		s.byID[sid] = map[uint64]func(int, string){}
	}
	s.byID[sid][n] = closeFn
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.byID[sid], n)
		if len(s.byID[sid]) == 0 {
			delete(s.byID, sid)
		}
	}
}

// ended closes the sockets of sessions that ended.
func (s *sessionSockets) ended(e revocation.Ended) {
	var closers []func(int, string)
	s.mu.Lock()
	for _, sid := range e.SessionIDs {
		for _, c := range s.byID[sid] {
			closers = append(closers, c)
		}
	}
	s.mu.Unlock()
	for _, c := range closers {
		c(gqlws.CloseForbidden, "Forbidden: session ended")
	}
}

// count is how many sockets are filed (tests).
func (s *sessionSockets) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.byID {
		n += len(m)
	}
	return n
}
