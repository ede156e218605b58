// Package push notifies users who are not connected: it registers their
// devices, decides from the domain's rules who hears about a message, and
// delivers through the real providers' protocols (APNs, FCM HTTP v1, Web
// Push) from a durable queue, so an API crash loses nothing and two
// instances never send the same notification.
//
// The chat domain calls the Pipeline through chat.Notifier once a message
// is durable and fanned out; that call only enqueues. Workers expand a
// message into one delivery per device and send them, retrying transient
// provider failures with backoff.
package push

import (
	"context"
	"errors"
	"fmt"
	"time"

	"messenger/storage"
)

// Notification is what one device is told about one message, before a
// provider encodes it.
type Notification struct {
	// Title is the conversation's title (groups) or the sender's name.
	Title string
	// Body is the message's text, or only who wrote when previews are off.
	Body string
	// ConversationID and MessageID let the app open the message.
	ConversationID string
	MessageID      string
	// Badge is the user's total unread count.
	Badge int
	// ThreadID groups a conversation's notifications (APNs thread-id, the
	// Android notification tag).
	ThreadID string
	// CollapseID identifies the notification of one message, so a later one
	// with the same id (a recall) replaces it where the provider allows.
	CollapseID string
	// Recalled marks the replacement of a message deleted for everyone.
	Recalled bool
}

// Provider delivers notifications through one push service. Send returns
// nil once the service accepted the notification; ErrGone when the device
// is no longer registered there (its registration must be deleted); a
// *RetryError for a transient failure; any other error for a permanent
// one (the notification is dropped).
type Provider interface {
	// Platform is the service this provider speaks to.
	Platform() storage.Platform
	// Send delivers n to d. It may block on the network; it honours ctx.
	Send(ctx context.Context, d storage.Device, n Notification) error
}

// ErrGone reports a device the push service no longer knows (APNs 410,
// FCM UNREGISTERED, Web Push 404/410).
var ErrGone = errors.New("push: device no longer registered")

// RetryError is a transient provider failure (429, 5xx, network): the
// notification should be tried again, not before After when it is set
// (Retry-After).
type RetryError struct {
	// Reason names the failure for metrics and logs (e.g. "503").
	Reason string
	// After is the wait the provider asked for (0: none).
	After time.Duration
	// Err is the underlying error, if any.
	Err error
}

func (e *RetryError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("push: transient failure %s: %v", e.Reason, e.Err)
	}
	return "push: transient failure " + e.Reason
}

func (e *RetryError) Unwrap() error { return e.Err }

// PermanentError is a failure retrying cannot fix (a refused payload, bad
// credentials); Reason names it for metrics.
type PermanentError struct {
	Reason string
	Err    error
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("push: refused (%s): %v", e.Reason, e.Err)
}

func (e *PermanentError) Unwrap() error { return e.Err }

// reason names an error for the metrics' reason label.
func reason(err error) string {
	var re *RetryError
	var pe *PermanentError
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrGone):
		return "gone"
	case errors.As(err, &re):
		return re.Reason
	case errors.As(err, &pe):
		return pe.Reason
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "error"
}

// asPermanent is errors.As for a *PermanentError.
func asPermanent(err error, target **PermanentError) bool { return errors.As(err, target) }
