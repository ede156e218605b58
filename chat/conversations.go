package chat

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"messenger/storage"
	"messenger/textrules"
)

// CreateDirect returns the one-to-one conversation of me and other, creating
// it on first use. Whoever asks, the pair always gets the same conversation.
func (s *Service) CreateDirect(ctx context.Context, me, other string) (storage.Conversation, error) {
	if me == other {
		return storage.Conversation{}, badInput("userId", "cannot start a conversation with yourself")
	}
	if _, err := s.User(ctx, other); err != nil {
		return storage.Conversation{}, err
	}
	if err := s.mayStartDirect(ctx, me, other); err != nil {
		return storage.Conversation{}, err
	}
	pair := []string{me, other}
	sort.Strings(pair)
	now := s.now()
	c := storage.Conversation{ID: uuid.NewString(), Kind: storage.Direct, CreatedBy: me, CreatedAt: now, LastActivityAt: now, DirectKey: strings.Join(pair, "|")}
	members := []storage.Member{{UserID: me, Role: storage.RoleMember, JoinedAt: now}, {UserID: other, Role: storage.RoleMember, JoinedAt: now}}
	c, created, err := s.store.CreateConversation(ctx, c, members)
	if err != nil {
		return c, fmt.Errorf("chat: create direct conversation: %w", err)
	}
	if created {
		s.emit(ctx, pair, &ConversationUpdated{Conversation: &c})
	}
	return c, nil
}

// validTitle applies a display name's rules to a group's title (it shows
// in every member's list): 1-128 characters, something visible, no
// control characters and no bidirectional overrides that reorder the text
// around it.
func validTitle(title string) (string, error) {
	title = strings.TrimSpace(title)
	if title == "" || utf8.RuneCountInString(title) > 128 {
		return "", badInput("title", "title must be 1-128 characters")
	}
	if err := textrules.DisplayName(title); err != nil {
		return "", badInput("title", "title "+err.Error())
	}
	return title, nil
}

// CreateGroup creates a group owned by me with the given members.
func (s *Service) CreateGroup(ctx context.Context, me, title string, memberIDs []string) (storage.Conversation, error) {
	title, err := validTitle(title)
	if err != nil {
		return storage.Conversation{}, err
	}
	ids := dedupe(append([]string{me}, memberIDs...))
	if len(ids) > s.cfg.MaxGroupMembers {
		return storage.Conversation{}, badInput("memberIds", fmt.Sprintf("a group has at most %d members", s.cfg.MaxGroupMembers))
	}
	if err := s.mustExist(ctx, ids); err != nil {
		return storage.Conversation{}, err
	}
	now := s.now()
	c := storage.Conversation{ID: uuid.NewString(), Kind: storage.Group, Title: title, CreatedBy: me, CreatedAt: now, LastActivityAt: now}
	members := make([]storage.Member, len(ids))
	for i, id := range ids {
		members[i] = storage.Member{UserID: id, Role: storage.RoleMember, JoinedAt: now}
	}
	members[0].Role = storage.RoleOwner
	c, _, err = s.store.CreateConversation(ctx, c, members)
	if err != nil {
		return c, fmt.Errorf("chat: create group: %w", err)
	}
	s.noteMemberCount(ctx, c.ID, len(ids))
	s.emit(ctx, ids, &ConversationUpdated{Conversation: &c})
	return c, nil
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (s *Service) mustExist(ctx context.Context, userIDs []string) error {
	us, err := s.store.Users(ctx, userIDs)
	if err != nil {
		return fmt.Errorf("chat: load users: %w", err)
	}
	for _, id := range userIDs {
		if _, ok := us[id]; !ok {
			return notFound("user")
		}
	}
	return nil
}

// manager checks that me may manage the group: owner or admin.
func (s *Service) manager(ctx context.Context, me, conversationID string) (storage.Member, storage.Conversation, error) {
	m, err := s.member(ctx, conversationID, me)
	if err != nil {
		return m, storage.Conversation{}, err
	}
	c, err := s.conversation(ctx, conversationID)
	if err != nil {
		return m, c, err
	}
	if !c.Kind.IsGroup() {
		return m, c, forbidden("direct conversations have no members to manage")
	}
	if m.Role != storage.RoleOwner && m.Role != storage.RoleAdmin {
		return m, c, forbidden("only the group's owner or an admin may do this")
	}
	return m, c, nil
}

// AddMembers adds users to a group (owner or admin).
func (s *Service) AddMembers(ctx context.Context, me, conversationID string, userIDs []string) (storage.Conversation, error) {
	_, c, err := s.manager(ctx, me, conversationID)
	if err != nil {
		return c, err
	}
	userIDs = dedupe(userIDs)
	if len(userIDs) == 0 {
		return c, badInput("userIds", "give at least one user")
	}
	count, err := s.MemberCount(ctx, conversationID)
	if err != nil {
		return c, err
	}
	if count+len(userIDs) > s.cfg.MaxGroupMembers {
		return c, badInput("userIds", fmt.Sprintf("a group has at most %d members", s.cfg.MaxGroupMembers))
	}
	current, err := s.audience(ctx, conversationID)
	if err != nil {
		return c, err
	}
	if err := s.mustExist(ctx, userIDs); err != nil {
		return c, err
	}
	if err := s.refuseBanned(ctx, conversationID, userIDs); err != nil {
		return c, err
	}
	members := make([]storage.Member, len(userIDs))
	for i, id := range userIDs {
		members[i] = storage.Member{UserID: id, Role: storage.RoleMember}
	}
	added, err := s.store.AddMembers(ctx, conversationID, members, s.now())
	if err != nil {
		return c, fmt.Errorf("chat: add members: %w", err)
	}
	if err := s.refuseBannedAfterAdd(ctx, conversationID, added); err != nil {
		return c, err
	}
	s.noteMemberCount(ctx, conversationID, count+len(added))
	if c, err = s.conversation(ctx, conversationID); err != nil {
		return c, err
	}
	// One MemberJoined per newcomer to everyone, while that stays a few
	// events. A bulk add would push that many events into every member's
	// log, and out of it the events an offline member has yet to fetch:
	// then the members get one ConversationUpdated (refetch the members)
	// and each newcomer only their own MemberJoined.
	if len(added) <= maxJoinEvents {
		s.emitJoins(ctx, c, append(current, added...), added, me, false)
		return c, nil
	}
	s.emitJoins(ctx, c, current, added, me, true)
	return c, nil
}

// maxJoinEvents is the most MemberJoined events one addMembers sends each
// member.
const maxJoinEvents = smallGroup

// RemoveMember removes a member (owner or admin; nobody removes the owner,
// admins do not remove admins).
func (s *Service) RemoveMember(ctx context.Context, me, conversationID, userID string) (storage.Conversation, error) {
	mine, c, err := s.manager(ctx, me, conversationID)
	if err != nil {
		return c, err
	}
	target, err := s.store.Member(ctx, conversationID, userID)
	if err != nil {
		return c, notFound("member")
	}
	if target.Role == storage.RoleOwner || (target.Role == storage.RoleAdmin && mine.Role != storage.RoleOwner) {
		return c, forbidden("you may not remove this member")
	}
	if err := s.leave(ctx, conversationID, userID, me); err != nil {
		return c, err
	}
	s.logModeration(ctx, storage.ModerationEntry{ConversationID: conversationID, ActorID: me, Action: ActionRemoveMember, TargetUserID: userID})
	return c, nil
}

// Leave ends my membership of a group.
func (s *Service) Leave(ctx context.Context, me, conversationID string) error {
	if _, err := s.member(ctx, conversationID, me); err != nil {
		return err
	}
	c, err := s.conversation(ctx, conversationID)
	if err != nil {
		return err
	}
	if !c.Kind.IsGroup() {
		return forbidden("you cannot leave a direct conversation")
	}
	return s.leave(ctx, conversationID, me, "")
}

func (s *Service) leave(ctx context.Context, conversationID, userID, by string) error {
	leaver, err := s.store.Member(ctx, conversationID, userID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("chat: member of %s: %w", conversationID, err)
	}
	before, err := s.audience(ctx, conversationID)
	if err != nil {
		return err
	}
	if err := s.store.RemoveMember(ctx, conversationID, userID, s.now()); err != nil {
		return fmt.Errorf("chat: remove member: %w", err)
	}
	// The leaver hears it too (their other devices drop the conversation);
	// nothing after this reaches them.
	s.emitLeft(ctx, conversationID, before, userID, by)
	if leaver.Role == storage.RoleOwner {
		// The leaving is done; a failed handover is for the operators.
		if err := s.handOver(ctx, conversationID, userID); err != nil {
			s.cfg.Logger.Error("group left without an owner", "conversation", conversationID, "err", err)
		}
	}
	return nil
}

// handOver gives an owner's group to whoever has stood longest among its
// admins, or else among its members, so a group is never left without
// someone who may manage it. Everyone left hears the new roles.
func (s *Service) handOver(ctx context.Context, conversationID string, gone string) error {
	var next *storage.Member
	err := storage.EachMemberPage(ctx, s.store, conversationID, func(ms []storage.Member) error {
		for _, m := range ms {
			if m.UserID != gone && (next == nil || successorBefore(m, *next)) {
				next = &m
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("chat: members of %s: %w", conversationID, err)
	}
	if next == nil {
		return nil // the last member left
	}
	if err := s.store.SetRole(ctx, conversationID, next.UserID, storage.RoleOwner); err != nil {
		return fmt.Errorf("chat: hand the group over: %w", err)
	}
	c, err := s.conversation(ctx, conversationID)
	if err != nil {
		return err
	}
	s.emitConversation(ctx, conversationID, &ConversationUpdated{Conversation: &c})
	return nil
}

// successorBefore orders candidates for ownership: admins first, then the
// earliest to join, then by user id.
func successorBefore(a, b storage.Member) bool {
	if (a.Role == storage.RoleAdmin) != (b.Role == storage.RoleAdmin) {
		return a.Role == storage.RoleAdmin
	}
	if !a.JoinedAt.Equal(b.JoinedAt) {
		return a.JoinedAt.Before(b.JoinedAt)
	}
	return a.UserID < b.UserID
}

// Rename sets a group's title (owner or admin).
func (s *Service) Rename(ctx context.Context, me, conversationID, title string) (storage.Conversation, error) {
	title, err := validTitle(title)
	if err != nil {
		return storage.Conversation{}, err
	}
	if _, _, err := s.manager(ctx, me, conversationID); err != nil {
		return storage.Conversation{}, err
	}
	if err := s.store.RenameConversation(ctx, conversationID, title, s.now()); err != nil {
		return storage.Conversation{}, fmt.Errorf("chat: rename: %w", err)
	}
	c, err := s.conversation(ctx, conversationID)
	if err != nil {
		return c, err
	}
	s.emitConversation(ctx, conversationID, &ConversationUpdated{Conversation: &c})
	return c, nil
}

// SetRole changes a member's role (owner only; the owner's own role stays).
func (s *Service) SetRole(ctx context.Context, me, conversationID, userID string, role storage.Role) (storage.Conversation, error) {
	mine, c, err := s.manager(ctx, me, conversationID)
	if err != nil {
		return c, err
	}
	if mine.Role != storage.RoleOwner {
		return c, forbidden("only the owner may change roles")
	}
	if role == storage.RoleOwner || userID == me {
		return c, badInput("role", "ownership cannot be given or dropped this way")
	}
	if err := s.store.SetRole(ctx, conversationID, userID, role); err != nil {
		return c, notFound("member")
	}
	s.logModeration(ctx, storage.ModerationEntry{ConversationID: conversationID, ActorID: me, Action: ActionSetRole, TargetUserID: userID, Detail: string(role)})
	s.emitConversation(ctx, conversationID, &ConversationUpdated{Conversation: &c})
	return c, nil
}

// trimPage cuts a store result read with limit n+1 back to n items and
// reports whether there were more: the one extra row is how every page
// knows hasNextPage without a count.
func trimPage[T any](items []T, n int) ([]T, bool) {
	if len(items) > n {
		return items[:n], true
	}
	return items, false
}

// MaxPage caps `first` and `last`.
const MaxPage = 100

func capFirst(n int) (int, error) {
	if n < 0 {
		return 0, badInput("first", "first must not be negative")
	}
	if n == 0 {
		return 20, nil
	}
	return min(n, MaxPage), nil
}
