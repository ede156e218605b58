package lifecycle

import (
	"context"
	"fmt"
	"time"

	"messenger/fault"
	"messenger/storage"
)

// Ban bans userID (an operator's decision): they cannot sign in, their
// tokens are refused and every session ends at once. Banning a banned
// user keeps the first BannedAt. A deleted account cannot be banned.
func (s *Service) Ban(ctx context.Context, userID string) (storage.User, error) {
	u, err := s.user(ctx, userID)
	if err != nil {
		return u, err
	}
	if !u.DeletedAt.IsZero() {
		return u, &fault.Error{Code: fault.Conflict, Message: "the account is deleted"}
	}
	if u.BannedAt.IsZero() {
		u.BannedAt = s.now()
		if err := s.store.SetUserBanned(ctx, userID, u.BannedAt); err != nil {
			return u, fmt.Errorf("lifecycle: ban %s: %w", userID, err)
		}
	}
	s.cfg.Domain.AccountChanged(userID)
	if err := s.cfg.Sessions.RevokeAllSessions(ctx, userID); err != nil {
		return u, fmt.Errorf("lifecycle: end the sessions of %s: %w", userID, err)
	}
	return u, nil
}

// Unban lifts a ban; the user signs in again (their old sessions stay
// ended). Unbanning a user who is not banned changes nothing.
func (s *Service) Unban(ctx context.Context, userID string) (storage.User, error) {
	u, err := s.user(ctx, userID)
	if err != nil {
		return u, err
	}
	if !u.BannedAt.IsZero() {
		if err := s.store.SetUserBanned(ctx, userID, time.Time{}); err != nil {
			return u, fmt.Errorf("lifecycle: unban %s: %w", userID, err)
		}
		u.BannedAt = time.Time{}
	}
	s.cfg.Domain.AccountChanged(userID)
	return u, nil
}
