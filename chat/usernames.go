package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"messenger/fault"
	"messenger/storage"
	"messenger/textrules"
)

// Username changes: at most one per UsernameChangeEvery; the name left is
// reserved for its former owner for UsernameReserve (links and mentions
// keep working, and nobody can impersonate them with it meanwhile).
const (
	UsernameChangeEvery = 24 * time.Hour
	UsernameReserve     = 14 * 24 * time.Hour
)

// ChangeUsername gives me a new username (the sign-up rules; unique
// ignoring case). A change within UsernameChangeEvery of the last one is
// RATE_LIMITED with retryAt; a name someone else has or reserves is
// CONFLICT. Changing only the case of my name is always allowed. My
// contacts hear UserUpdated.
func (s *Service) ChangeUsername(ctx context.Context, me, username string) (storage.User, error) {
	if err := textrules.Username(username); err != nil {
		return storage.User{}, badInput("username", "username "+err.Error())
	}
	u, err := s.User(ctx, me)
	if err != nil {
		return u, err
	}
	key := strings.ToLower(username)
	if username == u.Username {
		return u, nil
	}
	now := s.now()
	if key != u.UsernameKey {
		p, err := s.Profile(ctx, me)
		if err != nil {
			return u, fmt.Errorf("chat: profile of %s: %w", me, err)
		}
		if next := p.UsernameChangedAt.Add(UsernameChangeEvery); !p.UsernameChangedAt.IsZero() && now.Before(next) {
			return u, &fault.Error{Code: fault.RateLimited, Field: "username",
				Message:    "a username can be changed once a day",
				Extensions: map[string]any{"retryAt": next.Format(time.RFC3339)}}
		}
	}
	err = s.store.ChangeUsername(ctx, me, username, key, now, now.Add(UsernameReserve))
	switch {
	case errors.Is(err, storage.ErrConflict):
		return u, &fault.Error{Code: fault.Conflict, Field: "username", Message: "this username is taken"}
	case err != nil:
		return u, fmt.Errorf("chat: change username: %w", err)
	}
	u.Username, u.UsernameKey = username, key
	s.indexUser(me)
	to, err := s.contacts(ctx, me, maxPresenceAudience)
	if err != nil {
		s.cfg.Logger.Warn("username change not announced", "user", me, "err", err)
	}
	s.emit(ctx, append([]string{me}, to...), &UserUpdated{UserID: me})
	return u, nil
}
