package cassandra

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"messenger/cql"
	"messenger/storage"
)

// The tables are in migrations/009_moderation.cql. Conditional writes
// (Paxos) are used where two API instances may race: taking an invite
// link's use (UPDATE ... IF uses = <read>), creating a link (IF NOT
// EXISTS), taking a join request (DELETE ... IF EXISTS) and a slow-mode
// turn (IF last_at = <read>). Bans need none: see chat/moderation.go for
// how a ban and a concurrent add are ordered.

// nullTime writes a zero time as null.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	ts := cql.Timestamp(t)
	return &ts
}

// maxCASTries bounds the compare-and-set loops of one call.
const maxCASTries = 64

const inviteColumns = "code_hash, code, conversation_id, created_by, created_at, expires_at, max_uses, uses, require_approval, revoked_at"

// CreateInviteLink implements storage.Moderation.
func (s *Store) CreateInviteLink(ctx context.Context, l storage.InviteLink) error {
	applied, err := s.lwt(ctx, "INSERT INTO invite_links ("+inviteColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
		l.CodeHash, l.Code, l.ConversationID, l.CreatedBy, nullTime(l.CreatedAt), nullTime(l.ExpiresAt), l.MaxUses, l.Uses, l.RequireApproval, nullTime(l.RevokedAt)).
		MapScanCAS(map[string]any{})
	if err != nil {
		return wrap(err, "create invite link of %s", l.ConversationID)
	}
	if !applied {
		return fmt.Errorf("cassandra: create invite link of %s: %w", l.ConversationID, storage.ErrConflict)
	}
	err = s.query(ctx, "INSERT INTO conversation_invites (conversation_id, code_hash) VALUES (?, ?)", l.ConversationID, l.CodeHash).Exec()
	return wrap(err, "list invite link of %s", l.ConversationID)
}

// InviteLink implements storage.Moderation.
func (s *Store) InviteLink(ctx context.Context, codeHash string) (storage.InviteLink, error) {
	var l storage.InviteLink
	var created, expires, revoked time.Time
	err := s.query(ctx, "SELECT "+inviteColumns+" FROM invite_links WHERE code_hash = ?", codeHash).
		Scan(&l.CodeHash, &l.Code, &l.ConversationID, &l.CreatedBy, &created, &expires, &l.MaxUses, &l.Uses, &l.RequireApproval, &revoked)
	if errors.Is(err, gocql.ErrNotFound) {
		return l, fmt.Errorf("cassandra: invite link: %w", storage.ErrNotFound)
	}
	if err != nil {
		return l, wrap(err, "read invite link")
	}
	l.CreatedAt, l.ExpiresAt, l.RevokedAt = utc(created), utc(expires), utc(revoked)
	return l, nil
}

// InviteLinks implements storage.Moderation.
func (s *Store) InviteLinks(ctx context.Context, conversationID string) ([]storage.InviteLink, error) {
	iter := s.query(ctx, "SELECT code_hash FROM conversation_invites WHERE conversation_id = ?", conversationID).Iter()
	var hashes []string
	var h string
	for iter.Scan(&h) {
		hashes = append(hashes, h)
	}
	if err := iter.Close(); err != nil {
		return nil, wrap(err, "list invite links of %s", conversationID)
	}
	byHash, err := lookupEach(ctx, hashes, s.InviteLink)
	if err != nil {
		return nil, err
	}
	out := make([]storage.InviteLink, 0, len(byHash))
	for _, h := range hashes {
		if l, ok := byHash[h]; ok {
			out = append(out, l)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// RevokeInviteLink implements storage.Moderation.
func (s *Store) RevokeInviteLink(ctx context.Context, codeHash string, at time.Time) error {
	l, err := s.InviteLink(ctx, codeHash)
	if err != nil {
		return err
	}
	if !l.RevokedAt.IsZero() {
		return nil
	}
	err = s.query(ctx, "UPDATE invite_links SET revoked_at = ? WHERE code_hash = ?", nullTime(at), codeHash).Exec()
	return wrap(err, "revoke invite link")
}

// UseInviteLink implements storage.Moderation: read, then UPDATE ... IF
// uses = <read> AND revoked_at = null, again while another use won the race.
func (s *Store) UseInviteLink(ctx context.Context, codeHash string, at time.Time) (storage.InviteLink, error) {
	for range maxCASTries {
		l, err := s.InviteLink(ctx, codeHash)
		if err != nil {
			return l, err
		}
		if !storage.InviteUsable(l, at) {
			return l, fmt.Errorf("cassandra: use invite link: %w", storage.ErrConflict)
		}
		applied, err := s.lwt(ctx, "UPDATE invite_links SET uses = ? WHERE code_hash = ? IF uses = ? AND revoked_at = null",
			l.Uses+1, codeHash, l.Uses).MapScanCAS(map[string]any{})
		if err != nil {
			return l, wrap(err, "use invite link")
		}
		if applied {
			l.Uses++
			return l, nil
		}
	}
	return storage.InviteLink{}, fmt.Errorf("cassandra: use invite link: too many concurrent uses: %w", storage.ErrUnavailable)
}

// PutJoinRequest implements storage.Moderation.
func (s *Store) PutJoinRequest(ctx context.Context, r storage.JoinRequest) error {
	err := s.query(ctx, "INSERT INTO join_requests (conversation_id, user_id, code_hash, requested_at) VALUES (?, ?, ?, ?)",
		r.ConversationID, r.UserID, r.CodeHash, nullTime(r.At)).Exec()
	return wrap(err, "request to join %s", r.ConversationID)
}

// JoinRequests implements storage.Moderation.
func (s *Store) JoinRequests(ctx context.Context, conversationID, afterUserID string, limit int) ([]storage.JoinRequest, error) {
	q := s.query(ctx, "SELECT user_id, code_hash, requested_at FROM join_requests WHERE conversation_id = ? AND user_id > ?", conversationID, afterUserID)
	var out []storage.JoinRequest
	iter := q.Iter()
	for {
		r := storage.JoinRequest{ConversationID: conversationID}
		var at time.Time
		if !iter.Scan(&r.UserID, &r.CodeHash, &at) {
			break
		}
		r.At = utc(at)
		out = append(out, r)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out, wrap(iter.Close(), "list join requests of %s", conversationID)
}

// TakeJoinRequest implements storage.Moderation.
func (s *Store) TakeJoinRequest(ctx context.Context, conversationID, userID string) (storage.JoinRequest, error) {
	r := storage.JoinRequest{ConversationID: conversationID, UserID: userID}
	var at time.Time
	err := s.query(ctx, "SELECT code_hash, requested_at FROM join_requests WHERE conversation_id = ? AND user_id = ?", conversationID, userID).
		Scan(&r.CodeHash, &at)
	if errors.Is(err, gocql.ErrNotFound) {
		return r, fmt.Errorf("cassandra: join request: %w", storage.ErrNotFound)
	}
	if err != nil {
		return r, wrap(err, "read join request")
	}
	r.At = utc(at)
	applied, err := s.lwt(ctx, "DELETE FROM join_requests WHERE conversation_id = ? AND user_id = ? IF EXISTS", conversationID, userID).
		MapScanCAS(map[string]any{})
	if err != nil {
		return r, wrap(err, "take join request")
	}
	if !applied {
		return r, fmt.Errorf("cassandra: join request taken meanwhile: %w", storage.ErrNotFound)
	}
	return r, nil
}

// PutBan implements storage.Moderation.
func (s *Store) PutBan(ctx context.Context, b storage.Ban) error {
	err := s.query(ctx, "INSERT INTO conversation_bans (conversation_id, user_id, banned_by, banned_at, until) VALUES (?, ?, ?, ?, ?)",
		b.ConversationID, b.UserID, b.BannedBy, nullTime(b.At), nullTime(b.Until)).Exec()
	return wrap(err, "ban %s from %s", b.UserID, b.ConversationID)
}

const banColumns = "user_id, banned_by, banned_at, until"

func scanBan(conversationID string, scan func(...any) bool) (storage.Ban, bool) {
	b := storage.Ban{ConversationID: conversationID}
	var at, until time.Time
	if !scan(&b.UserID, &b.BannedBy, &at, &until) {
		return b, false
	}
	b.At, b.Until = utc(at), utc(until)
	return b, true
}

// Ban implements storage.Moderation.
func (s *Store) Ban(ctx context.Context, conversationID, userID string) (storage.Ban, error) {
	iter := s.query(ctx, "SELECT "+banColumns+" FROM conversation_bans WHERE conversation_id = ? AND user_id = ?", conversationID, userID).Iter()
	b, ok := scanBan(conversationID, iter.Scan)
	if err := iter.Close(); err != nil {
		return b, wrap(err, "read ban of %s in %s", userID, conversationID)
	}
	if !ok {
		return b, fmt.Errorf("cassandra: ban of %s in %s: %w", userID, conversationID, storage.ErrNotFound)
	}
	return b, nil
}

// DeleteBan implements storage.Moderation.
func (s *Store) DeleteBan(ctx context.Context, conversationID, userID string) error {
	if _, err := s.Ban(ctx, conversationID, userID); err != nil {
		return err
	}
	err := s.query(ctx, "DELETE FROM conversation_bans WHERE conversation_id = ? AND user_id = ?", conversationID, userID).Exec()
	return wrap(err, "unban %s from %s", userID, conversationID)
}

// Bans implements storage.Moderation.
func (s *Store) Bans(ctx context.Context, conversationID, afterUserID string, limit int) ([]storage.Ban, error) {
	iter := s.query(ctx, "SELECT "+banColumns+" FROM conversation_bans WHERE conversation_id = ? AND user_id > ?", conversationID, afterUserID).Iter()
	var out []storage.Ban
	for {
		b, ok := scanBan(conversationID, iter.Scan)
		if !ok {
			break
		}
		out = append(out, b)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out, wrap(iter.Close(), "list bans of %s", conversationID)
}

// ModerationSettings implements storage.Moderation.
func (s *Store) ModerationSettings(ctx context.Context, conversationID string) (storage.ModerationSettings, error) {
	var m storage.ModerationSettings
	err := s.query(ctx, "SELECT slow_mode_seconds, announcement_only FROM moderation_settings WHERE conversation_id = ?", conversationID).
		Scan(&m.SlowModeSeconds, &m.AnnouncementOnly)
	if errors.Is(err, gocql.ErrNotFound) {
		return storage.ModerationSettings{}, nil
	}
	return m, wrap(err, "read moderation settings of %s", conversationID)
}

// UpdateModerationSettings implements storage.Moderation: one column per
// rule, so patches of different rules never overwrite each other.
func (s *Store) UpdateModerationSettings(ctx context.Context, conversationID string, p storage.ModerationSettingsPatch) error {
	if p.SlowModeSeconds != nil {
		if err := s.query(ctx, "UPDATE moderation_settings SET slow_mode_seconds = ? WHERE conversation_id = ?", *p.SlowModeSeconds, conversationID).Exec(); err != nil {
			return wrap(err, "set slow mode of %s", conversationID)
		}
	}
	if p.AnnouncementOnly != nil {
		if err := s.query(ctx, "UPDATE moderation_settings SET announcement_only = ? WHERE conversation_id = ?", *p.AnnouncementOnly, conversationID).Exec(); err != nil {
			return wrap(err, "set announcement-only of %s", conversationID)
		}
	}
	return nil
}

// TakeSlowModeTurn implements storage.Moderation with a compare-and-set on
// the member's last turn.
func (s *Store) TakeSlowModeTurn(ctx context.Context, conversationID, userID string, at time.Time, interval time.Duration) (time.Time, error) {
	at = cql.Timestamp(at)
	for range maxCASTries {
		var last time.Time
		err := s.query(ctx, "SELECT last_at FROM slow_mode_turns WHERE conversation_id = ? AND user_id = ?", conversationID, userID).Scan(&last)
		var applied bool
		switch {
		case errors.Is(err, gocql.ErrNotFound):
			applied, err = s.lwt(ctx, "INSERT INTO slow_mode_turns (conversation_id, user_id, last_at) VALUES (?, ?, ?) IF NOT EXISTS",
				conversationID, userID, at).MapScanCAS(map[string]any{})
		case err != nil:
		default:
			if next := last.UTC().Add(interval); at.Before(next) {
				return next, nil
			}
			applied, err = s.lwt(ctx, "UPDATE slow_mode_turns SET last_at = ? WHERE conversation_id = ? AND user_id = ? IF last_at = ?",
				at, conversationID, userID, last).MapScanCAS(map[string]any{})
		}
		if err != nil {
			return time.Time{}, wrap(err, "slow mode turn of %s in %s", userID, conversationID)
		}
		if applied {
			return time.Time{}, nil
		}
	}
	return time.Time{}, fmt.Errorf("cassandra: slow mode turn: too many concurrent sends: %w", storage.ErrUnavailable)
}

// RecordModeratorDeletion implements storage.Moderation.
func (s *Store) RecordModeratorDeletion(ctx context.Context, conversationID string, seq int64, deletedBy string) error {
	err := s.query(ctx, "INSERT INTO moderator_deletions (conversation_id, seq, deleted_by) VALUES (?, ?, ?)", conversationID, seq, deletedBy).Exec()
	return wrap(err, "record moderator deletion in %s", conversationID)
}

// ModeratorDeletions implements storage.Moderation: one partition read.
func (s *Store) ModeratorDeletions(ctx context.Context, conversationID string, seqs []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(seqs) == 0 {
		return out, nil
	}
	iter := s.query(ctx, "SELECT seq, deleted_by FROM moderator_deletions WHERE conversation_id = ? AND seq IN ?", conversationID, seqs).Iter()
	var seq int64
	var by string
	for iter.Scan(&seq, &by) {
		out[seq] = by
	}
	return out, wrap(iter.Close(), "read moderator deletions of %s", conversationID)
}

// AppendModerationLog implements storage.Moderation.
func (s *Store) AppendModerationLog(ctx context.Context, e storage.ModerationEntry) error {
	err := s.query(ctx, "INSERT INTO moderation_log (conversation_id, id, at, actor_id, action, target_user_id, message_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		e.ConversationID, e.ID, nullTime(e.At), e.ActorID, e.Action, e.TargetUserID, e.MessageID, e.Detail).Exec()
	return wrap(err, "log moderation of %s", e.ConversationID)
}

// ModerationLog implements storage.Moderation.
func (s *Store) ModerationLog(ctx context.Context, conversationID, beforeID string, limit int) ([]storage.ModerationEntry, error) {
	stmt := "SELECT id, at, actor_id, action, target_user_id, message_id, detail FROM moderation_log WHERE conversation_id = ?"
	args := []any{conversationID}
	if beforeID != "" {
		stmt += " AND id < ?"
		args = append(args, beforeID)
	}
	if limit > 0 {
		stmt += " LIMIT ?"
		args = append(args, limit)
	}
	iter := s.query(ctx, stmt, args...).Iter()
	var out []storage.ModerationEntry
	for {
		e := storage.ModerationEntry{ConversationID: conversationID}
		var at time.Time
		if !iter.Scan(&e.ID, &at, &e.ActorID, &e.Action, &e.TargetUserID, &e.MessageID, &e.Detail) {
			break
		}
		e.At = utc(at)
		out = append(out, e)
	}
	return out, wrap(iter.Close(), "read moderation log of %s", conversationID)
}
