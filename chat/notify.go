package chat

import (
	"context"
	"time"

	"messenger/storage"
)

// Notifier hears about the messages that may notify members who are not
// connected (push notifications). The domain calls it off the request
// path, once a message is durable and its fan-out done, and before the
// outbox forgets the message: an error (or a crash before the call)
// leaves the message pending, and the sweeper's replay calls again. So a
// message may be reported more than once; the Notifier must make that
// harmless. Calls should only record the work (a queue append), never
// wait for a provider.
type Notifier interface {
	// MessageCreated reports a new message.
	MessageCreated(ctx context.Context, m storage.Message) error
	// MessageRecalled reports a message deleted for everyone, so pending
	// notifications are withdrawn or replaced. Best effort: it is not
	// replayed after a crash.
	MessageRecalled(ctx context.Context, m storage.Message) error
}

// RecipientsNotifier is a Notifier that can be handed the member ids a
// send's fan-out already read, sparing it a read of the members.
type RecipientsNotifier interface {
	// MessageCreatedFor is MessageCreated where memberIDs are the ids of
	// all of m's conversation's members (its sender included) as the
	// fan-out read them; empty means unknown.
	MessageCreatedFor(ctx context.Context, m storage.Message, memberIDs []string) error
}

// notifyCreated tells the Notifier, if any, about a new message; memberIDs
// (nil: unknown) are its conversation's members, when the fan-out read
// them.
func (s *Service) notifyCreated(ctx context.Context, m storage.Message, memberIDs []string) error {
	if s.cfg.Notifier == nil {
		return nil
	}
	if rn, ok := s.cfg.Notifier.(RecipientsNotifier); ok && len(memberIDs) > 0 {
		return rn.MessageCreatedFor(ctx, m, memberIDs)
	}
	return s.cfg.Notifier.MessageCreated(ctx, m)
}

// notifyRecalled tells the Notifier, if any, about a recall, in the
// background.
func (s *Service) notifyRecalled(m storage.Message) {
	if s.cfg.Notifier == nil {
		return
	}
	s.goBackground(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.cfg.Notifier.MessageRecalled(ctx, m); err != nil {
			s.cfg.Logger.Warn("push: recall not reported; sent notifications stay", "message", m.ID, "err", err)
		}
	})
}
