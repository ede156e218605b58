package storage

import (
	"context"
	"time"
)

// Privacy is who blocked whom, each user's privacy settings and the abuse
// reports kept for moderators. Blocks are directed (blocker -> blocked);
// the domain (chat/privacy.go) decides what a block means.
type Privacy interface {
	// Block records that b.BlockerID blocks b.BlockedID since b.At.
	// Blocking someone already blocked is a no-op that keeps the first At
	// and returns created=false.
	Block(ctx context.Context, b Block) (created bool, err error)
	// Unblock removes one block; removing an absent one is a no-op
	// (removed=false).
	Unblock(ctx context.Context, blockerID, blockedID string) (removed bool, err error)
	// IsBlocking reports whether blockerID blocks blockedID (one direction).
	IsBlocking(ctx context.Context, blockerID, blockedID string) (bool, error)
	// BlockedUsers lists the blocks made by blockerID ordered by BlockedID,
	// after afterUserID ("" = from the start), at most limit (limit <= 0:
	// all of them).
	BlockedUsers(ctx context.Context, blockerID, afterUserID string, limit int) ([]Block, error)
	// Blockers lists, ordered, the ids of the users who block userID.
	Blockers(ctx context.Context, userID string) ([]string, error)
	// PrivacySettings returns the stored settings of the given users; users
	// who never changed theirs are absent (their settings are the zero
	// value's defaults).
	PrivacySettings(ctx context.Context, userIDs []string) (map[string]PrivacySettings, error)
	// SetPrivacySettings replaces a user's settings as a whole.
	SetPrivacySettings(ctx context.Context, userID string, p PrivacySettings) error
	// ForgetPrivacy removes every block made by or against userID and their
	// settings (account deletion). Reports stay: they are moderators'
	// evidence. Forgetting twice is no error.
	ForgetPrivacy(ctx context.Context, userID string) error

	// AddReport stores a report (r.ID unique, set by the caller). Adding
	// the same ID twice stores it once.
	AddReport(ctx context.Context, r Report) error
	// CountReportsBy counts the reports reporterID made at or after since
	// (for rate limits: only the last week is guaranteed to be counted).
	CountReportsBy(ctx context.Context, reporterID string, since time.Time) (int, error)
	// Reports lists reports oldest first, ordered by (CreatedAt, ID),
	// strictly after the report (afterAt, afterID) (zero afterAt: from the
	// first), at most limit of them.
	Reports(ctx context.Context, afterAt time.Time, afterID string, limit int) ([]Report, error)
}

// Block is one user blocking another.
type Block struct {
	BlockerID string
	BlockedID string
	At        time.Time
}

// Audience is who may see something of mine or reach me.
type Audience string

// Audiences. The zero value "" means AudienceEveryone.
const (
	AudienceEveryone Audience = "EVERYONE"
	AudienceContacts Audience = "CONTACTS"
	AudienceNobody   Audience = "NOBODY"
)

// PrivacySettings are one user's choices. The zero value is the default:
// everyone sees last seen, read receipts and typing are on, anyone may
// start a direct conversation.
type PrivacySettings struct {
	// LastSeen is who sees my online status and last-seen time.
	LastSeen Audience
	// HideReadReceipts stops sending my read receipts (and, reciprocally,
	// showing me others' in direct conversations).
	HideReadReceipts bool
	// HideTyping stops sending my typing signals.
	HideTyping bool
	// DirectConversations is who may start a direct conversation with me
	// (EVERYONE or CONTACTS).
	DirectConversations Audience
	// UpdatedAt is when they last changed.
	UpdatedAt time.Time
}

// ReportReason classifies a report.
type ReportReason string

// Report is one user's report of another user or of a message. For a
// message, the message as it was when reported is copied in, so a later
// edit or deletion does not erase the evidence.
type Report struct {
	ID         string
	ReporterID string
	// UserID is the reported user (a message's sender for a message).
	UserID    string
	Reason    ReportReason
	Note      string
	CreatedAt time.Time
	// The reported message, empty for a report of a user.
	ConversationID  string
	MessageID       string
	MessageSeq      int64
	MessageBody     string
	MessageSentAt   time.Time
	MessageEditedAt *time.Time
}
