package storage

import "context"

// MemberPage is how many members one read of a conversation's members
// returns on request and fan-out paths: a 200,000-member group is read in
// 200 queries of 1,000 rows, never in one.
const MemberPage = 1000

// MemberLister is the part of Store that EachMemberPage reads.
type MemberLister interface {
	Members(ctx context.Context, conversationID, afterUserID string, limit int) ([]Member, error)
}

// EachMemberPage calls fn with a conversation's members, ordered by user
// id, MemberPage at a time, until fn returns an error or the members end.
// A member who joins or leaves meanwhile may or may not be seen (each page
// is read as it is then).
func EachMemberPage(ctx context.Context, s MemberLister, conversationID string, fn func([]Member) error) error {
	after := ""
	for {
		page, err := s.Members(ctx, conversationID, after, MemberPage)
		if err != nil {
			return err
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return err
			}
		}
		if len(page) < MemberPage {
			return nil
		}
		after = page[len(page)-1].UserID
	}
}
