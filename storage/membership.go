package storage

import (
	"context"
	"time"
)

// Membership is the state a member keeps for themself (archive, pin, mute,
// drafts, the unread mark), a user's profile and a group's description,
// and the one ownership move. Per-member state is private: nothing else in
// the Store returns it to other members.
type Membership interface {
	MemberStates
	Profiles
	GroupInfo
	Deletions
}

// MemberState is one member's private settings of one conversation. The
// zero value (with ConversationID set) is a conversation never touched.
type MemberState struct {
	ConversationID string
	// Archived hides the conversation from the main list. ArchivedSeq is
	// the conversation's LastSeq when it was archived: the domain reads a
	// later message as un-archiving it (unless muted).
	Archived    bool
	ArchivedSeq int64
	// PinnedAt is when the conversation was pinned; zero: not pinned.
	PinnedAt time.Time
	// MutedUntil and NotificationLevel as on Member (SetMemberState keeps
	// both in step).
	MutedUntil        time.Time
	NotificationLevel NotificationLevel
	// UnreadMark is the seq the member marked unread (markUnread), 0 when
	// none: their read cursor reads as UnreadMark-1 until they read it
	// again. The cursor itself (and so every receipt others see) stays.
	UnreadMark int64
}

// Draft is a member's unsent text in one conversation.
type Draft struct {
	ConversationID string
	Body           string
	UpdatedAt      time.Time
}

// MemberStates stores the per-member state and drafts. Both are keyed by
// user, so one user's whole conversation list reads one partition.
type MemberStates interface {
	// MemberState returns userID's state in one conversation: the zero
	// state when none was set (even for non-members; callers check
	// membership).
	MemberState(ctx context.Context, conversationID, userID string) (MemberState, error)
	// MemberStates returns every state userID has set, by conversation id,
	// in one read whatever the number of conversations.
	MemberStates(ctx context.Context, userID string) (map[string]MemberState, error)
	// SetMemberState replaces userID's state in st.ConversationID and
	// copies MutedUntil and NotificationLevel onto the membership (Member
	// and Members return them). ErrNotFound when userID is not a member;
	// then nothing is written. Last writer wins.
	SetMemberState(ctx context.Context, userID string, st MemberState) error
	// SaveDraft stores userID's draft in d.ConversationID; an empty Body
	// deletes it. ErrNotFound when userID is not a member.
	SaveDraft(ctx context.Context, userID string, d Draft) error
	// Drafts returns userID's drafts by conversation id.
	Drafts(ctx context.Context, userID string) (map[string]Draft, error)
}

// Profile is what a user shows besides their username and display name.
type Profile struct {
	UserID    string
	Bio       string
	Avatar    *Avatar
	UpdatedAt time.Time
	// UsernameChangedAt is when the username last changed (zero: never).
	UsernameChangedAt time.Time
}

// Avatar is a picture re-encoded by the server: the full image and its
// thumbnails, each an object of the blob store at its Key.
type Avatar struct {
	Key           string
	Width, Height int
	Thumbnails    []AvatarImage
}

// AvatarImage is one thumbnail of an avatar.
type AvatarImage struct {
	Key           string
	Width, Height int
}

// Profiles are users' editable profiles.
type Profiles interface {
	// UpdateProfile sets user p.UserID's display name and profile
	// together, or returns ErrNotFound for an unknown user (writing
	// nothing).
	UpdateProfile(ctx context.Context, displayName string, p Profile) error
	// Profiles returns the profiles of the given users; users who never
	// set one are absent.
	Profiles(ctx context.Context, userIDs []string) (map[string]Profile, error)
	// ChangeUsername gives user userID the username name (key: its
	// case-folded form) and records the change time in their profile. The
	// old username stays claimed by them until reserveUntil, so nobody else
	// can take it meanwhile; afterwards anyone may. Taking a name is a
	// conditional write (Cassandra: INSERT IF NOT EXISTS): ErrConflict when
	// another user has or reserves it, and then nothing is written; taking
	// back one's own reserved name succeeds. ErrNotFound for an unknown user.
	ChangeUsername(ctx context.Context, userID, name, key string, at, reserveUntil time.Time) error
}

// GroupDetails is what a group shows besides its title.
type GroupDetails struct {
	ConversationID string
	Description    string
	Avatar         *Avatar
	UpdatedAt      time.Time
}

// GroupInfo holds a group's description and moves its ownership.
type GroupInfo interface {
	// UpdateGroupDetails sets conversation d.ConversationID's title and
	// details together and moves its LastActivityAt to d.UpdatedAt, or
	// returns ErrNotFound.
	UpdateGroupDetails(ctx context.Context, title string, d GroupDetails) error
	// GroupDetails returns the details of the given conversations; those
	// never given any are absent.
	GroupDetails(ctx context.Context, conversationIDs []string) (map[string]GroupDetails, error)
	// TransferOwnership makes to the owner and from an admin, atomically
	// and only if from is still the owner and to still a member (a
	// conditional write on Cassandra): of two racing transfers one wins,
	// the other gets ErrConflict and writes nothing. ErrNotFound when to
	// is not a member.
	TransferOwnership(ctx context.Context, conversationID, from, to string) error
}

// Deletion is a conversation being deleted, a job any instance may resume:
// first every membership ends, then every message is tombstoned (and its
// files dropped) in seq order.
type Deletion struct {
	ConversationID string
	By             string
	RequestedAt    time.Time
	// MembersRemoved: every membership has ended.
	MembersRemoved bool
	// PurgedSeq: the messages up to it are tombstoned.
	PurgedSeq int64
}

// Deletions records conversation deletions until they finish.
type Deletions interface {
	// SaveDeletion records d, or its progress (last writer wins).
	SaveDeletion(ctx context.Context, d Deletion) error
	// PendingDeletions lists the deletions not yet done, oldest first.
	PendingDeletions(ctx context.Context) ([]Deletion, error)
	// DeletionDone forgets a finished deletion; an unknown one is no error.
	DeletionDone(ctx context.Context, conversationID string) error
}
