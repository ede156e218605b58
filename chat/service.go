// Package chat holds the messenger's rules: who may do what, limits,
// ordering, receipts and fan-out. It knows nothing of GraphQL or of any
// database: it talks to a storage.Store for durable data and a realtime.Log
// for events.
package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"messenger/auth"
	"messenger/presence"
	"messenger/presence/mempresence"
	"messenger/realtime"
	"messenger/realtime/memturns"
	"messenger/revocation"
	"messenger/revocation/memrevocation"
	"messenger/search"
	"messenger/storage"
)

// Config configures the Service. Zero values are the documented defaults.
type Config struct {
	// Store holds the durable data. Required.
	Store storage.Store
	// Log carries events to subscribers. Required.
	Log realtime.Log
	// Tokens issues and checks session tokens. Required. New makes it
	// refuse tokens of users without an account (Tokens.RequireAccounts).
	Tokens *auth.Tokens
	// Now is the clock (default time.Now).
	Now func() time.Time
	// RecallWindow is how long a sender may delete for everyone (default 24 h).
	RecallWindow time.Duration
	// MaxBodyRunes caps a message's length in characters (default 4000).
	MaxBodyRunes int
	// MaxGroupMembers caps a group's or a channel's size (default 200,000,
	// Telegram's group limit; see docs/large-groups-product.md).
	MaxGroupMembers int
	// TypingTTL is how long a typing signal lasts without renewal (default 6 s).
	TypingTTL time.Duration
	// Presence tracks who is online (default: in this process only; a fleet
	// shares presence.Redis).
	Presence presence.Tracker
	// Logger receives operational messages (default slog.Default()).
	Logger *slog.Logger
	// PasswordCost is argon2id's cost for new passwords (default
	// auth.DefaultArgon2). Only tests that create thousands of accounts
	// lower it.
	PasswordCost auth.Argon2Params
	// Hashes bounds the password hashes (sign-ups and log-ins) running at
	// once (default: one gate shared by every Service of the process, with
	// auth.NewHashGate's defaults).
	Hashes *auth.HashGate
	// Indexer is told, without blocking, about every change search must
	// reflect (sent, edited, deleted and hidden messages; new users), after
	// it is durable. Nil: nothing is indexed.
	Indexer Indexer
	// Search answers searchMessages and searchUsers. Nil: those refuse with
	// UNAVAILABLE.
	Search search.Index
	// FanOutGrace is how long after a message was sent its fan-out may
	// still be unconfirmed before the outbox sweeper replays it (default
	// 10 s). It must exceed the time a send takes from SentAt to its
	// fan-out, or sends in flight are replayed needlessly (harmless: a
	// replay adds an event only where it is missing).
	FanOutGrace time.Duration
	// FanOutSweep is how often this instance looks for unconfirmed
	// fan-outs (default 2 s; negative: never, for tests that sweep by hand).
	FanOutSweep time.Duration
	// Turns orders the fan-outs of each conversation's messages, so every
	// member's log has them in seq order (default: the senders of this
	// process, realtime/memturns; a fleet shares realtime/redisturns).
	Turns realtime.Turns
	// FanOutPatience is how long a send waits, without progress, for the
	// fan-outs of its conversation's earlier messages before it fans them
	// out itself (default 2 s): how long a sender that died after its
	// write stalls its conversation's live events. It must exceed the time
	// one append takes (a Redis append is bounded by its timeout, 1 s by
	// default): a takeover of an append still running can give some
	// members that message twice, the second copy out of order.
	FanOutPatience time.Duration
	// LargeGroupThreshold is the member count above which a conversation
	// is large (default 1,000): see Service.IsLarge for what changes. It
	// also becomes streamed when it passes it: marked once, for good
	// (storage.LargeGroups), so that its events can be read from the
	// conversation's own stream instead of being copied into every
	// member's log (docs/large-groups.md).
	LargeGroupThreshold int
	// Notifier hears about new and recalled messages, for push
	// notifications (see Notifier). Nil: nobody is notified.
	Notifier Notifier
	// Revocations tells every instance that sessions ended (default: this
	// process only, memrevocation; a fleet shares redisrevocation).
	Revocations revocation.Bus
	// SessionEndListener, when set, is told of every session that ends on
	// this instance (push unregisters its devices).
	SessionEndListener SessionEndListener
	// PostingRulesTTL is how long this instance reuses a group's posting
	// rules (slow mode, announcement-only) read for a send (default 1 s;
	// negative: read them on every send). A change made on this instance
	// applies at once; one made on another applies here within the TTL.
	PostingRulesTTL time.Duration
}

// Service is the domain: every rule of the product lives behind its methods.
// Methods take the acting user's id explicitly; authentication happens
// before.
type Service struct {
	cfg      Config
	store    storage.Store
	log      realtime.Log
	turns    realtime.Turns
	presence *presenceState
	messages messageLocks
	decoded  decodeCache
	started  startedCache // largeroute.go
	kinds    kindCache
	rules    rulesCache // postingrules.go
	// attachments is the plugged-in Attachments port (UseAttachments).
	attachments atomic.Pointer[Attachments]
	// avatars is the plugged-in Avatars port (UseAvatars).
	avatars atomic.Pointer[Avatars]
	// previewer is the plugged-in LinkPreviewer (UseLinkPreviews).
	previewer atomic.Pointer[LinkPreviewer]
	// stopSweep ends the outbox sweeper; swept is closed when it has ended.
	stopSweep, swept chan struct{}
	// stopRevocations ends this instance's subscription to Revocations.
	stopRevocations func()
	closeOnce       sync.Once
	// background counts goroutines that outlive a request (subscriptions and
	// their presence announcements); Close waits for them so they never
	// touch a closed store. Not a WaitGroup: work may start while Close waits.
	background struct {
		sync.Mutex
		running int
		idle    chan struct{} // closed when running drops to zero, if set
		closed  bool          // Close has begun: no new background work starts
	}
}

// Close waits (at most 10 s) for background work started by requests:
// subscriptions whose contexts have ended and the presence announcements
// they make. Call it after closing connections and before closing the store
// and the log, so nothing touches a closed store. Work that would start after
// Close began (a subscription whose context ends late, announcing its user
// offline) is skipped: the store it would read is about to close.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		s.stopRevocations()
		close(s.stopSweep)
		<-s.swept
	})
	bg := &s.background
	bg.Lock()
	bg.closed = true
	if bg.running == 0 {
		bg.Unlock()
		return
	}
	idle := make(chan struct{})
	bg.idle = idle
	bg.Unlock()
	select {
	case <-idle:
	case <-time.After(10 * time.Second):
		s.cfg.Logger.Warn("chat: background work still running at close")
	}
}

// goBackground runs fn in a goroutine that Close waits for; once Close has
// begun, fn does not run at all.
func (s *Service) goBackground(fn func()) {
	bg := &s.background
	bg.Lock()
	if bg.closed {
		bg.Unlock()
		return
	}
	bg.running++
	bg.Unlock()
	go func() {
		defer func() {
			bg.Lock()
			bg.running--
			if bg.running == 0 && bg.idle != nil {
				close(bg.idle)
				bg.idle = nil
			}
			bg.Unlock()
		}()
		fn()
	}()
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Log == nil || cfg.Tokens == nil {
		return nil, errors.New("chat: Store, Log and Tokens are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RecallWindow <= 0 {
		cfg.RecallWindow = 24 * time.Hour
	}
	if cfg.MaxBodyRunes <= 0 {
		cfg.MaxBodyRunes = 4000
	}
	if cfg.MaxGroupMembers <= 0 {
		cfg.MaxGroupMembers = 200000
	}
	if cfg.TypingTTL <= 0 {
		cfg.TypingTTL = 6 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Presence == nil {
		cfg.Presence = mempresence.New()
	}
	if cfg.FanOutGrace <= 0 {
		cfg.FanOutGrace = 10 * time.Second
	}
	if cfg.FanOutSweep == 0 {
		cfg.FanOutSweep = 2 * time.Second
	}
	if cfg.Hashes == nil {
		cfg.Hashes = processHashes()
	}
	if cfg.Turns == nil {
		cfg.Turns = memturns.New(memturns.Config{})
	}
	if cfg.FanOutPatience <= 0 {
		cfg.FanOutPatience = 2 * time.Second
	}
	if cfg.LargeGroupThreshold <= 0 {
		cfg.LargeGroupThreshold = DefaultLargeGroupThreshold
	}
	if cfg.Revocations == nil {
		cfg.Revocations = memrevocation.New()
	}
	if cfg.PostingRulesTTL == 0 {
		cfg.PostingRulesTTL = time.Second
	}
	s := &Service{
		cfg: cfg, store: cfg.Store, log: cfg.Log, turns: cfg.Turns, presence: &presenceState{tracker: cfg.Presence},
		stopSweep: make(chan struct{}), swept: make(chan struct{}),
	}
	cfg.Tokens.RequireAccounts(s)
	cfg.Tokens.RequireSessions(s)
	s.stopRevocations = cfg.Revocations.Subscribe(func(e revocation.Ended) {
		for _, id := range e.SessionIDs {
			cfg.Tokens.Revoke(id)
		}
	})
	go func() {
		defer close(s.swept)
		if cfg.FanOutSweep > 0 {
			s.sweepLoop(s.stopSweep)
		}
	}()
	return s, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// member returns the caller's membership, or NOT_FOUND when they are not a
// member: a conversation you cannot see does not exist for you.
func (s *Service) member(ctx context.Context, conversationID, userID string) (storage.Member, error) {
	m, err := s.store.Member(ctx, conversationID, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return m, notFound("conversation")
	}
	if err != nil {
		return m, fmt.Errorf("chat: membership of %s in %s: %w", userID, conversationID, err)
	}
	return m, nil
}

func (s *Service) conversation(ctx context.Context, id string) (storage.Conversation, error) {
	cs, err := s.store.Conversations(ctx, []string{id})
	if err != nil {
		return storage.Conversation{}, fmt.Errorf("chat: load conversation %s: %w", id, err)
	}
	c, ok := cs[id]
	if !ok {
		return c, notFound("conversation")
	}
	return c, nil
}

// memberIDs lists every current member of a conversation: the ids only,
// read from the store's member keys (storage.Store.MemberIDs), no row
// decoded. A fan-out to a group below the large-group threshold reads them
// per message; decoding each member's row only to keep its id cost ≈ 4 µs
// per member (a 300-member group: ≈ 1 ms per message, issue #24). The ids
// of a very large group are held at once as they always were (the slice
// the fan-out needs); the store pages its reads.
func (s *Service) memberIDs(ctx context.Context, conversationID string) ([]string, error) {
	ids, err := s.store.MemberIDs(ctx, conversationID)
	if err != nil {
		return nil, fmt.Errorf("chat: members of %s: %w", conversationID, err)
	}
	return ids, nil
}

// Conversation returns a conversation the caller is a member of.
func (s *Service) Conversation(ctx context.Context, me, id string) (storage.Conversation, error) {
	if _, err := s.member(ctx, id, me); err != nil {
		return storage.Conversation{}, err
	}
	return s.conversation(ctx, id)
}

// Membership returns the caller's membership of a conversation, with the
// read cursor as they see it (an unread mark moves it back: MarkUnread).
func (s *Service) Membership(ctx context.Context, me, conversationID string) (storage.Member, error) {
	m, err := s.member(ctx, conversationID, me)
	if err != nil {
		return m, err
	}
	return s.readMark(ctx, m)
}

// MemberCount counts a conversation's current members, in constant time
// (storage.MemberCounts): a conversation list never reads a large group's
// member list to show its size.
func (s *Service) MemberCount(ctx context.Context, conversationID string) (int, error) {
	n, err := s.store.MemberCount(ctx, conversationID)
	if err != nil {
		return 0, fmt.Errorf("chat: member count: %w", err)
	}
	return n, nil
}

// Members pages the members of a conversation I belong to, by user id.
func (s *Service) Members(ctx context.Context, me, conversationID string, first int, afterUserID string) ([]storage.Member, bool, error) {
	if _, err := s.member(ctx, conversationID, me); err != nil {
		return nil, false, err
	}
	first, err := capFirst(first)
	if err != nil {
		return nil, false, err
	}
	ms, err := s.store.Members(ctx, conversationID, afterUserID, first+1)
	if err != nil {
		return nil, false, fmt.Errorf("chat: members: %w", err)
	}
	ms, more := trimPage(ms, first)
	return ms, more, nil
}
