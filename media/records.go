package media

import "time"

// Upload is one uploaded file (or, before confirmation, a presigned upload
// slot). Its bytes are the blob at BlobKey(ID).
type Upload struct {
	ID       string
	OwnerID  string
	Filename string
	// Kind, ContentType, Width, Height and Duration come from sniff.Inspect;
	// they are empty until Ready.
	Kind          Kind
	ContentType   string
	Width, Height int
	Duration      time.Duration
	// Size is the stored size once Ready; before, the size the client declared.
	Size int64
	// Ready is false for a presigned slot not yet confirmed.
	Ready     bool
	CreatedAt time.Time
	// Claim names what uses the upload ("m:<conversation>|<sender>|<clientMessageId>"
	// for a message, "s:<story id>" for a story); empty while unused.
	Claim string
	// MessageID is the message it is attached to, once sent.
	MessageID string
}

// Story is one posted video.
type Story struct {
	ID        string
	AuthorID  string
	UploadID  string
	Caption   string
	PostedAt  time.Time
	ExpiresAt time.Time
}

// View is one user's first view of a story.
type View struct {
	UserID string
	At     time.Time
	// Cursor pages after this view.
	Cursor string
}

// ReactionCount is one emoji on a story.
type ReactionCount struct {
	Emoji   string
	Count   int
	FirstAt time.Time
	// Mine is set by StoryReactions when userID reacted with it.
	Mine bool
}
