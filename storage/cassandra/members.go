package cassandra

import (
	"context"
	"errors"
	"fmt"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

const memberColumns = "user_id, active, role, joined_at, joined_seq, read_seq, delivered_seq, muted_until, notification_level"

// memberRow is one row of members; inactive rows are former members, kept
// so their cursor registers survive a re-join.
type memberRow struct {
	storage.Member
	active bool
}

func scanMember(conversationID string, scan func(dest ...any) bool) (memberRow, bool) {
	var r memberRow
	var role string
	var joinedAt, mutedUntil time.Time
	var level string
	if !scan(&r.UserID, &r.active, &role, &joinedAt, &r.JoinedSeq, &r.ReadSeq, &r.DeliveredSeq, &mutedUntil, &level) {
		return r, false
	}
	r.MutedUntil, r.NotificationLevel = utc(mutedUntil), storage.NotificationLevel(level)
	r.ConversationID = conversationID
	r.Role = storage.Role(role)
	r.JoinedAt = utc(joinedAt)
	// A cursor is never behind the point the member (re)joined at.
	r.ReadSeq = max(r.ReadSeq, r.JoinedSeq)
	r.DeliveredSeq = max(r.DeliveredSeq, r.JoinedSeq)
	return r, true
}

// memberRow reads one membership row, active or not; ErrNotFound when there
// is none.
func (s *Store) memberRow(ctx context.Context, conversationID, userID string) (memberRow, error) {
	iter := s.query(ctx, "SELECT "+memberColumns+" FROM members WHERE conversation_id = ? AND user_id = ?", conversationID, userID).Iter()
	r, ok := scanMember(conversationID, iter.Scan)
	if err := iter.Close(); err != nil {
		return r, wrap(err, "read member %s of %s", userID, conversationID)
	}
	if !ok {
		return r, fmt.Errorf("cassandra: member %s of %s: %w", userID, conversationID, storage.ErrNotFound)
	}
	return r, nil
}

// Member implements storage.Store.
func (s *Store) Member(ctx context.Context, conversationID, userID string) (storage.Member, error) {
	r, err := s.memberRow(ctx, conversationID, userID)
	if err != nil {
		return storage.Member{}, err
	}
	if !r.active {
		return storage.Member{}, fmt.Errorf("cassandra: member %s of %s: %w", userID, conversationID, storage.ErrNotFound)
	}
	return r.Member, nil
}

// eachMember calls fn for the rows of a conversation's members partition
// after afterUserID, in user id order, until fn returns false.
func (s *Store) eachMember(ctx context.Context, conversationID, afterUserID string, pageSize int, fn func(memberRow) bool) error {
	iter := s.query(ctx, "SELECT "+memberColumns+" FROM members WHERE conversation_id = ? AND user_id > ?", conversationID, afterUserID).
		PageSize(pageSize).Iter()
	for {
		r, ok := scanMember(conversationID, iter.Scan)
		if !ok || !fn(r) {
			break
		}
	}
	return wrap(iter.Close(), "read members of %s", conversationID)
}

// Members implements storage.Store.
func (s *Store) Members(ctx context.Context, conversationID, afterUserID string, limit int) ([]storage.Member, error) {
	pageSize := 1000
	if limit > 0 {
		pageSize = min(limit+limit/4+8, 1000)
	}
	var out []storage.Member
	err := s.eachMember(ctx, conversationID, afterUserID, pageSize, func(r memberRow) bool {
		if r.active {
			out = append(out, r.Member)
		}
		return limit <= 0 || len(out) < limit
	})
	return out, err
}

// MemberIDs implements storage.Store, reading two columns of each row.
func (s *Store) MemberIDs(ctx context.Context, conversationID string) ([]string, error) {
	iter := s.query(ctx, "SELECT user_id, active FROM members WHERE conversation_id = ?", conversationID).PageSize(5000).Iter()
	var (
		out    []string
		id     string
		active bool
	)
	for iter.Scan(&id, &active) {
		if active {
			out = append(out, id)
		}
	}
	return out, wrap(iter.Close(), "read member ids of %s", conversationID)
}

// AddMembers implements storage.Store.
//
// Joining is a conditional batch (IF active != true per row, one Paxos
// transaction per 100 members) on the members partition, so two concurrent
// adds of one user report it added once. The user_conversations rows are
// written first: a crash in between leaves a listed conversation the user is
// not a member of (refused by membership checks), and the retry completes it.
func (s *Store) AddMembers(ctx context.Context, conversationID string, members []storage.Member, at time.Time) ([]string, error) {
	at = cql.Timestamp(at)
	c, err := s.conversation(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	var want []storage.Member
	seen := map[string]bool{}
	for _, m := range members {
		if !seen[m.UserID] {
			seen[m.UserID] = true
			want = append(want, m)
		}
	}
	addedSet := map[string]bool{}
	for i := 0; i < len(want); i += memberChunk {
		chunk := want[i:min(i+memberChunk, len(want))]
		added, err := s.joinChunk(ctx, c, chunk, at)
		if err != nil {
			return nil, err
		}
		for _, id := range added {
			addedSet[id] = true
		}
	}
	var added []string
	for _, m := range want {
		if addedSet[m.UserID] {
			added = append(added, m.UserID)
		}
	}
	if len(added) == 0 {
		return nil, nil
	}
	return added, wrap(s.bumpConversation(ctx, conversationID, 0, at), "add members to %s", conversationID)
}

// joinChunk adds the members of chunk who are not active members, retrying
// when a concurrent change makes its transaction fail.
func (s *Store) joinChunk(ctx context.Context, c storage.Conversation, chunk []storage.Member, at time.Time) ([]string, error) {
	ids := make([]string, len(chunk))
	for i, m := range chunk {
		ids[i] = m.UserID
	}
	for try := 0; try < maxMemberTries; try++ {
		if err := memberBackoff(ctx, try); err != nil {
			return nil, err
		}
		active := map[string]bool{}
		iter := s.query(ctx, "SELECT user_id, active FROM members WHERE conversation_id = ? AND user_id IN ?", c.ID, ids).Iter()
		var id string
		var isActive bool
		for iter.Scan(&id, &isActive) {
			active[id] = isActive
		}
		if err := iter.Close(); err != nil {
			return nil, wrap(err, "add members to %s", c.ID)
		}
		var join []storage.Member
		for _, m := range chunk {
			if !active[m.UserID] {
				join = append(join, m)
			}
		}
		if len(join) == 0 {
			return nil, nil
		}
		err := cql.Parallel(ctx, len(join), func(ctx context.Context, i int) error {
			return s.query(ctx, "INSERT INTO user_conversations (user_id, conversation_id) VALUES (?, ?)", join[i].UserID, c.ID).Exec()
		})
		if err != nil {
			return nil, wrap(err, "add members to %s", c.ID)
		}
		n, stored, err := s.readMemberCount(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		stmts := []stmt{memberCountStmt(c.ID, n, stored, n+len(join))}
		for _, m := range join {
			stmts = append(stmts, stmt{`UPDATE members SET active = true, role = ?, joined_at = ?, joined_seq = ?
				WHERE conversation_id = ? AND user_id = ? IF active != true`,
				[]any{string(m.Role), at, c.LastSeq, c.ID, m.UserID}})
		}
		applied, iter2, err := s.batch(ctx, gocql.LoggedBatch, false, stmts...).MapExecCAS(map[string]any{})
		if iter2 != nil {
			_ = iter2.Close()
		}
		if err != nil {
			return nil, wrap(err, "add members to %s", c.ID)
		}
		if applied {
			out := make([]string, len(join))
			for i, m := range join {
				out[i] = m.UserID
			}
			return out, nil
		}
		// Someone joined one of them, or the count moved, meanwhile: look
		// again.
	}
	return nil, fmt.Errorf("cassandra: add members to %s: too many concurrent changes: %w", c.ID, storage.ErrUnavailable)
}

// RemoveMember implements storage.Store: one conditional batch ends the
// membership (IF active = true) and moves the member count, retried while
// a concurrent change moves the count first.
func (s *Store) RemoveMember(ctx context.Context, conversationID, userID string, at time.Time) error {
	applied := false
	for try := 0; ; try++ {
		if try == maxMemberTries {
			return fmt.Errorf("cassandra: remove member %s from %s: too many concurrent changes: %w", userID, conversationID, storage.ErrUnavailable)
		}
		if err := memberBackoff(ctx, try); err != nil {
			return err
		}
		if _, err := s.Member(ctx, conversationID, userID); errors.Is(err, storage.ErrNotFound) {
			break
		} else if err != nil {
			return err
		}
		n, stored, err := s.readMemberCount(ctx, conversationID)
		if err != nil {
			return err
		}
		ok, iter, err := s.batch(ctx, gocql.LoggedBatch, false,
			stmt{"UPDATE members SET active = false WHERE conversation_id = ? AND user_id = ? IF active = true", []any{conversationID, userID}},
			memberCountStmt(conversationID, n, stored, max(n-1, 0)),
		).MapExecCAS(map[string]any{})
		if iter != nil {
			_ = iter.Close()
		}
		if err != nil {
			return wrap(err, "remove member %s from %s", userID, conversationID)
		}
		if ok {
			applied = true
			break
		}
	}
	// Also when not a member: this repairs a listing left by a removal that
	// died between its two writes.
	if err := s.query(ctx, "DELETE FROM user_conversations WHERE user_id = ? AND conversation_id = ?", userID, conversationID).Exec(); err != nil {
		return wrap(err, "remove member %s from %s", userID, conversationID)
	}
	if !applied {
		return fmt.Errorf("cassandra: remove member %s from %s: %w", userID, conversationID, storage.ErrNotFound)
	}
	return wrap(s.bumpConversation(ctx, conversationID, 0, cql.Timestamp(at)), "remove member %s from %s", userID, conversationID)
}

// SetRole implements storage.Store.
func (s *Store) SetRole(ctx context.Context, conversationID, userID string, role storage.Role) error {
	if _, err := s.Member(ctx, conversationID, userID); err != nil {
		return err
	}
	err := s.query(ctx, "UPDATE members SET role = ? WHERE conversation_id = ? AND user_id = ?", string(role), conversationID, userID).Exec()
	return wrap(err, "set role of %s in %s", userID, conversationID)
}

// UserConversationIDs implements storage.Store.
func (s *Store) UserConversationIDs(ctx context.Context, userID string) ([]string, error) {
	iter := s.query(ctx, "SELECT conversation_id FROM user_conversations WHERE user_id = ?", userID).PageSize(5000).Iter()
	var out []string
	var id string
	for iter.Scan(&id) {
		out = append(out, id)
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "list conversations of %s", userID)
	}
	return out, nil
}
