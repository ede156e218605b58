package cassandra

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// Member counts live in members.member_count, a static column of the
// conversation's members partition (migration 019). Every join and removal
// is a conditional batch on that partition that also moves the count from
// the value it read (memberCountStmt), so concurrent changes from any
// number of instances serialize on one Paxos round each and the count
// stays exact: a change whose condition fails rereads and retries. A
// conversation created before the count existed has none (null): the first
// change, or the first MemberCount, counts its members once and sets the
// count with IF member_count = null, which only one of them wins.

// MemberCount implements storage.Store.
func (s *Store) MemberCount(ctx context.Context, conversationID string) (int, error) {
	n, stored, err := s.readMemberCount(ctx, conversationID)
	if err != nil || stored || n == 0 {
		return n, err
	}
	// Store the count of an older conversation; losing the race to a
	// concurrent join or removal is fine: theirs is as exact.
	_, err = s.lwt(ctx, "UPDATE members SET member_count = ? WHERE conversation_id = ? IF member_count = null",
		n, conversationID).MapScanCAS(map[string]any{})
	return n, wrap(err, "store the member count of %s", conversationID)
}

// readMemberCount returns conversationID's stored member count
// (stored=true), or, when none is stored yet, its members counted by
// reading their ids.
func (s *Store) readMemberCount(ctx context.Context, conversationID string) (n int, stored bool, err error) {
	var count *int
	err = s.query(ctx, "SELECT member_count FROM members WHERE conversation_id = ? LIMIT 1", conversationID).Scan(&count)
	if err != nil && !errors.Is(err, gocql.ErrNotFound) {
		return 0, false, wrap(err, "read the member count of %s", conversationID)
	}
	if count != nil {
		return *count, true, nil
	}
	ids, err := s.MemberIDs(ctx, conversationID)
	return len(ids), false, err
}

// memberCountStmt is the statement of a conditional batch on the members
// partition that moves the count from what was read (stored=false: none
// stored yet) to to.
func memberCountStmt(conversationID string, from int, stored bool, to int) stmt {
	if !stored {
		return stmt{"UPDATE members SET member_count = ? WHERE conversation_id = ? IF member_count = null", []any{to, conversationID}}
	}
	return stmt{"UPDATE members SET member_count = ? WHERE conversation_id = ? IF member_count = ?", []any{to, conversationID, from}}
}

// maxMemberTries bounds the rounds of a join or removal that keeps losing
// the member count's condition to concurrent changes of one conversation
// (a join storm): each round is one Paxos transaction on the partition.
const maxMemberTries = 40

// memberBackoff waits before round try+1 of a membership change whose
// condition failed: a random pause growing to 25 ms, so that racing
// changes spread out instead of colliding again.
func memberBackoff(ctx context.Context, try int) error {
	if try == 0 {
		return nil
	}
	ceiling := time.Duration(min(1<<try, 25)) * time.Millisecond
	return sleep(ctx, time.Duration(rand.Int64N(int64(ceiling))))
}
