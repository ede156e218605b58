package chat

import (
	"context"
	"fmt"
	"sync"
	"time"

	"messenger/storage"
)

// maxCachedRules bounds the posting rules one instance keeps; when full it
// starts over (a cache miss costs one read).
const maxCachedRules = 50_000

// rulesCache keeps groups' posting rules for Config.PostingRulesTTL, so a
// busy group's sends do not each read them (one point read is about a
// quarter of a Cassandra send's latency; see docs/moderation.md). Expiry
// uses the machine's clock, not Config.Now.
type rulesCache struct {
	mu sync.Mutex
	m  map[string]cachedRules
}

type cachedRules struct {
	rules storage.ModerationSettings
	until time.Time
}

func (c *rulesCache) get(conversationID string) (storage.ModerationSettings, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[conversationID]
	if !ok || !time.Now().Before(e.until) {
		return storage.ModerationSettings{}, false
	}
	return e.rules, true
}

func (c *rulesCache) put(conversationID string, r storage.ModerationSettings, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedRules {
		c.m = map[string]cachedRules{}
	}
	c.m[conversationID] = cachedRules{rules: r, until: time.Now().Add(ttl)}
}

// forget drops a group's rules after this instance changed them.
func (c *rulesCache) forget(conversationID string) {
	c.mu.Lock()
	delete(c.m, conversationID)
	c.mu.Unlock()
}

// postingRules returns a group's posting rules, from the cache when fresh.
func (s *Service) postingRules(ctx context.Context, conversationID string) (storage.ModerationSettings, error) {
	ttl := s.cfg.PostingRulesTTL
	if ttl > 0 {
		if r, ok := s.rules.get(conversationID); ok {
			return r, nil
		}
	}
	r, err := s.store.ModerationSettings(ctx, conversationID)
	if err != nil {
		return r, fmt.Errorf("chat: moderation settings: %w", err)
	}
	if ttl > 0 {
		s.rules.put(conversationID, r, ttl)
	}
	return r, nil
}

// checkPosting applies a group's posting rules to a send by mem: in a
// channel and in an announcement-only group only owners and admins send; in slow mode a
// member sends once per interval (RATE_LIMITED with retryAt otherwise).
// Owners and admins are exempt from both.
func (s *Service) checkPosting(ctx context.Context, mem storage.Member) error {
	if mem.Role == storage.RoleOwner || mem.Role == storage.RoleAdmin {
		return nil
	}
	key, err := s.kindKeyOf(ctx, mem.ConversationID)
	if err != nil {
		return err
	}
	if key == channelKey {
		return forbidden("only the channel's owner and admins may post here")
	}
	if key != "" {
		return nil // a direct conversation has no posting rules
	}
	rules, err := s.postingRules(ctx, mem.ConversationID)
	if err != nil {
		return err
	}
	if rules.AnnouncementOnly {
		return forbidden("only the group's owner and admins may send here")
	}
	if rules.SlowModeSeconds > 0 {
		retryAt, err := s.store.TakeSlowModeTurn(ctx, mem.ConversationID, mem.UserID, s.now(), time.Duration(rules.SlowModeSeconds)*time.Second)
		if err != nil {
			return fmt.Errorf("chat: slow mode: %w", err)
		}
		if !retryAt.IsZero() {
			return RateLimitedUntil(fmt.Sprintf("slow mode: one message every %d s; retry at retryAt", rules.SlowModeSeconds), retryAt)
		}
	}
	return nil
}
