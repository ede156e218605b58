package chat

import (
	"context"

	"messenger/fault"
	"messenger/storage"
)

// Draft is a message Send was asked for, before it is written.
type Draft struct {
	ConversationID  string
	SenderID        string
	ClientMessageID string
	Body            string
	// Attachments are ids of things to attach, opaque to this package
	// (media: uploads). Only an Attachments port gives them meaning.
	Attachments []string
}

// Attachments is the port through which another domain (media) attaches
// things to messages without this package knowing what they are. A
// message is delivered whole or not at all: its attachments are bound
// before its event reaches any member's log, and a replay of its fan-out
// binds them again first.
//
// Keys: what ClaimAttachments records is found again from the written
// message alone, by its conversation, sender and client message id (the
// send's idempotency key), so the outbox sweeper and a successor that takes
// over a stalled fan-out can make a message whole without its draft.
type Attachments interface {
	// ClaimAttachments checks d.Attachments (they exist, belong to the
	// sender, may be attached), reserves them for the message d is about to
	// become, all or none, and records them under d's idempotency key.
	// Send calls it after its own input and membership checks and before
	// the message is written, only when d has attachments: an error
	// refuses the send and nothing is written (refusals are *Error, with
	// Field "attachmentIds"). A retry of one send calls it again; it then
	// succeeds and keeps what the first call recorded.
	ClaimAttachments(ctx context.Context, d Draft) error
	// BindAttachments makes written message m whole: it binds what
	// ClaimAttachments recorded under m's idempotency key (nothing, for a
	// message sent without attachments). It is called after m is durable
	// and before m's event is appended anywhere: by Send (when the draft
	// has attachments, a retry included) and before every replay of m's
	// fan-out. Until it succeeds m is not fanned out. Idempotent.
	BindAttachments(ctx context.Context, m storage.Message) error
	// DropAttachments lets go of what is attached to m, which was just
	// deleted for everyone (the tombstone is durable), so URLs already
	// handed out stop working. Delete returns its error; deleting again
	// calls it again. Idempotent.
	DropAttachments(ctx context.Context, m storage.Message) error
}

// UseAttachments plugs a domain's attachments into Send and Delete. Call it
// once, before the service handles requests (media.New does). Without it,
// a send with attachments is refused with UNAVAILABLE.
func (s *Service) UseAttachments(a Attachments) { s.attachments.Store(&a) }

// attachmentsPort returns the plugged-in Attachments, or nil.
func (s *Service) attachmentsPort() Attachments {
	if a := s.attachments.Load(); a != nil {
		return *a
	}
	return nil
}

// claimAttachments runs the port's claim for a draft with attachments.
func (s *Service) claimAttachments(ctx context.Context, d Draft) error {
	if len(d.Attachments) == 0 {
		return nil
	}
	a := s.attachmentsPort()
	if a == nil {
		return &fault.Error{Code: fault.Unavailable, Message: "attachments are not configured on this server", Field: "attachmentIds"}
	}
	return a.ClaimAttachments(ctx, d)
}

// bindAttachments makes m whole before its fan-out (a no-op without a
// port: nothing can have been claimed).
func (s *Service) bindAttachments(ctx context.Context, m storage.Message) error {
	if a := s.attachmentsPort(); a != nil {
		return a.BindAttachments(ctx, m)
	}
	return nil
}
