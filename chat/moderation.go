package chat

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"messenger/storage"
)

// Moderation actions, as the moderation log names them.
const (
	ActionBan              = "BAN"
	ActionUnban            = "UNBAN"
	ActionRemoveMember     = "REMOVE_MEMBER"
	ActionSetRole          = "SET_ROLE"
	ActionDeleteMessage    = "DELETE_MESSAGE"
	ActionSlowMode         = "SLOW_MODE"
	ActionAnnouncementOnly = "ANNOUNCEMENT_ONLY"
	ActionInviteCreated    = "INVITE_CREATED"
	ActionInviteRevoked    = "INVITE_REVOKED"
	ActionJoinedByInvite   = "JOINED_BY_INVITE"
	ActionJoinApproved     = "JOIN_APPROVED"
	ActionJoinDeclined     = "JOIN_DECLINED"
)

// MaxSlowModeSeconds is the longest slow mode (6 h).
const MaxSlowModeSeconds = 21_600

// Bans and adds are ordered without a lock: a ban writes the ban, then
// removes the member; an add writes the member, then looks for a ban (and
// removes the member again if it finds one). With the store's
// read-your-writes (Pebble; Cassandra at QUORUM), whichever of the two
// runs second sees the other's write, so a banned user never stays in,
// whatever API instances the two ran on.

// activeBan reports whether b keeps its user out at now.
func activeBan(b storage.Ban, now time.Time) bool { return b.Until.IsZero() || now.Before(b.Until) }

// refuseBanned refuses with FORBIDDEN when any of userIDs is banned from
// the conversation now.
func (s *Service) refuseBanned(ctx context.Context, conversationID string, userIDs []string) error {
	now := s.now()
	for _, id := range userIDs {
		b, err := s.store.Ban(ctx, conversationID, id)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("chat: read ban: %w", err)
		}
		if activeBan(b, now) {
			return forbidden("this user is banned from the group")
		}
	}
	return nil
}

// refuseBannedAfterAdd is the second half of an add: a ban that landed
// while the users were being added removes them again.
func (s *Service) refuseBannedAfterAdd(ctx context.Context, conversationID string, added []string) error {
	err := s.refuseBanned(ctx, conversationID, added)
	if err == nil {
		return nil
	}
	for _, id := range added {
		if s.refuseBanned(ctx, conversationID, []string{id}) != nil {
			if rmErr := s.store.RemoveMember(ctx, conversationID, id, s.now()); rmErr != nil && !errors.Is(rmErr, storage.ErrNotFound) {
				return fmt.Errorf("chat: undo the add of a banned user: %w", rmErr)
			}
		}
	}
	return err
}

// newModerationID orders log entries by time, then at random.
func newModerationID(at time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%016x-%s", at.UnixMilli(), hex.EncodeToString(b[:]))
}

// logModeration records a moderation action after it happened. The action
// is durable already, so a failure is logged for operators, not returned.
func (s *Service) logModeration(ctx context.Context, e storage.ModerationEntry) {
	e.At = s.now()
	e.ID = newModerationID(e.At)
	if err := s.store.AppendModerationLog(context.WithoutCancel(ctx), e); err != nil {
		s.cfg.Logger.Error("moderation action not logged", "conversation", e.ConversationID, "action", e.Action, "err", err)
	}
}

// BanMember bans a user from a group until until (nil: for good), removing
// them if they are a member; they cannot be added or join by link while
// banned. Owner or admin; nobody bans the owner or themself, and admins do
// not ban admins.
func (s *Service) BanMember(ctx context.Context, me, conversationID, userID string, until *time.Time) (storage.Ban, error) {
	now := s.now()
	b := storage.Ban{ConversationID: conversationID, UserID: userID, BannedBy: me, At: now}
	if until != nil {
		if !until.After(now) {
			return b, badInput("until", "until must be in the future")
		}
		b.Until = until.UTC().Truncate(time.Millisecond)
	}
	if userID == me {
		return b, badInput("userId", "you cannot ban yourself")
	}
	mine, _, err := s.manager(ctx, me, conversationID)
	if err != nil {
		return b, err
	}
	target, err := s.store.Member(ctx, conversationID, userID)
	isMember := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return b, fmt.Errorf("chat: membership: %w", err)
	}
	if isMember && (target.Role == storage.RoleOwner || target.Role == storage.RoleAdmin && mine.Role != storage.RoleOwner) {
		return b, forbidden("you may not ban this member")
	}
	if !isMember {
		if err := s.mustExist(ctx, []string{userID}); err != nil {
			return b, err
		}
	}
	if err := s.store.PutBan(ctx, b); err != nil {
		return b, fmt.Errorf("chat: ban: %w", err)
	}
	// Read the membership again now that the ban is written: an add or a
	// join racing this ban writes the member first and checks for a ban
	// after (refuseBannedAfterAdd), so either it sees the ban or this read
	// sees its member. The read before the ban only decided permission.
	_, err = s.store.Member(ctx, conversationID, userID)
	switch {
	case err == nil:
		if err := s.leave(ctx, conversationID, userID, me); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return b, err
		}
	case !errors.Is(err, storage.ErrNotFound):
		return b, fmt.Errorf("chat: membership after the ban: %w", err)
	}
	detail := "until unbanned"
	if !b.Until.IsZero() {
		detail = "until " + b.Until.Format(time.RFC3339)
	}
	s.logModeration(ctx, storage.ModerationEntry{ConversationID: conversationID, ActorID: me, Action: ActionBan, TargetUserID: userID, Detail: detail})
	return b, nil
}

// UnbanMember lifts a ban (owner or admin); it does not add the user back.
func (s *Service) UnbanMember(ctx context.Context, me, conversationID, userID string) error {
	if _, _, err := s.manager(ctx, me, conversationID); err != nil {
		return err
	}
	if err := s.store.DeleteBan(ctx, conversationID, userID); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return notFound("ban")
		}
		return fmt.Errorf("chat: unban: %w", err)
	}
	s.logModeration(ctx, storage.ModerationEntry{ConversationID: conversationID, ActorID: me, Action: ActionUnban, TargetUserID: userID})
	return nil
}

// BannedMembers pages a group's bans in force, by user id (owner or
// admin). A page may hold fewer than first when bans expired.
func (s *Service) BannedMembers(ctx context.Context, me, conversationID string, first int, afterUserID string) ([]storage.Ban, bool, error) {
	if _, _, err := s.manager(ctx, me, conversationID); err != nil {
		return nil, false, err
	}
	first, err := capFirst(first)
	if err != nil {
		return nil, false, err
	}
	bs, err := s.store.Bans(ctx, conversationID, afterUserID, first+1)
	if err != nil {
		return nil, false, fmt.Errorf("chat: bans: %w", err)
	}
	bs, more := trimPage(bs, first)
	now, out := s.now(), bs[:0]
	for _, b := range bs {
		if activeBan(b, now) {
			out = append(out, b)
		}
	}
	return out, more, nil
}

// ModerationSettings returns a conversation's posting rules (members).
func (s *Service) ModerationSettings(ctx context.Context, me, conversationID string) (storage.ModerationSettings, error) {
	if _, err := s.member(ctx, conversationID, me); err != nil {
		return storage.ModerationSettings{}, err
	}
	m, err := s.store.ModerationSettings(ctx, conversationID)
	if err != nil {
		return m, fmt.Errorf("chat: moderation settings: %w", err)
	}
	return m, nil
}

// SetSlowMode sets the least time between two messages of a member, 0 to
// 21,600 s (owner or admin; they are exempt).
func (s *Service) SetSlowMode(ctx context.Context, me, conversationID string, seconds int) (storage.Conversation, error) {
	if seconds < 0 || seconds > MaxSlowModeSeconds {
		return storage.Conversation{}, badInput("slowModeSeconds", fmt.Sprintf("slowModeSeconds must be 0-%d", MaxSlowModeSeconds))
	}
	return s.updateModeration(ctx, me, conversationID, storage.ModerationSettingsPatch{SlowModeSeconds: &seconds}, ActionSlowMode, fmt.Sprint(seconds))
}

// SetAnnouncementOnly lets only owners and admins send (owner or admin).
func (s *Service) SetAnnouncementOnly(ctx context.Context, me, conversationID string, on bool) (storage.Conversation, error) {
	return s.updateModeration(ctx, me, conversationID, storage.ModerationSettingsPatch{AnnouncementOnly: &on}, ActionAnnouncementOnly, fmt.Sprint(on))
}

func (s *Service) updateModeration(ctx context.Context, me, conversationID string, p storage.ModerationSettingsPatch, action, detail string) (storage.Conversation, error) {
	_, c, err := s.manager(ctx, me, conversationID)
	if err != nil {
		return c, err
	}
	if err := s.store.UpdateModerationSettings(ctx, conversationID, p); err != nil {
		return c, fmt.Errorf("chat: update moderation settings: %w", err)
	}
	s.rules.forget(conversationID)
	s.logModeration(ctx, storage.ModerationEntry{ConversationID: conversationID, ActorID: me, Action: action, Detail: detail})
	s.emitConversation(ctx, conversationID, &ConversationUpdated{Conversation: &c})
	return c, nil
}

// ModerationLog pages a group's moderation log, newest first (owner or
// admin). before is the cursor of the last entry of the previous page.
func (s *Service) ModerationLog(ctx context.Context, me, conversationID string, first int, before string) ([]storage.ModerationEntry, bool, error) {
	if _, _, err := s.manager(ctx, me, conversationID); err != nil {
		return nil, false, err
	}
	first, err := capFirst(first)
	if err != nil {
		return nil, false, err
	}
	beforeID := ""
	if before != "" {
		raw, err := base64.RawURLEncoding.DecodeString(before)
		if err != nil || len(raw) == 0 {
			return nil, false, badInput("after", "malformed cursor")
		}
		beforeID = string(raw)
	}
	es, err := s.store.ModerationLog(ctx, conversationID, beforeID, first+1)
	if err != nil {
		return nil, false, fmt.Errorf("chat: moderation log: %w", err)
	}
	es, more := trimPage(es, first)
	return es, more, nil
}

// ModerationCursor is the opaque paging cursor of a log entry.
func ModerationCursor(e storage.ModerationEntry) string {
	return base64.RawURLEncoding.EncodeToString([]byte(e.ID))
}

// moderatorDelete deletes someone else's message for everyone: owners and
// admins of a group may, at any age. The tombstone records who (DeletedBy).
func (s *Service) moderatorDelete(ctx context.Context, me string, m storage.Message, ev *MessageDeleted) (storage.Message, error) {
	mine, err := s.member(ctx, m.ConversationID, me)
	if err != nil {
		return m, err
	}
	c, err := s.conversation(ctx, m.ConversationID)
	if err != nil {
		return m, err
	}
	if !c.Kind.IsGroup() || (mine.Role != storage.RoleOwner && mine.Role != storage.RoleAdmin) {
		return m, forbidden("only the sender, or a group's owner or admin, may delete a message for everyone")
	}
	unlock := s.messages.lock(m.ID)
	m, err = s.Message(ctx, me, m.ID)
	if err != nil || m.DeletedAt != nil {
		unlock()
		return m, err
	}
	if err := s.store.RecordModeratorDeletion(ctx, m.ConversationID, m.Seq, me); err != nil {
		unlock()
		return m, fmt.Errorf("chat: record moderator deletion: %w", err)
	}
	now := s.now()
	m.Body, m.DeletedAt = "", &now
	if err := s.store.UpdateMessage(ctx, m); err != nil {
		unlock()
		return m, fmt.Errorf("chat: delete message: %w", err)
	}
	unlock()
	s.indexMessages(m.ConversationID, m.Seq)
	ev.DeletedByID = me
	s.emitConversation(ctx, m.ConversationID, ev)
	s.logModeration(ctx, storage.ModerationEntry{ConversationID: m.ConversationID, ActorID: me, Action: ActionDeleteMessage, TargetUserID: m.SenderID, MessageID: m.ID})
	if a := s.attachmentsPort(); a != nil {
		if err := a.DropAttachments(ctx, m); err != nil {
			return m, fmt.Errorf("chat: drop the attachments of %s: %w", m.ID, err)
		}
	}
	return m, nil
}

// DeletedBy tells who deleted a message for everyone: a moderator, or its
// sender (a recall); "" when it is not deleted.
func (s *Service) DeletedBy(ctx context.Context, m storage.Message) (string, error) {
	if m.DeletedAt == nil {
		return "", nil
	}
	by, err := s.store.ModeratorDeletions(ctx, m.ConversationID, []int64{m.Seq})
	if err != nil {
		return "", fmt.Errorf("chat: moderator deletions: %w", err)
	}
	if id, ok := by[m.Seq]; ok {
		return id, nil
	}
	return m.SenderID, nil
}
