package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"messenger/auth"
	"messenger/fault"
	"messenger/storage"
	"messenger/textrules"
)

// MaxDisplayName is the longest display name, in characters.
const MaxDisplayName = 64

// MinPassword and MaxPassword bound a new password's length, in characters
// (not bytes: 200 Cyrillic letters are 400 bytes and a fine password).
const (
	MinPassword = 8
	MaxPassword = 256
)

// Session is a signed-in user with their tokens: a short-lived access
// token and the refresh token that gets the next one (see RefreshSession).
type Session struct {
	Token                 string
	ExpiresAt             time.Time
	RefreshToken          string
	RefreshTokenExpiresAt time.Time
	User                  storage.User
	// Device is the session the tokens belong to.
	Device SessionInfo
}

// processHashes is the password-hashing gate of every Service not given
// one: one per process, so the bound holds however many Services run.
var processHashes = sync.OnceValue(func() *auth.HashGate { return auth.NewHashGate(auth.HashGateConfig{}) })

// SignUp is SignUpFrom an unnamed device.
func (s *Service) SignUp(ctx context.Context, username, password, displayName string) (Session, error) {
	return s.SignUpFrom(ctx, Device{}, username, password, displayName)
}

// SignUpFrom creates an account and signs it in on a new session of dev.
// The username must not be reserved, and the display name must show
// something and not reorder the text around it (see package textrules).
func (s *Service) SignUpFrom(ctx context.Context, dev Device, username, password, displayName string) (Session, error) {
	displayName = strings.TrimSpace(displayName)
	dev, err := cleanDevice(dev)
	if err != nil {
		return Session{}, err
	}
	if err := textrules.Username(username); err != nil {
		return Session{}, badInput("username", "username "+err.Error())
	}
	if n := utf8.RuneCountInString(password); n < MinPassword || n > MaxPassword {
		return Session{}, badInput("password", fmt.Sprintf("password must be %d-%d characters", MinPassword, MaxPassword))
	}
	if displayName == "" || utf8.RuneCountInString(displayName) > MaxDisplayName {
		return Session{}, badInput("displayName", fmt.Sprintf("displayName must be 1-%d characters", MaxDisplayName))
	}
	if err := textrules.DisplayName(displayName); err != nil {
		return Session{}, badInput("displayName", "displayName "+err.Error())
	}
	var hash string
	err = s.hashing(ctx, func() (err error) {
		hash, err = auth.HashPasswordWith(password, s.cfg.PasswordCost)
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("chat: hash password: %w", err)
	}
	u := storage.User{
		ID: uuid.NewString(), Username: username, UsernameKey: strings.ToLower(username),
		DisplayName: displayName, PasswordHash: hash, CreatedAt: s.now(),
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return Session{}, &fault.Error{Code: fault.Conflict, Message: "username is taken", Field: "username"}
		}
		return Session{}, fmt.Errorf("chat: create user: %w", err)
	}
	s.indexUser(u.ID)
	return s.startSession(ctx, u, dev)
}

// LogIn is LogInFrom an unnamed device.
func (s *Service) LogIn(ctx context.Context, username, password string) (Session, error) {
	return s.LogInFrom(ctx, Device{}, username, password)
}

// LogInFrom checks credentials and opens a new session of dev. A wrong
// username and a wrong password give the same error, in the same time; so
// do a banned or deleted account's right ones.
func (s *Service) LogInFrom(ctx context.Context, dev Device, username, password string) (Session, error) {
	dev, err := cleanDevice(dev)
	if err != nil {
		return Session{}, err
	}
	wrong := &fault.Error{Code: fault.Unauthenticated, Message: "wrong username or password"}
	if utf8.RuneCountInString(password) > MaxPassword {
		return Session{}, wrong // no account has one so long: not worth a hash
	}
	u, err := s.store.UserByUsername(ctx, strings.ToLower(username))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return Session{}, fmt.Errorf("chat: find user: %w", err)
	}
	ok := false
	err = s.hashing(ctx, func() error {
		if u.ID == "" {
			ok = auth.CheckNoUser(password)
		} else {
			ok = auth.CheckPassword(u.PasswordHash, password)
		}
		return nil
	})
	if err != nil {
		return Session{}, fmt.Errorf("chat: check password: %w", err)
	}
	if !ok {
		return Session{}, wrong
	}
	if err := accountState(u); err != nil {
		return Session{}, err // the right password: say why, as Telegram does
	}
	return s.startSession(ctx, u, dev)
}

// hashing runs fn, a password hash, in a slot of the process's hashing
// gate. A hash that cannot get a slot within the gate's wait is refused
// with RATE_LIMITED and a retryAt one wait later: the server is healthy,
// only busy hashing, and the client's retry, not a queue here, should
// carry the request.
func (s *Service) hashing(ctx context.Context, fn func() error) error {
	leave, err := s.cfg.Hashes.Enter(ctx)
	if errors.Is(err, auth.ErrBusy) {
		return RateLimitedUntil("too many password checks are running; retry at retryAt", s.now().Add(s.cfg.Hashes.Wait()))
	}
	if err != nil {
		return err
	}
	defer leave()
	return fn()
}

// User returns a user by id.
func (s *Service) User(ctx context.Context, id string) (storage.User, error) {
	us, err := s.store.Users(ctx, []string{id})
	if err != nil {
		return storage.User{}, fmt.Errorf("chat: load user %s: %w", id, err)
	}
	u, ok := us[id]
	if !ok {
		return u, notFound("user")
	}
	return u, nil
}

// AccountExists reports whether userID names an account that may sign in
// (not banned, not deleted); Tokens ask it before accepting a token (see
// auth.Accounts).
func (s *Service) AccountExists(ctx context.Context, userID string) (bool, error) {
	us, err := s.store.Users(ctx, []string{userID})
	if err != nil {
		return false, fmt.Errorf("chat: look up account %s: %w", userID, err)
	}
	u, ok := us[userID]
	return ok && usable(u), nil
}

// ChangePassword replaces my password after checking the current one, and
// ends every other session of mine (the current one stays signed in).
func (s *Service) ChangePassword(ctx context.Context, me, current, oldPassword, newPassword string) error {
	if n := utf8.RuneCountInString(newPassword); n < MinPassword || n > MaxPassword {
		return badInput("newPassword", fmt.Sprintf("newPassword must be %d-%d characters", MinPassword, MaxPassword))
	}
	u, err := s.User(ctx, me)
	if err != nil {
		return err
	}
	var ok bool
	var hash string
	err = s.hashing(ctx, func() (err error) {
		if ok = utf8.RuneCountInString(oldPassword) <= MaxPassword && auth.CheckPassword(u.PasswordHash, oldPassword); !ok {
			return nil
		}
		hash, err = auth.HashPasswordWith(newPassword, s.cfg.PasswordCost)
		return err
	})
	if err != nil {
		return fmt.Errorf("chat: hash password: %w", err)
	}
	if !ok {
		return &fault.Error{Code: fault.Forbidden, Message: "the current password is wrong", Field: "currentPassword"}
	}
	if err := s.store.SetPasswordHash(ctx, me, hash); err != nil {
		return fmt.Errorf("chat: set password: %w", err)
	}
	_, err = s.endAllBut(ctx, me, current, EndPasswordChanged)
	return err
}

var _ auth.Accounts = (*Service)(nil)
