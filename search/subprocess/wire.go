package subprocess

import (
	"errors"
	"fmt"
	"io"
	"net/rpc"
	"strings"
	"time"

	"messenger/search"
)

// The messages between the two processes (net/rpc, gob-encoded; net/rpc
// wants them exported). They are the protocol between an API and the
// child it started from its own binary, never a public interface.

// ApplyArgs writes a batch to the live index (Generation "") or to a
// generation that NewGeneration created.
type ApplyArgs struct {
	Generation string
	Batch      search.Batch
}

// PageArgs pages WatermarkedConversations.
type PageArgs struct {
	AfterID string
	Limit   int
}

// HidesPage is one page of an iteration over the live index's hides.
type HidesPage struct {
	Hides []search.Hide
	Done  bool
}

// SyncedAtReply carries SyncedAt's time.
type SyncedAtReply struct{ At time.Time }

// Errors cross the socket as text (net/rpc.ServerError); the sentinel
// errors callers check with errors.Is travel as a prefix.
const (
	codeBadCursor   = "bad-cursor: "
	codeUnavailable = "unavailable: "
)

// encodeErr is the child's side: the error with its kind as a prefix.
func encodeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, search.ErrBadCursor):
		return errors.New(codeBadCursor + err.Error())
	case errors.Is(err, search.ErrUnavailable):
		return errors.New(codeUnavailable + err.Error())
	}
	return err
}

// decodeErr is the parent's side: a server error back into the sentinel it
// carried; a broken connection (the child died or is restarting) is
// search.ErrUnavailable.
func decodeErr(err error) error {
	var se rpc.ServerError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		msg := string(se)
		if rest, ok := strings.CutPrefix(msg, codeBadCursor); ok {
			return fmt.Errorf("%w (%s)", search.ErrBadCursor, rest)
		}
		if rest, ok := strings.CutPrefix(msg, codeUnavailable); ok {
			return fmt.Errorf("%w (%s)", search.ErrUnavailable, rest)
		}
		return fmt.Errorf("search process: %s", msg)
	case errors.Is(err, rpc.ErrShutdown), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: the search process stopped: %v", search.ErrUnavailable, err)
	}
	return fmt.Errorf("%w: search process: %v", search.ErrUnavailable, err)
}
