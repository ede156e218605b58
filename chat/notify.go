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

// notifyCreated tells the Notifier, if any, about a new message.
func (s *Service) notifyCreated(ctx context.Context, m storage.Message) error {
	if s.cfg.Notifier == nil {
		return nil
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
