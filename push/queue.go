package push

import (
	"context"
	"time"
)

// Kind is what a Job asks for.
type Kind string

// The jobs of the pipeline: a message or a recall is expanded into
// deliveries, one per device that should hear about it.
const (
	// KindMessage: decide who hears about a new message.
	KindMessage Kind = "message"
	// KindRecall: replace the notifications sent for a recalled message.
	KindRecall Kind = "recall"
	// KindDelivery: send one notification to one device.
	KindDelivery Kind = "delivery"
)

// Job is one unit of push work. It names durable records (the message, the
// device) rather than carrying them, so a job replayed late reads the
// present: a message recalled meanwhile, or a device unregistered, sends
// nothing.
type Job struct {
	Kind           Kind      `json:"k"`
	ConversationID string    `json:"c"`
	Seq            int64     `json:"s"`
	UserID         string    `json:"u,omitempty"`
	DeviceID       string    `json:"d,omitempty"`
	Recalled       bool      `json:"r,omitempty"`
	SentAt         time.Time `json:"t"`
	Attempt        int       `json:"a,omitempty"`
}

// Leased is a job given to one consumer, with the queue's handle on it.
type Leased struct {
	ID  string
	Job Job
}

// Queue is the durable work queue of the pipeline. It is at-least-once:
// a job stays until acked, and a consumer that dies holding jobs loses
// them to another after the lease; while a lease runs, no other consumer
// (in this process or another instance) is given that job.
type Queue interface {
	// Enqueue adds jobs, ready at once, and returns when they survive a
	// crash of this process.
	Enqueue(ctx context.Context, jobs ...Job) error
	// Claim leases up to n ready jobs, waiting up to wait for the first
	// when there is none. It returns no jobs (and no error) on timeout.
	Claim(ctx context.Context, n int, wait time.Duration) ([]Leased, error)
	// Ack removes a leased job: it is done.
	Ack(ctx context.Context, l Leased) error
	// Retry replaces a leased job by next, ready at `at`.
	Retry(ctx context.Context, l Leased, next Job, at time.Time) error
	// Depth counts the jobs not yet acked (ready, delayed or leased).
	Depth(ctx context.Context) (int64, error)
	// Begin takes the send of one notification (named by key) for this
	// consumer, for a lease: false when it was sent already or another
	// consumer holds it. Two delivery jobs for one (message, device), as a
	// replayed message job makes, then send once.
	Begin(ctx context.Context, key string) (bool, error)
	// Finish ends a Begin: sent records the notification as accepted by
	// its provider (for about two days); otherwise the key is released
	// for a retry.
	Finish(ctx context.Context, key string, sent bool) error
	// WasSent reports whether Finish recorded key as sent.
	WasSent(ctx context.Context, key string) (bool, error)
}

// DefaultLease is how long a claimed job stays with its consumer.
const DefaultLease = time.Minute

// sentTTL is how long a sent marker is kept: longer than any job waits.
const sentTTL = 48 * time.Hour
