package chat

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"messenger/storage"
)

// Blocking and privacy settings. Contacts are the people I share a
// conversation with (direct or group, now): the only relation the product
// has. The rules, enforced wherever the data leaves the server:
//   - a block (either way) stops new direct conversations and messages in an
//     existing one (FORBIDDEN), presence, typing and receipts between the
//     two, and hides the blocked user from the blocker's searchUsers; shared
//     groups keep working, and User.blockedByMe lets clients hide the
//     blocked user's messages there;
//   - lastSeen (EVERYONE, CONTACTS, NOBODY) decides who sees my online
//     status and last-seen time (User.presence, PresenceUpdated);
//   - typing off: nobody gets my TypingUpdated;
//   - read receipts off: nobody sees when I read (ReadCursorMoved, readBy,
//     receipt), and, reciprocally, I see nobody's in direct conversations;
//     groups keep counting my reads in readCount;
//   - directConversations CONTACTS: only contacts may start a direct
//     conversation with me.

// Blocked reports whether a blocks b or b blocks a.
func (s *Service) Blocked(ctx context.Context, a, b string) (bool, error) {
	for _, p := range [][2]string{{a, b}, {b, a}} {
		blocked, err := s.store.IsBlocking(ctx, p[0], p[1])
		if err != nil {
			return false, fmt.Errorf("chat: block between %s and %s: %w", a, b, err)
		}
		if blocked {
			return true, nil
		}
	}
	return false, nil
}

// BlockedByMe reports whether I block other.
func (s *Service) BlockedByMe(ctx context.Context, me, other string) (bool, error) {
	b, err := s.store.IsBlocking(ctx, me, other)
	if err != nil {
		return false, fmt.Errorf("chat: block of %s by %s: %w", other, me, err)
	}
	return b, nil
}

// BlockUser blocks another user (see the rules above) and returns them.
// Blocking twice is a no-op.
func (s *Service) BlockUser(ctx context.Context, me, userID string) (storage.User, error) {
	if me == userID {
		return storage.User{}, badInput("userId", "you cannot block yourself")
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		return u, err
	}
	created, err := s.store.Block(ctx, storage.Block{BlockerID: me, BlockedID: userID, At: s.now()})
	if err != nil {
		return u, fmt.Errorf("chat: block %s: %w", userID, err)
	}
	if created {
		// From now on each shows the other as offline: say so, so that
		// neither client keeps showing the other online.
		s.signal(ctx, []string{userID}, &PresenceUpdated{UserID: me})
		s.signal(ctx, []string{me}, &PresenceUpdated{UserID: userID})
	}
	return u, nil
}

// UnblockUser lifts my block of another user and returns them. Unblocking
// someone not blocked is a no-op.
func (s *Service) UnblockUser(ctx context.Context, me, userID string) (storage.User, error) {
	if me == userID {
		return storage.User{}, badInput("userId", "you cannot unblock yourself")
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		return u, err
	}
	if _, err := s.store.Unblock(ctx, me, userID); err != nil {
		return u, fmt.Errorf("chat: unblock %s: %w", userID, err)
	}
	return u, nil
}

// BlockedUsers pages the users I block, ordered by user id.
func (s *Service) BlockedUsers(ctx context.Context, me string, first int, afterUserID string) ([]storage.Block, bool, error) {
	first, err := capFirst(first)
	if err != nil {
		return nil, false, err
	}
	bs, err := s.store.BlockedUsers(ctx, me, afterUserID, first+1)
	if err != nil {
		return nil, false, fmt.Errorf("chat: blocked users: %w", err)
	}
	bs, more := trimPage(bs, first)
	return bs, more, nil
}

// blockSet is everyone I block or who blocks me.
func (s *Service) blockSet(ctx context.Context, me string) (map[string]bool, error) {
	mine, err := s.store.BlockedUsers(ctx, me, "", 0)
	if err != nil {
		return nil, fmt.Errorf("chat: blocks of %s: %w", me, err)
	}
	theirs, err := s.store.Blockers(ctx, me)
	if err != nil {
		return nil, fmt.Errorf("chat: blockers of %s: %w", me, err)
	}
	set := make(map[string]bool, len(mine)+len(theirs))
	for _, b := range mine {
		set[b.BlockedID] = true
	}
	for _, id := range theirs {
		set[id] = true
	}
	return set, nil
}

// withoutBlocked drops from to everyone me blocks or who blocks me. When
// the blocks cannot be read it sends to nobody but me: a signal lost is
// better than a block ignored.
func (s *Service) withoutBlocked(ctx context.Context, me string, to []string) []string {
	set, err := s.blockSet(ctx, me)
	if err != nil {
		s.cfg.Logger.Warn("privacy: blocks unreadable, event kept to its author", "user", me, "err", err)
		return slices.DeleteFunc(slices.Clone(to), func(id string) bool { return id != me })
	}
	if len(set) == 0 {
		return to
	}
	return slices.DeleteFunc(slices.Clone(to), func(id string) bool { return set[id] })
}

// directPeer returns the other member of a direct conversation.
func directPeer(c storage.Conversation, me string) string {
	a, b, _ := strings.Cut(c.DirectKey, "|")
	if a == me {
		return b
	}
	return a
}

// mayMessage refuses a message in a direct conversation whose two users
// are blocked either way, saying which side blocked.
func (s *Service) mayMessage(ctx context.Context, me string, c storage.Conversation) error {
	if c.Kind != storage.Direct {
		return nil
	}
	return s.notBlocked(ctx, me, directPeer(c, me))
}

// mayMessageIn is mayMessage for a conversation known by id (a send, an
// edit or a reaction: in a direct conversation each is a message). Its
// kind comes from kindCache, so a group's send reads nothing more.
func (s *Service) mayMessageIn(ctx context.Context, me, conversationID string) error {
	key, ok := s.kinds.get(conversationID)
	if !ok {
		c, err := s.conversation(ctx, conversationID)
		if err != nil {
			return err
		}
		key = kindKey(c)
		s.kinds.put(conversationID, key)
	}
	if key == "" || key == channelKey {
		return nil
	}
	return s.mayMessage(ctx, me, storage.Conversation{Kind: storage.Direct, DirectKey: key})
}

// kindCache remembers which conversations are direct, and between whom:
// both are fixed when a conversation is created, so an entry never goes
// stale, in any process. It holds at most kindCacheSize entries and starts
// afresh when full.
type kindCache struct {
	mu sync.Mutex
	m  map[string]string // conversation id -> kindKey: DirectKey, "" for a group, channelKey
}

const kindCacheSize = 100_000

func (k *kindCache) get(id string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[id]
	return v, ok
}

func (k *kindCache) put(id, directKey string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil || len(k.m) >= kindCacheSize {
		k.m = make(map[string]string)
	}
	k.m[id] = directKey
}

// notBlocked is FORBIDDEN when me and other are blocked either way.
func (s *Service) notBlocked(ctx context.Context, me, other string) error {
	mine, err := s.store.IsBlocking(ctx, me, other)
	if err != nil {
		return fmt.Errorf("chat: block of %s by %s: %w", other, me, err)
	}
	if mine {
		return forbidden("you blocked this user: unblock them to message them")
	}
	theirs, err := s.store.IsBlocking(ctx, other, me)
	if err != nil {
		return fmt.Errorf("chat: block of %s by %s: %w", me, other, err)
	}
	if theirs {
		return forbidden("this user does not accept messages from you")
	}
	return nil
}

// mayStartDirect applies blocks and the other user's directConversations
// setting to a new direct conversation.
func (s *Service) mayStartDirect(ctx context.Context, me, other string) error {
	if err := s.notBlocked(ctx, me, other); err != nil {
		return err
	}
	p, err := s.privacyOf(ctx, other)
	if err != nil {
		return err
	}
	if p.DirectConversations != storage.AudienceContacts {
		return nil
	}
	ok, err := s.areContacts(ctx, me, other)
	if err != nil {
		return err
	}
	if !ok {
		return forbidden("this user accepts direct conversations only from people they share a conversation with")
	}
	return nil
}

// areContacts reports whether a and b share a conversation now.
func (s *Service) areContacts(ctx context.Context, a, b string) (bool, error) {
	as, err := s.store.UserConversationIDs(ctx, a)
	if err != nil {
		return false, fmt.Errorf("chat: conversations of %s: %w", a, err)
	}
	bs, err := s.store.UserConversationIDs(ctx, b)
	if err != nil {
		return false, fmt.Errorf("chat: conversations of %s: %w", b, err)
	}
	set := make(map[string]bool, len(as))
	for _, id := range as {
		set[id] = true
	}
	for _, id := range bs {
		if set[id] {
			return true, nil
		}
	}
	return false, nil
}

// ForgetPrivacy removes a user's blocks (made by or against them) and
// their settings: account deletion calls it. Reports stay for moderators.
func (s *Service) ForgetPrivacy(ctx context.Context, userID string) error {
	if err := s.store.ForgetPrivacy(ctx, userID); err != nil {
		return fmt.Errorf("chat: forget privacy of %s: %w", userID, err)
	}
	return nil
}
