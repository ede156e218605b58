package chat

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Large groups: fan-out on read (issue #25, docs/large-groups.md).
//
// A conversation whose member count passes Config.LargeGroupThreshold is
// marked streamed, once and for good (storage.LargeGroups.MarkStreamed).
// Its durable events are then meant to be appended once to the
// conversation's own stream (the key StreamKey of the same realtime.Log)
// instead of to every member's log, and a subscription reads its user's
// own log plus the streams of the streamed conversations they are in,
// under one composite cursor (compositeCursor). This file holds the parts
// every piece of that shares: the threshold, the stream key, the mark and
// the cursor format.

// DefaultLargeGroupThreshold is Config.LargeGroupThreshold's default.
const DefaultLargeGroupThreshold = 1000

// streamKeyPrefix starts every conversation stream's key. User ids are
// UUIDs (tests: "user-" and hex), never with a ':', so no user's log key
// can be a conversation stream's key.
const streamKeyPrefix = "c:"

// StreamKey is the realtime.Log key of a streamed conversation's stream.
func StreamKey(conversationID string) string { return streamKeyPrefix + conversationID }

// noteMemberCount marks conversationID streamed once it has more than
// Config.LargeGroupThreshold members (n, counted by the caller after an
// add). The mark is sticky: a group that shrinks stays streamed. A mark
// that fails is retried by the next add past the threshold; until then
// the conversation is fanned out on write, as a small one, which loses
// nothing.
func (s *Service) noteMemberCount(ctx context.Context, conversationID string, n int) {
	if n <= s.cfg.LargeGroupThreshold {
		return
	}
	marked, err := s.store.MarkStreamed(context.WithoutCancel(ctx), conversationID)
	switch {
	case err != nil:
		s.cfg.Logger.Warn("large group not marked streamed yet", "conversation", conversationID, "members", n, "err", err)
	case marked:
		s.cfg.Logger.Info("conversation marked streamed", "conversation", conversationID, "members", n)
	}
}

// Streamed reports whether conversationID is streamed (past the
// large-group threshold at some point).
func (s *Service) Streamed(ctx context.Context, conversationID string) (bool, error) {
	got, err := s.store.Streamed(ctx, []string{conversationID})
	return got[conversationID], err
}

// compositeVersion starts every composite cursor. The realtime logs'
// own cursors are unpadded base64url, which never contains '.', so a
// cursor handed out before streams existed (a "legacy" cursor: a position
// in the user's own log alone) is never mistaken for a composite one.
const compositeVersion = "L1."

// compositeCursor is where a subscription stands: a position in the
// user's own log and one in the stream of each streamed conversation it
// reads. Every event handed to a client carries the whole of it, so that
// `after:` resumes every part exactly.
type compositeCursor struct {
	// Own is the position in the user's own log ("" = its start).
	Own string `json:"o"`
	// Streams maps a streamed conversation's id to the position in its
	// stream.
	Streams map[string]string `json:"s,omitempty"`
}

// String encodes c: "L1." + base64url(JSON). The JSON of a map has its
// keys sorted, so one position has one encoding.
func (c compositeCursor) String() string {
	data, _ := json.Marshal(c) // strings only: cannot fail
	return compositeVersion + base64.RawURLEncoding.EncodeToString(data)
}

// parseCursor reads a cursor from a client. legacy says it is a position
// in the user's own log alone, from before streams existed: then c.Own is
// that cursor unchanged. A malformed composite cursor is ErrBadCursor's
// BAD_USER_INPUT on the argument "after".
func parseCursor(s string) (c compositeCursor, legacy bool, err error) {
	body, ok := strings.CutPrefix(s, compositeVersion)
	if !ok {
		if strings.Contains(s, ".") {
			return c, false, badInput("after", "malformed cursor")
		}
		return compositeCursor{Own: s}, true, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || json.Unmarshal(raw, &c) != nil {
		return compositeCursor{}, false, badInput("after", "malformed cursor")
	}
	for id, pos := range c.Streams {
		if id == "" || pos == "" {
			return compositeCursor{}, false, badInput("after", "malformed cursor")
		}
	}
	return c, false, nil
}
