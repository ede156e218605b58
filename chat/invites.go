package chat

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"messenger/storage"
)

// Invite codes carry inviteCodeBytes random bytes (192 bits, above the
// 128 the product asks for), URL-safe base64: 32 characters. Links are
// found by the SHA-256 of the code, so no index is ever walked with the
// secret, and the code found is compared in constant time.
const (
	inviteCodeBytes = 24
	inviteCodeLen   = 32
	// MaxInviteUses caps maxUses of one link.
	MaxInviteUses = 100_000
	// MaxInviteLifetime caps how far ahead a link may expire.
	MaxInviteLifetime = 366 * 24 * time.Hour
)

// InviteLinkInput is createInviteLink's input; nil fields are absent.
type InviteLinkInput struct {
	ExpiresAt       *time.Time
	MaxUses         *int
	RequireApproval bool
}

// InvitePreview is what a link shows someone who is not (yet) a member:
// the group's title and size and whether joining needs approval, nothing
// else (no ids, no members, no messages). ConversationID is for the
// resolver of the group's avatar only.
type InvitePreview struct {
	ConversationID  string
	Title           string
	MemberCount     int
	RequireApproval bool
}

// JoinStatus is the outcome of joinByInvite.
type JoinStatus string

// Join outcomes.
const (
	Joined        JoinStatus = "JOINED"
	Requested     JoinStatus = "REQUESTED"
	AlreadyMember JoinStatus = "ALREADY_MEMBER"
)

// InviteJoin is the result of joinByInvite: the conversation when I am in
// it (JOINED, ALREADY_MEMBER), none while my request waits (REQUESTED).
type InviteJoin struct {
	Status       JoinStatus
	Conversation *storage.Conversation
}

func newInviteCode() (string, error) {
	b := make([]byte, inviteCodeBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("chat: invite code: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func inviteHash(code string) string {
	h := sha256.Sum256([]byte(code))
	return hex.EncodeToString(h[:])
}

// validCode refuses what cannot be a code before any lookup.
func validCode(code string) error {
	if len(code) != inviteCodeLen {
		return badInput("code", "not an invite code")
	}
	if _, err := base64.RawURLEncoding.DecodeString(code); err != nil {
		return badInput("code", "not an invite code")
	}
	return nil
}

// errNoInvite is the one answer for unknown, revoked, expired and used-up
// codes alike: a guesser learns nothing about which codes once existed.
func errNoInvite() error { return notFound("invite link") }

// inviteByCode finds a link by its code, comparing the code in constant
// time.
func (s *Service) inviteByCode(ctx context.Context, code string) (storage.InviteLink, error) {
	if err := validCode(code); err != nil {
		return storage.InviteLink{}, err
	}
	l, err := s.store.InviteLink(ctx, inviteHash(code))
	if errors.Is(err, storage.ErrNotFound) {
		return l, errNoInvite()
	}
	if err != nil {
		return l, fmt.Errorf("chat: load invite link: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(l.Code), []byte(code)) != 1 {
		return storage.InviteLink{}, errNoInvite()
	}
	return l, nil
}

// CreateInviteLink makes a link to a group (owner or admin).
func (s *Service) CreateInviteLink(ctx context.Context, me, conversationID string, in InviteLinkInput) (storage.InviteLink, error) {
	now := s.now()
	l := storage.InviteLink{ConversationID: conversationID, CreatedBy: me, CreatedAt: now, RequireApproval: in.RequireApproval}
	if in.ExpiresAt != nil {
		if !in.ExpiresAt.After(now) || in.ExpiresAt.Sub(now) > MaxInviteLifetime {
			return l, badInput("expiresAt", "expiresAt must be in the future, at most a year ahead")
		}
		l.ExpiresAt = in.ExpiresAt.UTC().Truncate(time.Millisecond)
	}
	if in.MaxUses != nil {
		if *in.MaxUses < 1 || *in.MaxUses > MaxInviteUses {
			return l, badInput("maxUses", fmt.Sprintf("maxUses must be 1-%d", MaxInviteUses))
		}
		l.MaxUses = *in.MaxUses
	}
	if _, _, err := s.manager(ctx, me, conversationID); err != nil {
		return l, err
	}
	code, err := newInviteCode()
	if err != nil {
		return l, err
	}
	l.Code, l.CodeHash = code, inviteHash(code)
	if err := s.store.CreateInviteLink(ctx, l); err != nil {
		return l, fmt.Errorf("chat: create invite link: %w", err)
	}
	s.logModeration(ctx, storage.ModerationEntry{ConversationID: conversationID, ActorID: me, Action: ActionInviteCreated})
	return l, nil
}

// RevokeInviteLink ends a link (owner or admin of its group).
func (s *Service) RevokeInviteLink(ctx context.Context, me, code string) (storage.InviteLink, error) {
	l, err := s.inviteByCode(ctx, code)
	if err != nil {
		return l, err
	}
	if _, _, err := s.manager(ctx, me, l.ConversationID); err != nil {
		return storage.InviteLink{}, err
	}
	if err := s.store.RevokeInviteLink(ctx, l.CodeHash, s.now()); err != nil {
		return l, fmt.Errorf("chat: revoke invite link: %w", err)
	}
	s.logModeration(ctx, storage.ModerationEntry{ConversationID: l.ConversationID, ActorID: me, Action: ActionInviteRevoked})
	return s.store.InviteLink(ctx, l.CodeHash)
}

// InviteLinks lists a group's links, newest first (owner or admin).
func (s *Service) InviteLinks(ctx context.Context, me, conversationID string) ([]storage.InviteLink, error) {
	if _, _, err := s.manager(ctx, me, conversationID); err != nil {
		return nil, err
	}
	ls, err := s.store.InviteLinks(ctx, conversationID)
	if err != nil {
		return nil, fmt.Errorf("chat: invite links: %w", err)
	}
	return ls, nil
}

// usableInvite finds a link that admits joins now.
func (s *Service) usableInvite(ctx context.Context, code string) (storage.InviteLink, storage.Conversation, error) {
	l, err := s.inviteByCode(ctx, code)
	if err != nil {
		return l, storage.Conversation{}, err
	}
	if !storage.InviteUsable(l, s.now()) {
		return l, storage.Conversation{}, errNoInvite()
	}
	c, err := s.conversation(ctx, l.ConversationID)
	if err != nil {
		return l, c, errNoInvite()
	}
	return l, c, nil
}

// PreviewInvite shows a usable link's group without joining it.
func (s *Service) PreviewInvite(ctx context.Context, me, code string) (InvitePreview, error) {
	l, c, err := s.usableInvite(ctx, code)
	if err != nil {
		return InvitePreview{}, err
	}
	n, err := s.MemberCount(ctx, c.ID)
	if err != nil {
		return InvitePreview{}, err
	}
	return InvitePreview{ConversationID: c.ID, Title: c.Title, MemberCount: n, RequireApproval: l.RequireApproval}, nil
}

// JoinByInvite joins me to a link's group, or, when the link requires
// approval, records my request for its admins. A banned user is refused;
// a member is told so and uses nothing up.
func (s *Service) JoinByInvite(ctx context.Context, me, code string) (InviteJoin, error) {
	l, c, err := s.usableInvite(ctx, code)
	if err != nil {
		return InviteJoin{}, err
	}
	if _, err := s.store.Member(ctx, c.ID, me); err == nil {
		return InviteJoin{Status: AlreadyMember, Conversation: &c}, nil
	}
	if err := s.refuseBanned(ctx, c.ID, []string{me}); err != nil {
		return InviteJoin{}, err
	}
	if l.RequireApproval {
		r := storage.JoinRequest{ConversationID: c.ID, UserID: me, CodeHash: l.CodeHash, At: s.now()}
		if err := s.store.PutJoinRequest(ctx, r); err != nil {
			return InviteJoin{}, fmt.Errorf("chat: request to join: %w", err)
		}
		return InviteJoin{Status: Requested}, nil
	}
	if err := s.roomFor(ctx, c.ID, 1); err != nil {
		return InviteJoin{}, err
	}
	if _, err := s.store.UseInviteLink(ctx, l.CodeHash, s.now()); err != nil {
		if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
			return InviteJoin{}, errNoInvite()
		}
		return InviteJoin{}, fmt.Errorf("chat: use invite link: %w", err)
	}
	c, err = s.admit(ctx, c.ID, me, l.CreatedBy, ActionJoinedByInvite)
	if err != nil {
		return InviteJoin{}, err
	}
	return InviteJoin{Status: Joined, Conversation: &c}, nil
}

// roomFor refuses when n more members would overfill a group.
func (s *Service) roomFor(ctx context.Context, conversationID string, n int) error {
	count, err := s.MemberCount(ctx, conversationID)
	if err != nil {
		return err
	}
	if count+n > s.cfg.MaxGroupMembers {
		return forbidden(fmt.Sprintf("the group is full (%d members)", s.cfg.MaxGroupMembers))
	}
	return nil
}

// admit adds one user to a group (by a link or an approved request),
// tells everyone, and undoes it if a ban landed meanwhile (see
// refuseBannedAfterAdd).
func (s *Service) admit(ctx context.Context, conversationID, userID, by, action string) (storage.Conversation, error) {
	count, err := s.MemberCount(ctx, conversationID)
	if err != nil {
		return storage.Conversation{}, err
	}
	current, err := s.audience(ctx, conversationID)
	if err != nil {
		return storage.Conversation{}, err
	}
	added, err := s.store.AddMembers(ctx, conversationID, []storage.Member{{UserID: userID, Role: storage.RoleMember}}, s.now())
	if err != nil {
		return storage.Conversation{}, fmt.Errorf("chat: join: %w", err)
	}
	if err := s.refuseBannedAfterAdd(ctx, conversationID, added); err != nil {
		return storage.Conversation{}, err
	}
	c, err := s.conversation(ctx, conversationID)
	if err != nil {
		return c, err
	}
	s.noteMemberCount(ctx, conversationID, count+len(added))
	if len(added) > 0 {
		s.emitJoins(ctx, c, append(current, added...), added, by, false)
		s.logModeration(ctx, storage.ModerationEntry{ConversationID: conversationID, ActorID: by, Action: action, TargetUserID: userID})
	}
	return c, nil
}

// JoinRequests pages a group's pending requests by user id (owner or
// admin).
func (s *Service) JoinRequests(ctx context.Context, me, conversationID string, first int, afterUserID string) ([]storage.JoinRequest, bool, error) {
	if _, _, err := s.manager(ctx, me, conversationID); err != nil {
		return nil, false, err
	}
	first, err := capFirst(first)
	if err != nil {
		return nil, false, err
	}
	rs, err := s.store.JoinRequests(ctx, conversationID, afterUserID, first+1)
	if err != nil {
		return nil, false, fmt.Errorf("chat: join requests: %w", err)
	}
	rs, more := trimPage(rs, first)
	return rs, more, nil
}

// ApproveJoinRequest admits a user who asked to join (owner or admin).
// The admin's decision stands even if the link was revoked since; it does
// not count as a use of the link.
func (s *Service) ApproveJoinRequest(ctx context.Context, me, conversationID, userID string) (storage.Conversation, error) {
	if _, _, err := s.manager(ctx, me, conversationID); err != nil {
		return storage.Conversation{}, err
	}
	if err := s.refuseBanned(ctx, conversationID, []string{userID}); err != nil {
		return storage.Conversation{}, err
	}
	if err := s.roomFor(ctx, conversationID, 1); err != nil {
		return storage.Conversation{}, err
	}
	if _, err := s.store.TakeJoinRequest(ctx, conversationID, userID); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return storage.Conversation{}, notFound("join request")
		}
		return storage.Conversation{}, fmt.Errorf("chat: take join request: %w", err)
	}
	return s.admit(ctx, conversationID, userID, me, ActionJoinApproved)
}

// DeclineJoinRequest drops a request (owner or admin).
func (s *Service) DeclineJoinRequest(ctx context.Context, me, conversationID, userID string) error {
	if _, _, err := s.manager(ctx, me, conversationID); err != nil {
		return err
	}
	if _, err := s.store.TakeJoinRequest(ctx, conversationID, userID); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return notFound("join request")
		}
		return fmt.Errorf("chat: take join request: %w", err)
	}
	s.logModeration(ctx, storage.ModerationEntry{ConversationID: conversationID, ActorID: me, Action: ActionJoinDeclined, TargetUserID: userID})
	return nil
}
