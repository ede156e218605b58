package storage

import (
	"context"
	"time"
)

// InviteLink lets whoever holds its code join a group (or ask to). Code is
// the secret; CodeHash (hex SHA-256 of Code, set by the caller) is what
// the link is found by, so no index is ever searched by the secret itself.
type InviteLink struct {
	Code            string
	CodeHash        string
	ConversationID  string
	CreatedBy       string
	CreatedAt       time.Time
	ExpiresAt       time.Time // zero: never expires
	MaxUses         int       // 0: unlimited
	Uses            int
	RequireApproval bool
	RevokedAt       time.Time // zero: not revoked
}

// JoinRequest is a user's request, made through an approval link, to join
// a group; an admin approves or declines it.
type JoinRequest struct {
	ConversationID string
	UserID         string
	CodeHash       string
	At             time.Time
}

// Ban keeps a user out of a group until Until (zero: for good).
type Ban struct {
	ConversationID string
	UserID         string
	BannedBy       string
	At             time.Time
	Until          time.Time
}

// ModerationSettings are a group's posting rules. The zero value (no slow
// mode, everyone may post) is what a group without settings has.
type ModerationSettings struct {
	// SlowModeSeconds is the least time between two messages of one
	// member (admins exempt); 0 is off.
	SlowModeSeconds int
	// AnnouncementOnly lets only owners and admins send.
	AnnouncementOnly bool
}

// ModerationSettingsPatch changes the fields that are not nil.
type ModerationSettingsPatch struct {
	SlowModeSeconds  *int
	AnnouncementOnly *bool
}

// ModerationEntry is one moderation action, for the group's admins. ID
// orders entries: it starts with the action's time, so newer sorts after.
type ModerationEntry struct {
	ID             string
	ConversationID string
	At             time.Time
	ActorID        string
	Action         string
	TargetUserID   string
	MessageID      string
	Detail         string
}

// Moderation is the store part of invite links, join requests, bans,
// posting rules and the moderation log of groups.
type Moderation interface {
	// CreateInviteLink stores a new link; ErrConflict when its CodeHash is
	// taken (it writes nothing then).
	CreateInviteLink(ctx context.Context, l InviteLink) error
	// InviteLink finds a link by CodeHash, revoked or not, or ErrNotFound.
	InviteLink(ctx context.Context, codeHash string) (InviteLink, error)
	// InviteLinks lists a conversation's links, revoked ones too, newest
	// first.
	InviteLinks(ctx context.Context, conversationID string) ([]InviteLink, error)
	// RevokeInviteLink marks a link revoked at at (revoking twice keeps the
	// first time), or ErrNotFound.
	RevokeInviteLink(ctx context.Context, codeHash string, at time.Time) error
	// UseInviteLink takes one use of a link that is not revoked, not
	// expired at at, and has uses left, and returns it as it is after the
	// use. ErrNotFound for an unknown link; ErrConflict when it cannot be
	// used (then nothing changes). Of any number of concurrent callers,
	// from any number of processes, exactly as many succeed as uses were
	// left.
	UseInviteLink(ctx context.Context, codeHash string, at time.Time) (InviteLink, error)

	// PutJoinRequest records a request; asking again replaces it.
	PutJoinRequest(ctx context.Context, r JoinRequest) error
	// JoinRequests lists a conversation's pending requests by user id,
	// after afterUserID, at most limit (<= 0: all).
	JoinRequests(ctx context.Context, conversationID, afterUserID string, limit int) ([]JoinRequest, error)
	// TakeJoinRequest deletes a pending request and returns it, or
	// ErrNotFound: of concurrent takers exactly one gets it.
	TakeJoinRequest(ctx context.Context, conversationID, userID string) (JoinRequest, error)

	// PutBan records (or replaces) a ban.
	PutBan(ctx context.Context, b Ban) error
	// Ban returns a user's ban in a conversation, expired or not, or
	// ErrNotFound.
	Ban(ctx context.Context, conversationID, userID string) (Ban, error)
	// DeleteBan lifts a ban; ErrNotFound when there is none.
	DeleteBan(ctx context.Context, conversationID, userID string) error
	// Bans lists a conversation's bans by user id, after afterUserID, at
	// most limit (<= 0: all), expired ones included.
	Bans(ctx context.Context, conversationID, afterUserID string, limit int) ([]Ban, error)

	// ModerationSettings returns a conversation's posting rules (the zero
	// value when none were set).
	ModerationSettings(ctx context.Context, conversationID string) (ModerationSettings, error)
	// UpdateModerationSettings sets the fields of p that are not nil and
	// leaves the others, so two admins changing different rules at once
	// both win.
	UpdateModerationSettings(ctx context.Context, conversationID string, p ModerationSettingsPatch) error
	// TakeSlowModeTurn lets a member send at at when their previous turn
	// was at least interval ago, recording at as their last turn; else it
	// records nothing and returns when they may send next (retryAt). Two
	// concurrent turns of one member, from any processes: one wins.
	TakeSlowModeTurn(ctx context.Context, conversationID, userID string, at time.Time, interval time.Duration) (retryAt time.Time, err error)

	// RecordModeratorDeletion remembers that deletedBy deleted the message
	// with seq for everyone (a moderator, not its sender).
	RecordModeratorDeletion(ctx context.Context, conversationID string, seq int64, deletedBy string) error
	// ModeratorDeletions returns who deleted each of the given messages
	// as a moderator; other seqs are absent.
	ModeratorDeletions(ctx context.Context, conversationID string, seqs []int64) (map[int64]string, error)

	// AppendModerationLog records an entry (e.ID set by the caller).
	AppendModerationLog(ctx context.Context, e ModerationEntry) error
	// ModerationLog lists a conversation's entries newest first, those
	// with ID < beforeID ("" = from the newest), at most limit.
	ModerationLog(ctx context.Context, conversationID, beforeID string, limit int) ([]ModerationEntry, error)
}

// InviteUsable reports whether l admits one more join at at: not revoked,
// not expired, uses left. Every backend's UseInviteLink applies it.
func InviteUsable(l InviteLink, at time.Time) bool {
	return l.RevokedAt.IsZero() && (l.ExpiresAt.IsZero() || at.Before(l.ExpiresAt)) && (l.MaxUses <= 0 || l.Uses < l.MaxUses)
}
