package chat

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"messenger/auth"
	"messenger/storage"
)

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,32}$`)

// Session is a signed-in user with their token.
type Session struct {
	Token string
	User  storage.User
}

// SignUp creates an account and signs it in.
func (s *Service) SignUp(ctx context.Context, username, password, displayName string) (Session, error) {
	displayName = strings.TrimSpace(displayName)
	switch {
	case !usernameRE.MatchString(username):
		return Session{}, badInput("username", "username must be 3-32 letters, digits, '_', '.' or '-'")
	case utf8.RuneCountInString(password) < 8 || len(password) > 256:
		return Session{}, badInput("password", "password must be 8-256 characters")
	case displayName == "" || utf8.RuneCountInString(displayName) > 64:
		return Session{}, badInput("displayName", "displayName must be 1-64 characters")
	}
	hash, err := auth.HashPasswordWith(password, s.cfg.PasswordCost)
	if err != nil {
		return Session{}, fmt.Errorf("chat: hash password: %w", err)
	}
	u := storage.User{
		ID: uuid.NewString(), Username: username, UsernameKey: strings.ToLower(username),
		DisplayName: displayName, PasswordHash: hash, CreatedAt: s.now(),
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return Session{}, &Error{Code: Conflict, Message: "username is taken", Field: "username"}
		}
		return Session{}, fmt.Errorf("chat: create user: %w", err)
	}
	s.indexUser(u.ID)
	return s.session(u)
}

// LogIn checks credentials. A wrong username and a wrong password give the
// same error, in the same time.
func (s *Service) LogIn(ctx context.Context, username, password string) (Session, error) {
	wrong := &Error{Code: Unauthenticated, Message: "wrong username or password"}
	u, err := s.store.UserByUsername(ctx, strings.ToLower(username))
	if errors.Is(err, storage.ErrNotFound) {
		auth.CheckNoUser(password)
		return Session{}, wrong
	}
	if err != nil {
		return Session{}, fmt.Errorf("chat: find user: %w", err)
	}
	if !auth.CheckPassword(u.PasswordHash, password) {
		return Session{}, wrong
	}
	return s.session(u)
}

func (s *Service) session(u storage.User) (Session, error) {
	tok, _, err := s.cfg.Tokens.Issue(u.ID)
	if err != nil {
		return Session{}, fmt.Errorf("chat: issue token: %w", err)
	}
	return Session{Token: tok, User: u}, nil
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
