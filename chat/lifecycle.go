package chat

import (
	"context"
	"fmt"
	"unicode/utf8"

	"messenger/auth"
	"messenger/fault"
	"messenger/storage"
)

// The account lifecycle (package lifecycle: deletion, export, bans) calls
// these: the parts of it that need the domain's own machinery (the
// password-hashing gate, events, search, attachments).

// CheckPassword checks userID's password, in a slot of the hashing gate. A
// wrong password is BAD_USER_INPUT on field "password" (the caller is
// signed in: this is a confirmation, not a log-in); a deleted account has
// no password that matches.
func (s *Service) CheckPassword(ctx context.Context, userID, password string) error {
	wrong := badInput("password", "wrong password")
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	if utf8.RuneCountInString(password) > MaxPassword || u.PasswordHash == "" {
		return wrong
	}
	ok := false
	if err := s.hashing(ctx, func() error { ok = auth.CheckPassword(u.PasswordHash, password); return nil }); err != nil {
		return err
	}
	if !ok {
		return wrong
	}
	return nil
}

// EraseMessage turns m, a message of an account being deleted, into a
// tombstone whatever its age (the recall window binds senders, not
// erasure), tells every member, updates search and drops its
// attachments' bytes. Erasing a tombstone again only drops its
// attachments again. Idempotent.
func (s *Service) EraseMessage(ctx context.Context, m storage.Message) error {
	unlock := s.messages.lock(m.ID)
	cur, err := s.store.Messages(ctx, m.ConversationID, []int64{m.Seq})
	if err != nil {
		unlock()
		return fmt.Errorf("chat: erase %s: %w", m.ID, err)
	}
	m, ok := cur[m.Seq]
	if ok && m.DeletedAt == nil {
		now := s.now()
		m.Body, m.DeletedAt = "", &now
		if err := s.store.UpdateMessage(ctx, m); err != nil {
			unlock()
			return fmt.Errorf("chat: erase %s: %w", m.ID, err)
		}
		s.indexMessages(m.ConversationID, m.Seq)
		s.emitConversation(ctx, m.ConversationID, &MessageDeleted{ConversationID: m.ConversationID, MessageID: m.ID, Seq: m.Seq, ForEveryone: true})
	}
	unlock()
	if !ok {
		return nil
	}
	if a := s.attachmentsPort(); a != nil {
		if err := a.DropAttachments(ctx, m); err != nil {
			return fmt.Errorf("chat: drop the attachments of %s: %w", m.ID, err)
		}
	}
	return nil
}

// AccountChanged tells this instance's token check and search that
// userID was banned, unbanned or deleted: the token check asks the store
// again at once (other instances within a minute, or at once through the
// session revocation of package lifecycle's SessionEnder), and search
// re-reads the user (a deleted one is forgotten).
func (s *Service) AccountChanged(userID string) {
	s.cfg.Tokens.Forget(userID)
	s.indexUser(userID)
}

// accountState says why u may not sign in or use tokens (deleted,
// banned), or nil when it may; usable is its yes/no form.
func accountState(u storage.User) error {
	switch {
	case !u.DeletedAt.IsZero():
		return &fault.Error{Code: fault.Unauthenticated, Message: "this account was deleted"}
	case !u.BannedAt.IsZero():
		return &fault.Error{Code: fault.Forbidden, Message: "this account is banned"}
	}
	return nil
}
