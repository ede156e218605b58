package chat

// ThreadUpdated: a thread got a reply; its root's summary (reply count,
// last reply, participants, my unread count) changed. Every member gets it
// after the reply's MessageAdded.
type ThreadUpdated struct {
	Cursor         string `json:"-"`
	Ephemeral      bool   `json:"-"`
	ConversationID string `json:"conversationId"`
	RootSeq        int64  `json:"rootSeq"`
	// ReplySeq is the reply that changed it.
	ReplySeq int64 `json:"replySeq"`
}

// EventType implements Event.
func (*ThreadUpdated) EventType() string { return "ThreadUpdated" }

// WithCursor implements Event.
func (e ThreadUpdated) WithCursor(c string) Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func init() { RegisterEvent(func() Event { return &ThreadUpdated{} }) }
