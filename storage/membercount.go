package storage

import "context"

// MemberCounts counts a conversation's current members in constant time,
// so that a conversation list, an invite preview or the large-group
// threshold never read a 200,000-member list to learn its length.
type MemberCounts interface {
	// MemberCount returns how many members conversationID has now: exact
	// under concurrent AddMembers and RemoveMember from any number of
	// processes (every membership change moves the count in the same
	// atomic write). An unknown conversation has 0.
	MemberCount(ctx context.Context, conversationID string) (int, error)
}

// DistinctMembers counts the distinct users of members: the member count of
// a conversation created with them.
func DistinctMembers(members []Member) int {
	seen := make(map[string]struct{}, len(members))
	for _, m := range members {
		seen[m.UserID] = struct{}{}
	}
	return len(seen)
}
