package cassandra

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

var _ storage.Membership = (*Store)(nil)

const stateColumns = "conversation_id, archived, archived_seq, pinned_at, muted_until, notification_level, unread_mark"

func scanState(scan func(dest ...any) bool) (storage.MemberState, bool) {
	var st storage.MemberState
	var level string
	if !scan(&st.ConversationID, &st.Archived, &st.ArchivedSeq, &st.PinnedAt, &st.MutedUntil, &level, &st.UnreadMark) {
		return st, false
	}
	st.PinnedAt, st.MutedUntil = utc(st.PinnedAt), utc(st.MutedUntil)
	st.NotificationLevel = storage.NotificationLevel(level)
	return st, true
}

// MemberState implements storage.Store.
func (s *Store) MemberState(ctx context.Context, conversationID, userID string) (storage.MemberState, error) {
	iter := s.query(ctx, "SELECT "+stateColumns+" FROM member_states WHERE user_id = ? AND conversation_id = ?", userID, conversationID).Iter()
	st, ok := scanState(iter.Scan)
	if err := iter.Close(); err != nil {
		return st, wrap(err, "read state of %s in %s", userID, conversationID)
	}
	if !ok {
		return storage.MemberState{ConversationID: conversationID}, nil
	}
	return st, nil
}

// MemberStates implements storage.Store: one partition.
func (s *Store) MemberStates(ctx context.Context, userID string) (map[string]storage.MemberState, error) {
	iter := s.query(ctx, "SELECT "+stateColumns+" FROM member_states WHERE user_id = ?", userID).PageSize(5000).Iter()
	out := map[string]storage.MemberState{}
	for {
		st, ok := scanState(iter.Scan)
		if !ok {
			break
		}
		out[st.ConversationID] = st
	}
	return out, wrap(iter.Close(), "read states of %s", userID)
}

// SetMemberState implements storage.Store: the state row and the copy of
// mute and level on the members row go in one logged batch (both or
// neither). The membership check before it is not atomic with it: a state
// written for a member who leaves meanwhile is harmless (nobody reads it
// until they re-join).
func (s *Store) SetMemberState(ctx context.Context, userID string, st storage.MemberState) error {
	if _, err := s.Member(ctx, st.ConversationID, userID); err != nil {
		return err
	}
	muted := optTime(cql.Timestamp(st.MutedUntil))
	pinned := optTime(cql.Timestamp(st.PinnedAt))
	err := s.batch(ctx, gocql.LoggedBatch, true,
		stmt{`INSERT INTO member_states (user_id, conversation_id, archived, archived_seq, pinned_at, muted_until, notification_level, unread_mark)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			[]any{userID, st.ConversationID, st.Archived, st.ArchivedSeq, pinned, muted, string(st.NotificationLevel), st.UnreadMark}},
		stmt{"UPDATE members SET muted_until = ?, notification_level = ? WHERE conversation_id = ? AND user_id = ?",
			[]any{muted, string(st.NotificationLevel), st.ConversationID, userID}},
	).Exec()
	return wrap(err, "set state of %s in %s", userID, st.ConversationID)
}

// SaveDraft implements storage.Store.
func (s *Store) SaveDraft(ctx context.Context, userID string, d storage.Draft) error {
	if _, err := s.Member(ctx, d.ConversationID, userID); err != nil {
		return err
	}
	if d.Body == "" {
		err := s.query(ctx, "DELETE FROM drafts WHERE user_id = ? AND conversation_id = ?", userID, d.ConversationID).Exec()
		return wrap(err, "delete draft of %s in %s", userID, d.ConversationID)
	}
	err := s.query(ctx, "INSERT INTO drafts (user_id, conversation_id, body, updated_at) VALUES (?, ?, ?, ?)",
		userID, d.ConversationID, d.Body, cql.Timestamp(d.UpdatedAt)).Exec()
	return wrap(err, "save draft of %s in %s", userID, d.ConversationID)
}

// Drafts implements storage.Store: one partition.
func (s *Store) Drafts(ctx context.Context, userID string) (map[string]storage.Draft, error) {
	iter := s.query(ctx, "SELECT conversation_id, body, updated_at FROM drafts WHERE user_id = ?", userID).PageSize(5000).Iter()
	out := map[string]storage.Draft{}
	var d storage.Draft
	for iter.Scan(&d.ConversationID, &d.Body, &d.UpdatedAt) {
		d.UpdatedAt = utc(d.UpdatedAt)
		out[d.ConversationID] = d
	}
	return out, wrap(iter.Close(), "read drafts of %s", userID)
}

// UpdateProfile implements storage.Store (a logged batch over users and
// profiles: both or neither).
func (s *Store) UpdateProfile(ctx context.Context, displayName string, p storage.Profile) error {
	userID := p.UserID
	if _, err := s.user(ctx, userID); err != nil {
		return err
	}
	avatar, err := encodeAvatar(p.Avatar)
	if err != nil {
		return err
	}
	err = s.batch(ctx, gocql.LoggedBatch, true,
		stmt{"UPDATE users SET display_name = ? WHERE id = ?", []any{displayName, userID}},
		stmt{"UPDATE profiles SET bio = ?, avatar = ?, updated_at = ? WHERE user_id = ?", []any{p.Bio, avatar, cql.Timestamp(p.UpdatedAt), userID}},
	).Exec()
	return wrap(err, "update profile of %s", userID)
}

// Profiles implements storage.Store.
func (s *Store) Profiles(ctx context.Context, userIDs []string) (map[string]storage.Profile, error) {
	out := make(map[string]storage.Profile, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	iter := s.query(ctx, "SELECT user_id, bio, avatar, updated_at, username_changed_at FROM profiles WHERE user_id IN ?", userIDs).Iter()
	var p storage.Profile
	var avatar string
	for iter.Scan(&p.UserID, &p.Bio, &avatar, &p.UpdatedAt, &p.UsernameChangedAt) {
		p.UpdatedAt, p.UsernameChangedAt = utc(p.UpdatedAt), utc(p.UsernameChangedAt)
		p.Avatar = decodeAvatar(avatar)
		out[p.UserID] = p
	}
	return out, wrap(iter.Close(), "read profiles")
}

// UpdateGroupDetails implements storage.Store.
func (s *Store) UpdateGroupDetails(ctx context.Context, title string, d storage.GroupDetails) error {
	conversationID, at := d.ConversationID, d.UpdatedAt
	if _, err := s.conversation(ctx, conversationID); err != nil {
		return err
	}
	avatar, err := encodeAvatar(d.Avatar)
	if err != nil {
		return err
	}
	err = s.batch(ctx, gocql.LoggedBatch, true,
		stmt{"UPDATE conversations SET title = ? WHERE id = ?", []any{title, conversationID}},
		stmt{"INSERT INTO group_details (conversation_id, description, avatar, updated_at) VALUES (?, ?, ?, ?)", []any{conversationID, d.Description, avatar, cql.Timestamp(at)}},
	).Exec()
	if err != nil {
		return wrap(err, "update group %s", conversationID)
	}
	return wrap(s.bumpConversation(ctx, conversationID, 0, at), "update group %s", conversationID)
}

// GroupDetails implements storage.Store.
func (s *Store) GroupDetails(ctx context.Context, conversationIDs []string) (map[string]storage.GroupDetails, error) {
	out := make(map[string]storage.GroupDetails, len(conversationIDs))
	if len(conversationIDs) == 0 {
		return out, nil
	}
	iter := s.query(ctx, "SELECT conversation_id, description, avatar, updated_at FROM group_details WHERE conversation_id IN ?", conversationIDs).Iter()
	var d storage.GroupDetails
	var avatar string
	for iter.Scan(&d.ConversationID, &d.Description, &avatar, &d.UpdatedAt) {
		d.UpdatedAt = utc(d.UpdatedAt)
		d.Avatar = decodeAvatar(avatar)
		out[d.ConversationID] = d
	}
	return out, wrap(iter.Close(), "read group details")
}

// TransferOwnership implements storage.Store with one conditional batch on
// the members partition (one Paxos transaction): from must still be the
// active owner and to an active member, or nothing is written. Two
// transfers racing from two API instances serialise on it: the second
// finds from no longer the owner and gets ErrConflict.
func (s *Store) TransferOwnership(ctx context.Context, conversationID, from, to string) error {
	if _, err := s.Member(ctx, conversationID, to); err != nil {
		return err
	}
	existing := map[string]any{}
	applied, iter, err := s.batch(ctx, gocql.LoggedBatch, false,
		stmt{"UPDATE members SET role = ? WHERE conversation_id = ? AND user_id = ? IF active = true AND role = ?",
			[]any{string(storage.RoleAdmin), conversationID, from, string(storage.RoleOwner)}},
		stmt{"UPDATE members SET role = ? WHERE conversation_id = ? AND user_id = ? IF active = true",
			[]any{string(storage.RoleOwner), conversationID, to}},
	).MapExecCAS(existing)
	if iter != nil {
		_ = iter.Close()
	}
	if err != nil {
		return wrap(err, "transfer %s from %s to %s", conversationID, from, to)
	}
	if !applied {
		return fmt.Errorf("cassandra: transfer %s from %s to %s: %w", conversationID, from, to, storage.ErrConflict)
	}
	return nil
}

// encodeAvatar is an avatar as its column holds it (JSON; "" for none).
func encodeAvatar(a *storage.Avatar) (string, error) {
	if a == nil {
		return "", nil
	}
	b, err := json.Marshal(a)
	return string(b), err
}

// decodeAvatar reads an avatar column; nil for none (or unreadable).
func decodeAvatar(s string) *storage.Avatar {
	if s == "" {
		return nil
	}
	var a storage.Avatar
	if json.Unmarshal([]byte(s), &a) != nil {
		return nil
	}
	return &a
}

// SaveDeletion implements storage.Store. Deletions are rare and short-lived:
// they share one partition, so PendingDeletions is one read.
func (s *Store) SaveDeletion(ctx context.Context, d storage.Deletion) error {
	err := s.query(ctx, `INSERT INTO conversation_deletions (shard, conversation_id, by_user, requested_at, members_removed, purged_seq)
		VALUES (0, ?, ?, ?, ?, ?)`, d.ConversationID, d.By, cql.Timestamp(d.RequestedAt), d.MembersRemoved, d.PurgedSeq).Exec()
	return wrap(err, "save deletion of %s", d.ConversationID)
}

// PendingDeletions implements storage.Store.
func (s *Store) PendingDeletions(ctx context.Context) ([]storage.Deletion, error) {
	iter := s.query(ctx, "SELECT conversation_id, by_user, requested_at, members_removed, purged_seq FROM conversation_deletions WHERE shard = 0").Iter()
	var out []storage.Deletion
	var d storage.Deletion
	for iter.Scan(&d.ConversationID, &d.By, &d.RequestedAt, &d.MembersRemoved, &d.PurgedSeq) {
		d.RequestedAt = utc(d.RequestedAt)
		out = append(out, d)
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "list deletions")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RequestedAt.Before(out[j].RequestedAt) })
	return out, nil
}

// DeletionDone implements storage.Store.
func (s *Store) DeletionDone(ctx context.Context, conversationID string) error {
	err := s.query(ctx, "DELETE FROM conversation_deletions WHERE shard = 0 AND conversation_id = ?", conversationID).Exec()
	return wrap(err, "finish deletion of %s", conversationID)
}

// ChangeUsername implements storage.Store. The new name is claimed with
// INSERT ... IF NOT EXISTS (one Paxos transaction), like a sign-up's; then
// the users row and the profile move to it; then the old claim is written
// again USING TTL, so it expires at reserveUntil and a sign-up's IF NOT
// EXISTS can take it afterwards. A crash after the claim leaves the new name
// claimed by the user without the users row moved: a retry (the claim is
// theirs) completes it.
func (s *Store) ChangeUsername(ctx context.Context, userID, name, key string, at, reserveUntil time.Time) error {
	u, err := s.user(ctx, userID)
	if err != nil {
		return err
	}
	existing := map[string]any{}
	applied, err := s.lwt(ctx, "INSERT INTO usernames (username_key, user_id) VALUES (?, ?) IF NOT EXISTS", key, userID).MapScanCAS(existing)
	if err != nil {
		return wrap(err, "change username of %s: claim", userID)
	}
	if !applied {
		if existing["user_id"] != userID {
			return fmt.Errorf("cassandra: change username of %s to %q: %w", userID, key, storage.ErrConflict)
		}
		// Taking back my own reserved name: claim it again without its TTL.
		if err := s.query(ctx, "INSERT INTO usernames (username_key, user_id) VALUES (?, ?)", key, userID).Exec(); err != nil {
			return wrap(err, "change username of %s: reclaim", userID)
		}
	}
	err = s.batch(ctx, gocql.LoggedBatch, true,
		stmt{"UPDATE users SET username = ?, username_key = ? WHERE id = ?", []any{name, key, userID}},
		stmt{"UPDATE profiles SET username_changed_at = ? WHERE user_id = ?", []any{cql.Timestamp(at), userID}},
	).Exec()
	if err != nil {
		return wrap(err, "change username of %s", userID)
	}
	if u.UsernameKey == key {
		return nil
	}
	ttl := int(time.Until(reserveUntil).Seconds())
	if ttl < 1 {
		err = s.query(ctx, "DELETE FROM usernames WHERE username_key = ?", u.UsernameKey).Exec()
	} else {
		err = s.query(ctx, "INSERT INTO usernames (username_key, user_id) VALUES (?, ?) USING TTL ?", u.UsernameKey, userID, ttl).Exec()
	}
	return wrap(err, "change username of %s: reserve the old one", userID)
}
