package chat

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"messenger/presence"
)

// presence holds who is online (a presence.Tracker: in-process, or shared
// through Redis by a fleet) and serialises each user's announcements.
type presenceState struct {
	tracker presence.Tracker
	// announcing serialises one user's announcements (striped by user).
	announcing [64]sync.Mutex
}

// maxPresenceAudience bounds one presence change's fan-out: it goes to the
// members of my direct conversations and of groups up to smallGroup
// members, at most this many users. Large groups show presence by query.
const maxPresenceAudience = 500

// online records a live subscription of mine and returns its handle; the
// first one makes me online for my contacts.
func (s *Service) online(ctx context.Context, me string) string {
	h, first, err := s.presence.tracker.Connect(ctx, me)
	if err != nil {
		s.cfg.Logger.Warn("presence: connect", "user", me, "err", err)
		return h
	}
	if first {
		s.goBackground(func() { s.announcePresence(context.WithoutCancel(ctx), me) })
	}
	return h
}

// offline ends the subscription with handle h; the last one makes me
// offline, last seen now.
func (s *Service) offline(me, h string) {
	last, err := s.presence.tracker.Disconnect(context.Background(), me, h, s.now())
	if err != nil {
		s.cfg.Logger.Warn("presence: disconnect", "user", me, "err", err)
		return
	}
	if last {
		s.goBackground(func() { s.announcePresence(context.Background(), me) })
	}
}

// Presence reports whether a user is online and when they were last seen.
// When the tracker cannot answer, the user shows as offline.
func (s *Service) Presence(ctx context.Context, userID string) (online bool, lastSeen *time.Time) {
	online, lastSeen, err := s.presence.tracker.State(ctx, userID)
	if err != nil {
		s.cfg.Logger.Warn("presence: state", "user", userID, "err", err)
		return false, nil
	}
	return online, lastSeen
}

// announcePresence tells my contacts whether I am online. It announces the
// state as it is when it sends, one announcement of mine at a time: when I
// come and go quickly the announcements of both changes race, and
// whichever sends last must not be the stale one.
func (s *Service) announcePresence(ctx context.Context, me string) {
	h := fnv.New32a()
	h.Write([]byte(me))
	mu := &s.presence.announcing[h.Sum32()%uint32(len(s.presence.announcing))]
	mu.Lock()
	defer mu.Unlock()
	to, err := s.contacts(ctx, me, maxPresenceAudience)
	if err != nil || len(to) == 0 {
		return
	}
	if to = s.presenceAudience(ctx, me, to); len(to) == 0 {
		return
	}
	online, seen := s.Presence(ctx, me)
	s.signal(ctx, to, &PresenceUpdated{UserID: me, Online: online, LastSeenAt: seen})
}

// contacts lists up to limit users who share a direct conversation or a
// small group with me.
func (s *Service) contacts(ctx context.Context, me string, limit int) ([]string, error) {
	convs, err := s.store.UserConversationIDs(ctx, me)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range convs {
		ms, err := s.store.Members(ctx, id, "", smallGroup+1)
		if err != nil || len(ms) > smallGroup {
			continue
		}
		for _, m := range ms {
			if m.UserID != me {
				out = append(out, m.UserID)
			}
		}
		if out = dedupe(out); len(out) >= limit {
			return out[:limit], nil
		}
	}
	return out, nil
}

// SetTyping tells the other members that I am (or stopped) typing. It is a
// signal: never stored, gone after TypingTTL without renewal.
func (s *Service) SetTyping(ctx context.Context, me, conversationID string, typing bool) error {
	if _, err := s.member(ctx, conversationID, me); err != nil {
		return err
	}
	// Typing is not broadcast in a channel nor in a large group (above
	// Config.LargeGroupThreshold): thousands of readers would each hear
	// every keystroke of every writer (docs/large-groups-product.md). So
	// at most threshold+1 members are read here.
	if key, err := s.kindKeyOf(ctx, conversationID); err != nil || key == channelKey {
		return err
	}
	ms, err := s.store.Members(ctx, conversationID, "", s.cfg.LargeGroupThreshold+1)
	if err != nil {
		return err
	}
	if s.IsLarge(len(ms)) {
		return nil
	}
	to := make([]string, 0, len(ms))
	for _, m := range ms {
		if m.UserID != me {
			to = append(to, m.UserID)
		}
	}
	if to = s.typingAudience(ctx, me, to); len(to) == 0 {
		return nil
	}
	ev := &TypingUpdated{ConversationID: conversationID, UserID: me, Typing: typing}
	if typing {
		exp := s.now().Add(s.cfg.TypingTTL)
		ev.ExpiresAt = &exp
	}
	s.signal(ctx, to, ev)
	return nil
}
