package chat

import (
	"context"
	"hash/fnv"
	"sync"
	"time"
)

// presence counts this process's live subscriptions per user. A user is
// online while the count is above zero.
type presence struct {
	mu       sync.Mutex
	live     map[string]int
	lastSeen map[string]time.Time
	// announcing serialises one user's announcements (striped by user).
	announcing [64]sync.Mutex
}

func newPresence() *presence {
	return &presence{live: map[string]int{}, lastSeen: map[string]time.Time{}}
}

// maxPresenceAudience bounds one presence change's fan-out: it goes to the
// members of my direct conversations and of groups up to smallGroup
// members, at most this many users. Large groups show presence by query.
const maxPresenceAudience = 500

func (s *Service) online(ctx context.Context, me string) {
	s.presence.mu.Lock()
	s.presence.live[me]++
	first := s.presence.live[me] == 1
	s.presence.mu.Unlock()
	if first {
		s.goBackground(func() { s.announcePresence(context.WithoutCancel(ctx), me) })
	}
}

func (s *Service) offline(me string) {
	s.presence.mu.Lock()
	s.presence.live[me]--
	last := s.presence.live[me] <= 0
	var seen time.Time
	if last {
		delete(s.presence.live, me)
		seen = s.now()
		s.presence.lastSeen[me] = seen
	}
	s.presence.mu.Unlock()
	if last {
		s.goBackground(func() { s.announcePresence(context.Background(), me) })
	}
}

// Presence reports whether a user is online and when they were last seen.
func (s *Service) Presence(userID string) (online bool, lastSeen *time.Time) {
	s.presence.mu.Lock()
	defer s.presence.mu.Unlock()
	if s.presence.live[userID] > 0 {
		return true, nil
	}
	if t, ok := s.presence.lastSeen[userID]; ok {
		return false, &t
	}
	return false, nil
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
	online, seen := s.Presence(me)
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
	ms, err := s.store.Members(ctx, conversationID, "", 0)
	if err != nil {
		return err
	}
	to := make([]string, 0, len(ms))
	for _, m := range ms {
		if m.UserID != me {
			to = append(to, m.UserID)
		}
	}
	ev := &TypingUpdated{ConversationID: conversationID, UserID: me, Typing: typing}
	if typing {
		exp := s.now().Add(s.cfg.TypingTTL)
		ev.ExpiresAt = &exp
	}
	s.signal(ctx, to, ev)
	return nil
}
