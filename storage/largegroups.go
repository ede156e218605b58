package storage

import "context"

// LargeGroups records which conversations are "streamed": large enough
// (past chat.Config.LargeGroupThreshold) that their durable events are
// appended once to the conversation's own stream instead of to every
// member's log (see docs/large-groups.md). The mark is sticky: once set it
// is never cleared, so a group that shrinks keeps being read the same way
// and no event ever has to move between logs.
type LargeGroups interface {
	// MarkStreamed marks conversationID streamed. Marking it again is a
	// no-op (marked=false); concurrent markers, from any number of
	// processes, see exactly one marked=true.
	MarkStreamed(ctx context.Context, conversationID string) (marked bool, err error)
	// Streamed returns which of ids are streamed; ids that are not (or are
	// unknown) are absent from the map.
	Streamed(ctx context.Context, ids []string) (map[string]bool, error)
	// SetStreamedMember adds (member=true) or removes conversationID from
	// userID's index of streamed conversations. Both are idempotent.
	SetStreamedMember(ctx context.Context, userID, conversationID string, member bool) error
	// StreamedOf lists the streamed conversations in userID's index,
	// ordered by id: what a subscription "from now" reads besides the
	// user's own log, without reading all of the user's conversations.
	StreamedOf(ctx context.Context, userID string) ([]string, error)
}
